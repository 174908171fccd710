// SPDX-License-Identifier: Apache-2.0
// subprocess.h
//
// Runs a program to completion for tests: argv, extra environment, bytes
// on stdin; returns its exit code, stdout and stderr. Thread-compatible
// (one call at a time per thread); the child inherits nothing else.
#ifndef TOKEND_TESTS_CLIENT_SUBPROCESS_H_
#define TOKEND_TESTS_CLIENT_SUBPROCESS_H_

#include <string>
#include <utility>
#include <vector>

namespace tokend::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or not started
  std::string out;
  std::string err;
};

// RunProcess()
//
// Runs argv[0] (a path) with `env` added to (or replacing entries of) this
// process's environment, `unset_env` names removed, and `input` on stdin.
// Sets this process's SIGPIPE to ignored; the child gets the default.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "",
                         const std::vector<std::pair<std::string, std::string>>& env = {},
                         const std::vector<std::string>& unset_env = {});

}  // namespace tokend::testing

#endif  // TOKEND_TESTS_CLIENT_SUBPROCESS_H_

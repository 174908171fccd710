// SPDX-License-Identifier: Apache-2.0
// client_test_util.h
//
// A temporary directory for a test's sockets, removed with what is in it.
#ifndef TOKEND_TESTS_CLIENT_CLIENT_TEST_UTIL_H_
#define TOKEND_TESTS_CLIENT_CLIENT_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace tokend::testing {

class TempDir {
 public:
  TempDir() {
    // Under /tmp: a socket path must fit in 108 bytes.
    char tmpl[] = "/tmp/tokend-client-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tokend::testing

#endif  // TOKEND_TESTS_CLIENT_CLIENT_TEST_UTIL_H_

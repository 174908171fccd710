// SPDX-License-Identifier: Apache-2.0
// tokenctl_args.h
//
// The command line of one tokenctl subcommand: declared flags, parsed into
// values and positional arguments. A flag is `--name VALUE`, `--name=VALUE`
// or, for a switch, `--name`; a repeatable flag keeps every occurrence in
// order (abseil's flags keep only the last); `--` ends the flags; `-` alone
// is a positional (stdin). Plain values, no global state: thread-safe.
#ifndef TOKEND_TOOLS_TOKENCTL_TOKENCTL_ARGS_H_
#define TOKEND_TOOLS_TOKENCTL_TOKENCTL_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tokend::tokenctl {

struct FlagSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = true;
  bool repeated = false;
};

class ParsedArgs {
 public:
  // True when the switch or flag `name` was given.
  bool Has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  // The value of a single-valued flag, or nullopt.
  std::optional<std::string> Get(std::string_view name) const;
  // Every value of a repeated flag, in command-line order.
  std::vector<std::string> GetAll(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                              const std::vector<FlagSpec>& specs);
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// ParseArgs()
//
// Parses `args` (the words after the subcommand) against `specs`; `--help`
// is always accepted as a switch. InvalidArgument, naming the word, on an
// unknown flag, a missing value, a value given to a switch, or a
// single-valued flag given twice.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs);

// ParseInt64()
//
// A whole decimal number, optionally signed, with nothing around it.
std::optional<int64_t> ParseInt64(std::string_view s);

}  // namespace tokend::tokenctl

#endif  // TOKEND_TOOLS_TOKENCTL_TOKENCTL_ARGS_H_

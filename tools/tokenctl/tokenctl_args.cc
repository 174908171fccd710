// SPDX-License-Identifier: Apache-2.0
#include "tools/tokenctl/tokenctl_args.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace tokend::tokenctl {

std::optional<std::string> ParsedArgs::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs) {
  ParsedArgs out;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (flags_done || word.size() < 2 || word.compare(0, 2, "--") != 0) {
      if (!flags_done && word.size() > 1 && word[0] == '-') {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option ", word, " (options are spelled --name)"));
      }
      out.positionals_.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    std::string_view name = std::string_view(word).substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    FlagSpec help{"help", false, false};
    const FlagSpec* spec = name == "help" ? &help : nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", std::string(name)));
    }
    if (!spec->takes_value) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), " takes no value"));
      }
      value = "";
    } else if (!value.has_value()) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), " needs a value"));
      }
      value = args[++i];
    }
    std::vector<std::string>& slot = out.values_[std::string(name)];
    if (!slot.empty() && !spec->repeated) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", std::string(name), " is given more than once"));
    }
    slot.push_back(*std::move(value));
  }
  return out;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace tokend::tokenctl

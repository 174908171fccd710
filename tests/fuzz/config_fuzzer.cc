// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for ParseConfig(): the input is a command line, its
// arguments separated by NUL bytes. Every input must parse or fail with
// InvalidArgument, and a parsed Config must satisfy the documented ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"tokend"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Environment fallbacks come from the input too: TOKEND_LEEWAY is the
  // last argument.
  const std::string last = args.back();
  tokend::EnvLookup env = [&last](const char* name) -> const char* {
    return std::string(name) == "TOKEND_LEEWAY" ? last.c_str() : nullptr;
  };
  absl::StatusOr<tokend::Config> c =
      tokend::ParseConfig(static_cast<int>(args.size()), argv.data(), env);
  if (!c.ok()) {
    if (c.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (c.status().message().empty()) std::abort();
    return 0;
  }
  if (c->help || c->version) return 0;
  if (c->keys_path.empty() || c->socket_path.empty()) std::abort();
  if (c->max_token_bytes < 1 || c->max_token_bytes > tokend::kMaxTokenBytesLimit) std::abort();
  if (c->threads < 1 || c->max_connections < 1) std::abort();
  if (c->socket_mode > 0777 || c->leeway_seconds < 0 || c->poll_interval_seconds < 0) std::abort();
  for (const std::string& a : c->audiences) {
    if (a.empty()) std::abort();
  }
  return 0;
}

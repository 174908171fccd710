// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: RevocationList::Parse on arbitrary bytes. It must
// never crash; every entry line must be found under each of its readings (a
// line with exactly two dots both as a token and as a jti, any other line as
// a jti only; of an `.apikeys` line, "sha256:..." up to the first space), and
// size() must count each distinct entry once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "daemon/auth/revocation.h"

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto list = tokend::auth::RevocationList::Parse(text);
  std::set<std::string_view> entries;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("sha256:")) {  // an .apikeys line: its digest alone is the entry
      size_t end = 0;
      while (end < line.size() && !IsSpace(line[end])) ++end;
      line = line.substr(0, end);
    }
    entries.insert(line);
    size_t dots = 0;
    for (char c : line) dots += c == '.';
    if (!list->IsRevoked("not-listed", line)) std::abort();  // as a jti
    if (dots == 2 && !list->IsRevoked(line, "")) std::abort();
    if (dots != 2 && list->IsRevoked(line, "")) std::abort();  // not a token
  }
  if (list->size() != entries.size()) std::abort();
  return 0;
}

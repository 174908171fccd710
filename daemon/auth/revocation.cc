// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/revocation.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/auth/regular_file.h"

namespace tokend::auth {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::shared_ptr<const RevocationList> RevocationList::Empty() {
  static const auto* const empty =
      new std::shared_ptr<const RevocationList>(std::make_shared<const RevocationList>());
  return *empty;
}

std::shared_ptr<const RevocationList> RevocationList::Parse(std::string_view text) {
  auto list = std::make_shared<RevocationList>();
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("sha256:")) {  // an .apikeys line: its digest alone
      size_t end = 0;
      while (end < line.size() && !IsSpace(line[end])) ++end;
      line = line.substr(0, end);
    }
    size_t dots = 0;
    for (char c : line) dots += c == '.';
    if (dots == 2) {
      // A compact token, or a jti such as "2024.06.x": filed under both
      // readings, since the line alone cannot say which it is.
      if (list->tokens_.emplace(line).second) ++list->entries_;
      AddToFilter(list->token_filter_, line);
      list->jtis_.emplace(line);
      AddToFilter(list->jti_filter_, line);
    } else {
      if (list->jtis_.emplace(line).second) ++list->entries_;
      AddToFilter(list->jti_filter_, line);
    }
  }
  return list;
}

absl::StatusOr<std::shared_ptr<const RevocationList>> RevocationList::Load(const std::string& path,
                                                                           size_t max_bytes) {
  std::string text;
  absl::Status s = ReadRegularFile(path, max_bytes, text,
                                   "; split it or remove entries whose tokens have expired");
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("revocation list ", s.message()));
  return Parse(text);
}

// The length and the last (up to) eight bytes, mixed: a token's last bytes
// are its MAC, a jti's its most varying part, so two different strings
// rarely share a slot.
size_t RevocationList::FilterSlot(std::string_view s) {
  uint64_t tail = 0;
  const size_t n = s.size() < 8 ? s.size() : 8;
  if (n != 0) std::memcpy(&tail, s.data() + s.size() - n, n);  // data() may be null when empty
  const uint64_t mixed = (tail ^ (uint64_t{s.size()} << 56)) * 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(mixed >> 54);  // 10 bits
}

void RevocationList::AddToFilter(Filter& filter, std::string_view s) {
  const size_t slot = FilterSlot(s);
  filter[slot / 64] |= uint64_t{1} << (slot % 64);
}

bool RevocationList::MayContain(const Filter& filter, std::string_view s) {
  const size_t slot = FilterSlot(s);
  return (filter[slot / 64] >> (slot % 64)) & 1;
}

bool RevocationList::IsRevoked(std::string_view token, std::string_view jti) const {
  // absl::string_view is its own type in Debian's abseil.
  if (!tokens_.empty() && MayContain(token_filter_, token) &&
      tokens_.contains(absl::string_view(token.data(), token.size()))) {
    return true;
  }
  return !jti.empty() && !jtis_.empty() && MayContain(jti_filter_, jti) &&
         jtis_.contains(absl::string_view(jti.data(), jti.size()));
}

}  // namespace tokend::auth

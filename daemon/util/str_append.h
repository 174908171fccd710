// SPDX-License-Identifier: Apache-2.0
// str_append.h
//
// StrAppend() and StrCat() for building text responses: each argument a
// string, string view, C string or integer (decimal). absl::StrAppend would
// serve, but Debian's abseil is built with its own absl::string_view, to
// which std::string_view does not convert. Stateless; thread-safe.
#ifndef TOKEND_DAEMON_UTIL_STR_APPEND_H_
#define TOKEND_DAEMON_UTIL_STR_APPEND_H_

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace tokend {
namespace str_append_internal {

inline void Put(std::string* out, std::string_view s) { out->append(s); }
inline void Put(std::string* out, const char* s) { out->append(s); }
inline void Put(std::string* out, const std::string& s) { out->append(s); }
template <typename N>
requires std::is_integral_v<N> &&(!std::is_same_v<N, char>)void Put(std::string* out, N n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, r.ptr);
}

}  // namespace str_append_internal

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (str_append_internal::Put(out, args), ...);
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string s;
  StrAppend(&s, args...);
  return s;
}

}  // namespace tokend

#endif  // TOKEND_DAEMON_UTIL_STR_APPEND_H_

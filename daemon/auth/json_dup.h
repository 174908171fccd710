// SPDX-License-Identifier: Apache-2.0
// json_dup.h
//
// The one JSON check simdjson's DOM parser leaves to its caller: duplicate
// member names. simdjson accepts {"a":1,"a":2}, at any depth; JOSE headers
// and JWT claims must not (RFC 7515 §5.2, RFC 7519 §4), or two parsers could
// read two different tokens out of the same bytes. Names are compared after
// unescaping, so "\u0061lg" duplicates "alg".
//
// A DuplicateMemberChecker is per-thread scratch (not thread-safe); it
// remembers string views into the document being checked, so it must be
// Reset() before each document.
#ifndef TOKEND_DAEMON_AUTH_JSON_DUP_H_
#define TOKEND_DAEMON_AUTH_JSON_DUP_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tokend::auth {

// Deepest nesting tokend accepts in a header or claims set (objects and
// arrays, the top-level object counting as 1). simdjson's parsers are
// allocated with it, so a deeper document fails to parse, and the checker's
// recursion is bounded by it.
inline constexpr size_t kMaxJsonDepth = 64;

class DuplicateMemberChecker {
 public:
  DuplicateMemberChecker();

  // Forgets every member name of the previous document.
  void Reset() { names_.clear(); }

  // BeginObject() / AddName() / EndObject()
  //
  // For a caller walking an object's members itself: BeginObject() returns a
  // mark, AddName() returns false when `name` was already added since that
  // mark, EndObject() returns false when the object had a duplicate that
  // AddName() did not report (large objects are checked at the end) and
  // forgets the object's names. Objects nest: a member's own object is
  // begun and ended between two AddName() calls of its parent.
  size_t BeginObject() const { return names_.size(); }
  [[nodiscard]] bool AddName(size_t mark, std::string_view name) {
    const uint64_t fp = Fingerprint(name);
    if (names_.size() - mark < kPairwiseLimit) {
      for (size_t i = mark; i < names_.size(); ++i) {
        if (names_[i].fingerprint == fp && names_[i].name == name) return false;
      }
    }
    names_.push_back({fp, name});
    return true;
  }
  [[nodiscard]] bool EndObject(size_t mark) {
    if (names_.size() - mark > kPairwiseLimit) return EndLargeObject(mark);
    names_.resize(mark);
    return true;
  }

  // Check()
  //
  // True when no object in `value` (itself included) has two members of the
  // same name.
  [[nodiscard]] bool Check(simdjson::dom::element value);

 private:
  // Objects up to this many members are checked pairwise as names arrive
  // (fast for the handful of members tokens have); larger ones are sorted
  // once at the end, so an object of n members costs O(n log n), not O(n²).
  static constexpr size_t kPairwiseLimit = 16;

  struct Name {
    uint64_t fingerprint;  // cheap pre-filter: length and three bytes
    std::string_view name;
  };
  bool EndLargeObject(size_t mark);
  static uint64_t Fingerprint(std::string_view name) {
    if (name.empty()) return 0;
    const auto byte = [&](size_t i) { return uint64_t{static_cast<uint8_t>(name[i])}; };
    return (uint64_t{name.size()} << 24) | (byte(0) << 16) | (byte(name.size() / 2) << 8) |
           byte(name.size() - 1);
  }

  std::vector<Name> names_;  // members of every object being walked, stacked
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_JSON_DUP_H_

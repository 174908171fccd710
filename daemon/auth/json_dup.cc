// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/json_dup.h"

#include <algorithm>

namespace tokend::auth {

DuplicateMemberChecker::DuplicateMemberChecker() { names_.reserve(64); }

bool DuplicateMemberChecker::EndLargeObject(size_t mark) {
  const auto first = names_.begin() + static_cast<ptrdiff_t>(mark);
  std::sort(first, names_.end(), [](const Name& a, const Name& b) {
    return a.fingerprint != b.fingerprint ? a.fingerprint < b.fingerprint : a.name < b.name;
  });
  const bool ok = std::adjacent_find(first, names_.end(), [](const Name& a, const Name& b) {
                    return a.fingerprint == b.fingerprint && a.name == b.name;
                  }) == names_.end();
  names_.resize(mark);
  return ok;
}

bool DuplicateMemberChecker::Check(simdjson::dom::element value) {
  // Recursion depth is bounded by kMaxJsonDepth: the parser refused deeper
  // documents.
  switch (value.type()) {
    case simdjson::dom::element_type::OBJECT: {
      const size_t mark = BeginObject();
      // A local: value_unsafe() returns a reference into the temporary result.
      const simdjson::dom::object object = value.get_object().value_unsafe();
      for (const simdjson::dom::key_value_pair member : object) {
        if (!AddName(mark, member.key) || !Check(member.value)) {
          names_.resize(mark);
          return false;
        }
      }
      return EndObject(mark);
    }
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array array = value.get_array().value_unsafe();
      for (const simdjson::dom::element item : array) {
        if (!Check(item)) return false;
      }
      return true;
    }
    default:
      return true;  // scalars: the DOM parser has validated them already
  }
}

}  // namespace tokend::auth

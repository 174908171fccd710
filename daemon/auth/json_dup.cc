#include "daemon/auth/json_dup.h"

#include <algorithm>

namespace tokend::auth {
namespace {

// Objects up to this many members are checked pairwise as names arrive
// (fast for the handful of members tokens have); larger ones are sorted
// once at the end, so an object of n members costs O(n log n), not O(n²).
constexpr size_t kPairwiseLimit = 16;

}  // namespace

DuplicateMemberChecker::DuplicateMemberChecker() { names_.reserve(64); }

uint64_t DuplicateMemberChecker::Fingerprint(std::string_view name) {
  if (name.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(name[i])); };
  return (static_cast<uint64_t>(name.size()) << 24) | (byte(0) << 16) |
         (byte(name.size() / 2) << 8) | byte(name.size() - 1);
}

bool DuplicateMemberChecker::AddName(size_t mark, std::string_view name) {
  const uint64_t fp = Fingerprint(name);
  if (names_.size() - mark < kPairwiseLimit) {
    for (size_t i = mark; i < names_.size(); ++i) {
      if (names_[i].fingerprint == fp && names_[i].name == name) return false;
    }
  }
  names_.push_back({fp, name});
  return true;
}

bool DuplicateMemberChecker::EndObject(size_t mark) {
  bool ok = true;
  if (names_.size() - mark > kPairwiseLimit) {
    const auto first = names_.begin() + static_cast<ptrdiff_t>(mark);
    const auto less = [](const Name& a, const Name& b) {
      return a.fingerprint != b.fingerprint ? a.fingerprint < b.fingerprint : a.name < b.name;
    };
    std::sort(first, names_.end(), less);
    ok = std::adjacent_find(first, names_.end(), [](const Name& a, const Name& b) {
           return a.fingerprint == b.fingerprint && a.name == b.name;
         }) == names_.end();
  }
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

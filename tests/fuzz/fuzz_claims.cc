// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: ClaimsParser::ParseUnpadded on arbitrary bytes,
// checked two ways. Against a simple reference, simdjson's DOM parser plus
// a std::set of member names per object: a document with a duplicate member
// must be refused; an accepted one must parse in the reference and have
// none. And differentially: the default parser (flat fast path first) must
// give exactly the status and claims of the DOM-only parser.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "daemon/auth/claims.h"
#include "daemon/auth/json_dup.h"

namespace {

bool HasDuplicate(simdjson::dom::element e) {
  if (e.is_object()) {
    std::set<std::string_view> names;
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto member : object) {
      if (!names.insert(member.key).second || HasDuplicate(member.value)) return true;
    }
  } else if (e.is_array()) {
    const simdjson::dom::array array = e.get_array().value_unsafe();
    for (auto item : array) {
      if (HasDuplicate(item)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tokend::auth::ClaimsParser;
  static ClaimsParser* parser = new ClaimsParser();
  static ClaimsParser* dom_only = new ClaimsParser(ClaimsParser::Path::kDomOnly);
  static simdjson::dom::parser* reference = [] {
    auto* p = new simdjson::dom::parser();
    if (p->allocate(1 << 16, tokend::auth::kMaxJsonDepth) != simdjson::SUCCESS) std::abort();
    return p;
  }();
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  tokend::auth::ClaimsView view;
  const tokend::auth::Status s = parser->ParseUnpadded(json, &view);
  if (s != tokend::auth::Status::kOk && s != tokend::auth::Status::kMalformed) std::abort();
  tokend::auth::ClaimsView dom_view;
  if (dom_only->ParseUnpadded(json, &dom_view) != s) std::abort();
  if (view.present != dom_view.present || view.exp != dom_view.exp || view.nbf != dom_view.nbf ||
      view.iat != dom_view.iat || view.iss != dom_view.iss || view.sub != dom_view.sub ||
      view.jti != dom_view.jti ||
      !std::equal(view.aud.begin(), view.aud.end(), dom_view.aud.begin(), dom_view.aud.end())) {
    std::abort();
  }

  simdjson::dom::element root;
  const bool ref_ok = reference->parse(json.data(), json.size()).get(root) == simdjson::SUCCESS;
  const bool ref_object = ref_ok && root.is_object();
  const bool ref_dup = ref_object && HasDuplicate(root);
  if (ref_dup && s == tokend::auth::Status::kOk) std::abort();
  if (s == tokend::auth::Status::kOk) {
    if (!ref_object) std::abort();
    // Every view is readable and every claim marked present is consistent.
    size_t total = view.iss.size() + view.sub.size() + view.jti.size();
    for (std::string_view a : view.aud) total += a.size();
    if (!view.has(tokend::auth::kClaimAud) && !view.aud.empty()) std::abort();
    if (total > size) std::abort();
  }
  return 0;
}

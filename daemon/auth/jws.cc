// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/jws.h"

#include <simdjson.h>

#include <array>
#include <cstring>
#include <utility>

#include "daemon/auth/base64url.h"
#include "daemon/auth/json_dup.h"

namespace tokend::auth {
namespace {

// Recently seen headers remembered by HeaderParser, and the longest header
// it remembers (a header is usually 30 to 60 characters).
constexpr size_t kMemoSlots = 4;
constexpr size_t kMaxMemoHeaderBytes = 512;

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Header parameters tokend refuses (kUnsupportedHeader): those that would
// change how the signature is checked or what it covers (crit, b64), that
// point at keys the token carries or names (jku, x5u, jwk, x5c), and the JWE
// parameters (RFC 7516 §4.1, RFC 7518 §4.6-4.8): tokend validates JWS only.
bool IsUnsupportedParameter(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "crit", "b64", "jku", "x5u", "jwk", "x5c", "enc", "zip",
      "epk",  "apu", "apv", "iv",  "tag", "p2s", "p2c",
  };
  for (std::string_view n : kNames) {
    if (name == n) return true;
  }
  return false;
}

// What one header's bytes say, independent of the algorithms a caller
// allows, so the memo can answer any caller.
struct ParsedHeader {
  JoseHeader header;         // alg is an HS alg
  bool unsupported = false;  // has a parameter tokend refuses
};

}  // namespace

Status SplitCompact(std::string_view token, JwsSegments* out) {
  size_t dots[2];
  size_t count = 0;
  if (!Base64UrlFindDots(token, dots, &count) || count != 2) return Status::kMalformed;
  out->header = token.substr(0, dots[0]);
  out->payload = token.substr(dots[0] + 1, dots[1] - dots[0] - 1);
  out->signature = token.substr(dots[1] + 1);
  out->signing_input = token.substr(0, dots[1]);
  return Status::kOk;
}

struct HeaderParser::Impl {
  struct Slot {
    bool used = false;
    std::string b64;  // the header segment exactly as it came
    ParsedHeader parsed;
  };

  Impl() {
    // A header larger than the preallocated capacity grows the parser once.
    // On failure, the first parse allocates again (and fails if memory is
    // still short).
    [[maybe_unused]] const simdjson::error_code err = parser.allocate(1024, kMaxJsonDepth);
  }

  // Decodes and parses one header segment. kOk means a well-formed header
  // with an HS alg (which may still be unsupported or not allowed).
  Status ParseSegment(std::string_view header_b64, ParsedHeader* out);

  simdjson::dom::parser parser;
  DuplicateMemberChecker dups;
  std::string json;  // decoded header + kJsonPadding bytes
  // slots[kMemoSlots] is scratch for a header being parsed.
  std::array<Slot, kMemoSlots + 1> slots;
  size_t next_victim = 0;
};

Status HeaderParser::Impl::ParseSegment(std::string_view header_b64, ParsedHeader* out) {
  const size_t max_len = Base64UrlDecodedSize(header_b64.size());
  if (json.size() < max_len + simdjson::SIMDJSON_PADDING)
    json.resize(max_len + simdjson::SIMDJSON_PADDING);
  size_t len = 0;
  if (!Base64UrlDecodeTo(header_b64, reinterpret_cast<uint8_t*>(json.data()), &len)) {
    return Status::kMalformed;
  }
  simdjson::dom::element root;
  if (parser.parse(json.data(), len, /*realloc_if_needed=*/false).get(root) != simdjson::SUCCESS) {
    return Status::kMalformed;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return Status::kMalformed;

  // Walk every member: the whole header must be well formed before any other
  // verdict, then the alg decides, then unsupported parameters.
  dups.Reset();
  const size_t mark = dups.BeginObject();
  bool malformed = false;
  bool has_alg = false;
  std::string_view alg;
  out->header = JoseHeader{};
  out->unsupported = false;
  for (const simdjson::dom::key_value_pair member : object) {
    const std::string_view name = member.key;
    const simdjson::dom::element value = member.value;
    if (!dups.AddName(mark, name) || !dups.Check(value)) return Status::kMalformed;
    if (name == "alg") {
      has_alg = true;
      malformed |= value.get_string().get(alg) != simdjson::SUCCESS;
    } else if (name == "kid") {
      std::string_view kid;
      if (value.get_string().get(kid) != simdjson::SUCCESS) {
        malformed = true;
      } else {
        out->header.has_kid = true;
        out->header.kid.assign(kid);
      }
    } else if (name == "typ") {
      malformed |= !value.is_string();
    } else if (name == "cty") {
      std::string_view cty;
      if (value.get_string().get(cty) != simdjson::SUCCESS) {
        malformed = true;
      } else if (EqualsIgnoreAsciiCase(cty, "JWT")) {
        out->unsupported = true;  // a nested JWT
      }
    } else if (IsUnsupportedParameter(name)) {
      out->unsupported = true;
    }
  }
  if (!dups.EndObject(mark) || malformed || !has_alg) return Status::kMalformed;
  // Only the exact names of the known algorithms pass: "none" in any
  // spelling, "hs256", "ES256K", "Ed25519" and anything else do not.
  out->header.alg = AlgFromName(alg);
  if (out->header.alg == Alg::kUnknown) return Status::kAlgNotAllowed;
  return Status::kOk;
}

HeaderParser::HeaderParser() : impl_(std::make_unique<Impl>()) {}
HeaderParser::~HeaderParser() = default;

Status HeaderParser::Parse(std::string_view header_b64, AlgSet allowed, const JoseHeader** out) {
  const auto verdict = [&](const Impl::Slot& slot) {
    // The header parsed: the caller may report its alg whatever the answer.
    *out = &slot.parsed.header;
    if (!allowed.Contains(slot.parsed.header.alg)) return Status::kAlgNotAllowed;
    if (slot.parsed.unsupported) return Status::kUnsupportedHeader;
    return Status::kOk;
  };
  // The memo: the same bytes always parse the same way, so a header seen
  // before needs neither base64url nor JSON. Compared in full.
  for (size_t i = 0; i < kMemoSlots; ++i) {
    const Impl::Slot& slot = impl_->slots[i];
    if (slot.used && slot.b64.size() == header_b64.size() &&
        std::memcmp(slot.b64.data(), header_b64.data(), header_b64.size()) == 0) {
      return verdict(slot);
    }
  }
  Impl::Slot& scratch = impl_->slots[kMemoSlots];
  scratch.used = false;
  if (Status s = impl_->ParseSegment(header_b64, &scratch.parsed); s != Status::kOk) return s;
  if (header_b64.size() > kMaxMemoHeaderBytes) return verdict(scratch);
  Impl::Slot& slot = impl_->slots[impl_->next_victim];
  impl_->next_victim = (impl_->next_victim + 1) % kMemoSlots;
  std::swap(slot, scratch);
  slot.b64.assign(header_b64);
  slot.used = true;
  return verdict(slot);
}

}  // namespace tokend::auth

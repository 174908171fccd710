// SPDX-License-Identifier: Apache-2.0
// claims.h
//
// Parses a JWT payload (the decoded JSON) with simdjson into the registered
// claims tokend checks. A ClaimsParser is per thread: not thread-safe; the
// views it returns point into its own buffers or into the input, and live
// until its next Parse or until the input changes, whichever comes first.
#ifndef TOKEND_DAEMON_AUTH_CLAIMS_H_
#define TOKEND_DAEMON_AUTH_CLAIMS_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "daemon/auth/status.h"

namespace tokend::auth {

// Registered claims, as bits of ClaimsView::present and Policy::required_claims.
enum ClaimBit : uint32_t {
  kClaimExp = 1u << 0,
  kClaimNbf = 1u << 1,
  kClaimIat = 1u << 2,
  kClaimIss = 1u << 3,
  kClaimSub = 1u << 4,
  kClaimAud = 1u << 5,
  kClaimJti = 1u << 6,
};

// RegisteredClaim()
//
// The ClaimBit of a registered claim's name ("exp", "nbf", "iat", "iss",
// "sub", "aud", "jti"), compared byte for byte (a caller unescapes first),
// or 0 for any other name.
inline uint32_t RegisteredClaim(std::string_view name) {
  // All seven are three bytes long: compare them as one integer each.
  if (name.size() != 3) return 0;
  constexpr auto key = [](char a, char b, char c) {
    return static_cast<uint32_t>(static_cast<uint8_t>(a)) |
           static_cast<uint32_t>(static_cast<uint8_t>(b)) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(c)) << 16;
  };
  switch (key(name[0], name[1], name[2])) {
    case key('e', 'x', 'p'):
      return kClaimExp;
    case key('n', 'b', 'f'):
      return kClaimNbf;
    case key('i', 'a', 't'):
      return kClaimIat;
    case key('i', 's', 's'):
      return kClaimIss;
    case key('s', 'u', 'b'):
      return kClaimSub;
    case key('a', 'u', 'd'):
      return kClaimAud;
    case key('j', 't', 'i'):
      return kClaimJti;
    default:
      return 0;
  }
}

// The claims of one token. NumericDates are whole seconds: exp rounded down,
// nbf and iat rounded up, so rounding never extends a token's life.
struct ClaimsView {
  uint32_t present = 0;  // ClaimBit values
  int64_t exp = 0;
  int64_t nbf = 0;
  int64_t iat = 0;
  std::string_view iss;
  std::string_view sub;
  std::string_view jti;
  std::span<const std::string_view> aud;  // a string `aud` is a one-element span

  bool has(ClaimBit bit) const { return (present & bit) != 0; }

  // Back to no claims. Field by field: assigning a whole ClaimsView{}
  // compiles to `rep stos`, which costs more than a small document's scan.
  void Clear() {
    present = 0;
    exp = nbf = iat = 0;
    iss = sub = jti = {};
    aud = {};
  }
};

class ClaimsParser {
 public:
  // kFlatFirst tries ScanFlatClaims() (flat_claims.h) and falls back to
  // simdjson's DOM parser when it declines; kDomOnly always uses the DOM
  // parser. Both give the same answer for every input (the claims fuzzer
  // and tests compare them); kDomOnly exists for that comparison.
  enum class Path { kFlatFirst, kDomOnly };

  explicit ClaimsParser(Path path = Path::kFlatFirst);
  ~ClaimsParser();
  ClaimsParser(const ClaimsParser&) = delete;
  ClaimsParser& operator=(const ClaimsParser&) = delete;

  // Parse()
  //
  // Parses `json` as one JSON object and fills *out. Returns kMalformed when
  // it is not exactly one object (trailing bytes included), is not valid
  // JSON anywhere (UTF-8, escapes, numbers: simdjson also refuses numbers
  // beyond the double range and integers beyond uint64), nests deeper than
  // 64 levels, has a duplicate member name at any depth (compared after
  // unescaping), or a registered claim of the wrong type: exp/nbf/iat not a
  // finite number in int64 range, aud not a string or array of strings
  // (an empty array is no audience), iss/sub/jti not strings. On failure
  // *out is left empty. Views in *out may point into `json`.
  // REQUIRES: SIMDJSON_PADDING readable bytes follow json.end() (see
  // kJsonPadding); ParseUnpadded() copies when the caller cannot promise it,
  // and its views then point into the copy, never into `json`.
  Status Parse(std::string_view json, ClaimsView* out);
  Status ParseUnpadded(std::string_view json, ClaimsView* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bytes that must be readable after a JSON document handed to simdjson.
inline constexpr size_t kJsonPadding = 64;

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_CLAIMS_H_

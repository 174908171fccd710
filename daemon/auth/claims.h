// claims.h
//
// Parses a JWT payload (the decoded JSON) with simdjson into the registered
// claims tokend checks. A ClaimsParser is per thread: not thread-safe; the
// views it returns point into its own buffers and live until its next Parse.
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
};

class ClaimsParser {
 public:
  ClaimsParser();
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
  // *out is left empty.
  // REQUIRES: SIMDJSON_PADDING readable bytes follow json.end() (see
  // kJsonPadding); ParseUnpadded() copies when the caller cannot promise it.
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

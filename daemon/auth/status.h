// status.h
//
// The closed set of answers a token validation can give, with exactly the
// numeric values of docs/protocol.md "Status codes", and the HMAC
// algorithms tokend knows. The names of both come from the protocol's one
// table (protocol/codes.h). Plain values: thread-safe, no ownership.
#ifndef TOKEND_DAEMON_AUTH_STATUS_H_
#define TOKEND_DAEMON_AUTH_STATUS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/codes.h"

namespace tokend::auth {

enum class Status : uint8_t {
  kOk = 0,                  // signature and every configured check pass
  kMalformed = 1,           // bad segments, base64url, JSON, duplicates, claim types
  kBadSignature = 2,        // the MAC does not verify under the selected key
  kUnknownKey = 3,          // `kid` names no loaded key, or no key is loaded
  kAlgNotAllowed = 4,       // `none`, non-HMAC, disallowed, or not the key's bound alg
  kExpired = 5,             // `exp` at or before now - leeway
  kNotYetValid = 6,         // `nbf` (or checked `iat`) after now + leeway
  kAudienceMismatch = 7,    // expected audience not in `aud`
  kIssuerMismatch = 8,      // `iss` missing or not allowed, when issuers are configured
  kRevoked = 9,             // token or its `jti` is on the revocation list
  kTooLarge = 10,           // token longer than the configured maximum
  kMissingClaim = 11,       // a claim the policy requires is absent
  kUnsupportedHeader = 12,  // `crit`, `b64`, `jku`, `x5u`, `jwk`, `x5c`, `cty: JWT`, ...
  kUnknownToken = 13,       // an opaque token that matches no loaded API key
};

inline constexpr int kStatusCount = static_cast<int>(protocol::kStatusCount);
static_assert(static_cast<int>(Status::kUnknownToken) < kStatusCount);

// StatusName()
//
// The protocol name of `s` ("OK", "MALFORMED", ...); "UNKNOWN" for a value
// outside the table.
constexpr std::string_view StatusName(Status s) {
  return protocol::StatusName(static_cast<uint8_t>(s));
}

enum class Alg : uint8_t {
  kUnknown = 0,
  kHS256 = 1,
  kHS384 = 2,
  kHS512 = 3,
  kApiKey = 64,  // an opaque API key (api_keys.h), not a JWS alg
};

// AlgName()
//
// "HS256", "HS384", "HS512", "apikey", or "unknown".
constexpr std::string_view AlgName(Alg alg) { return protocol::AlgName(static_cast<uint8_t>(alg)); }

// AlgFromName()
//
// The Alg spelled exactly (case-sensitive) `name`, or kUnknown.
constexpr Alg AlgFromName(std::string_view name) {
  return static_cast<Alg>(protocol::AlgFromName(name));
}

// AlgHashSize()
//
// Hash output bytes of `alg` (32, 48, 64), which is also the MAC length and
// the minimum key length (RFC 7518 §3.2); 0 for kUnknown.
constexpr size_t AlgHashSize(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return 32;
    case Alg::kHS384:
      return 48;
    case Alg::kHS512:
      return 64;
    case Alg::kUnknown:
    case Alg::kApiKey:
      break;
  }
  return 0;
}

// A set of algorithms as a bit mask: bit (1 << static_cast<int>(alg)).
class AlgSet {
 public:
  constexpr AlgSet() = default;
  static constexpr AlgSet AllHmac() {
    AlgSet s;
    s.Add(Alg::kHS256);
    s.Add(Alg::kHS384);
    s.Add(Alg::kHS512);
    return s;
  }
  constexpr void Add(Alg alg) { bits_ |= Bit(alg); }
  constexpr bool Contains(Alg alg) const { return alg != Alg::kUnknown && (bits_ & Bit(alg)); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const AlgSet&) const = default;

 private:
  static constexpr uint8_t Bit(Alg alg) {
    return static_cast<int>(alg) < 8 ? static_cast<uint8_t>(1u << static_cast<int>(alg)) : 0;
  }
  uint8_t bits_ = 0;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_STATUS_H_

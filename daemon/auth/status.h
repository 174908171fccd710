// SPDX-License-Identifier: Apache-2.0
// status.h
//
// The closed set of answers a token validation can give, with exactly the
// numeric values of docs/protocol.md "Status codes", and the algorithms
// tokend knows (the JWS ones, codes 1-13, and opaque API keys, 64). The
// names of both come from the protocol's one table (protocol/codes.h).
// Plain values: thread-safe, no ownership.
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
  kAlgNotAllowed = 4,       // `none`, unknown, disallowed, not the key's alg or key type
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
  kRS256 = 4,  // RSASSA-PKCS1-v1_5
  kRS384 = 5,
  kRS512 = 6,
  kPS256 = 7,  // RSASSA-PSS, MGF1 with the same hash, salt = hash length
  kPS384 = 8,
  kPS512 = 9,
  kES256 = 10,  // ECDSA P-256, signature r||s (RFC 7518 3.4)
  kES384 = 11,
  kES512 = 12,   // P-521
  kEdDSA = 13,   // Ed25519 (RFC 8037)
  kApiKey = 64,  // an opaque API key (api_keys.h), not a JWS alg
};

// One past the largest JWS Alg value (kEdDSA): size of tables indexed by a
// JWS Alg. kApiKey is never such an index.
inline constexpr size_t kAlgCount = 14;

// The algorithm family: which key type may verify it.
enum class AlgFamily : uint8_t { kNone, kHmac, kRsa, kEcdsa, kEdDSA };

constexpr AlgFamily FamilyOf(Alg alg) {
  const int a = static_cast<int>(alg);
  if (a >= 1 && a <= 3) return AlgFamily::kHmac;
  if (a >= 4 && a <= 9) return AlgFamily::kRsa;
  if (a >= 10 && a <= 12) return AlgFamily::kEcdsa;
  if (a == 13) return AlgFamily::kEdDSA;
  return AlgFamily::kNone;
}

// AlgName()
//
// The JWS name ("HS256", ..., "ES512", "EdDSA"), "apikey", or "unknown".
constexpr std::string_view AlgName(Alg alg) { return protocol::AlgName(static_cast<uint8_t>(alg)); }

// AlgFromName()
//
// The JWS Alg spelled exactly (case-sensitive) `name`, or kUnknown (also
// for "apikey": a JWS header can never name alg 64).
constexpr Alg AlgFromName(std::string_view name) {
  const uint8_t code = protocol::AlgFromName(name);
  return code < kAlgCount ? static_cast<Alg>(code) : Alg::kUnknown;
}

// AlgHashSize()
//
// For an HS alg: hash output bytes (32, 48, 64), which is also the MAC length
// and the minimum key length (RFC 7518 §3.2); 0 for every other alg.
constexpr size_t AlgHashSize(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return 32;
    case Alg::kHS384:
      return 48;
    case Alg::kHS512:
      return 64;
    default:
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
  static constexpr AlgSet All() {
    AlgSet s;
    for (size_t i = 1; i < kAlgCount; ++i) s.Add(static_cast<Alg>(i));
    return s;
  }
  constexpr void Add(Alg alg) { bits_ |= Bit(alg); }
  constexpr bool Contains(Alg alg) const { return alg != Alg::kUnknown && (bits_ & Bit(alg)); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const AlgSet&) const = default;

 private:
  static constexpr uint16_t Bit(Alg alg) {
    // Only JWS algorithms (codes below 16) can be allowed by a policy.
    return static_cast<int>(alg) < 16 ? static_cast<uint16_t>(1u << static_cast<int>(alg)) : 0;
  }
  uint16_t bits_ = 0;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_STATUS_H_

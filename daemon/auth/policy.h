// SPDX-License-Identifier: Apache-2.0
// policy.h
//
// What a valid token must satisfy beyond its signature, and the one function
// that checks a verified token's claims against it. The cache's hit path and
// the verifier both call CheckClaims(), so a hit and a miss answer alike.
// A Policy is immutable once the daemon starts: share it by const reference.
#ifndef TOKEND_DAEMON_AUTH_POLICY_H_
#define TOKEND_DAEMON_AUTH_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/auth/claims.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/status.h"

namespace tokend::auth {

struct Policy {
  // Expected audiences; a token passes when its `aud` contains any of them.
  // A request's own audience replaces this list. Empty: no audience check.
  std::vector<std::string> audiences;
  // Allowed issuers. Empty: `iss` is not checked.
  std::vector<std::string> issuers;
  // Clock skew tolerated on exp, nbf and iat, in seconds.
  int64_t leeway_seconds = 30;
  // Longest token accepted; longer ones get kTooLarge.
  size_t max_token_bytes = 8192;
  // Claims that must be present (ClaimBit values or-ed); default `exp`.
  uint32_t required_claims = kClaimExp;
  // When true, an `iat` after now + leeway gives kNotYetValid.
  bool check_iat = false;
  // Algorithms accepted in the header (each key still serves only its own).
  AlgSet allowed_algs = AlgSet::All();
};

// CheckClaims()
//
// Checks the claims of a token whose signature has already verified: required
// claims (kMissingClaim), exp (kExpired when exp <= now - leeway), nbf and,
// when enabled, iat (kNotYetValid when > now + leeway), issuer
// (kIssuerMismatch), audience (kAudienceMismatch; a non-empty
// `request_audience` replaces policy.audiences) and revocation of the token
// or its jti (kRevoked, when `revoked` is non-null). Returns kOk when all pass.
Status CheckClaims(const Policy& policy, const ClaimsView& claims, std::string_view token,
                   std::string_view request_audience, const RevocationList* revoked, int64_t now);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_POLICY_H_

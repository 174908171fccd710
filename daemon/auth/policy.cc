// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/policy.h"

namespace tokend::auth {
namespace {

template <typename Strings>
bool Contains(const Strings& list, std::string_view value) {
  for (const auto& item : list) {
    if (std::string_view(item) == value) return true;
  }
  return false;
}

}  // namespace

Status CheckClaims(const Policy& policy, const ClaimsView& claims, std::string_view token,
                   std::string_view request_audience, const RevocationList* revoked, int64_t now) {
  if ((claims.present & policy.required_claims) != policy.required_claims) {
    return Status::kMissingClaim;
  }
  // Saturating: a huge leeway or a clock near the int64 ends cannot wrap.
  const int64_t leeway = policy.leeway_seconds < 0 ? 0 : policy.leeway_seconds;
  int64_t earliest = 0, latest = 0;  // now - leeway, now + leeway
  if (__builtin_sub_overflow(now, leeway, &earliest)) earliest = INT64_MIN;
  if (__builtin_add_overflow(now, leeway, &latest)) latest = INT64_MAX;
  if (claims.has(kClaimExp) && claims.exp <= earliest) return Status::kExpired;
  if (claims.has(kClaimNbf) && claims.nbf > latest) return Status::kNotYetValid;
  if (policy.check_iat && claims.has(kClaimIat) && claims.iat > latest) {
    return Status::kNotYetValid;
  }
  if (!policy.issuers.empty() &&
      (!claims.has(kClaimIss) || !Contains(policy.issuers, claims.iss))) {
    return Status::kIssuerMismatch;
  }
  // A request's own audience replaces the configured ones.
  bool audience_ok = true;
  if (!request_audience.empty()) {
    audience_ok = Contains(claims.aud, request_audience);
  } else if (!policy.audiences.empty()) {
    audience_ok = false;
    for (const std::string& expected : policy.audiences) {
      if (Contains(claims.aud, expected)) {
        audience_ok = true;
        break;
      }
    }
  }
  if (!audience_ok) return Status::kAudienceMismatch;
  if (revoked != nullptr && revoked->IsRevoked(token, claims.jti)) return Status::kRevoked;
  return Status::kOk;
}

}  // namespace tokend::auth

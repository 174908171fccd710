#include "daemon/auth/status.h"

namespace tokend::auth {

std::string_view StatusName(Status s) {
  switch (s) {
    case Status::kOk:
      return "OK";
    case Status::kMalformed:
      return "MALFORMED";
    case Status::kBadSignature:
      return "BAD_SIGNATURE";
    case Status::kUnknownKey:
      return "UNKNOWN_KEY";
    case Status::kAlgNotAllowed:
      return "ALG_NOT_ALLOWED";
    case Status::kExpired:
      return "EXPIRED";
    case Status::kNotYetValid:
      return "NOT_YET_VALID";
    case Status::kAudienceMismatch:
      return "AUDIENCE_MISMATCH";
    case Status::kIssuerMismatch:
      return "ISSUER_MISMATCH";
    case Status::kRevoked:
      return "REVOKED";
    case Status::kTooLarge:
      return "TOO_LARGE";
    case Status::kMissingClaim:
      return "MISSING_CLAIM";
    case Status::kUnsupportedHeader:
      return "UNSUPPORTED_HEADER";
  }
  return "UNKNOWN";
}

namespace {
constexpr std::string_view kAlgNames[kAlgCount] = {
    "unknown", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
    "PS256",   "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
};
}  // namespace

std::string_view AlgName(Alg alg) {
  const auto i = static_cast<size_t>(alg);
  return i < kAlgCount ? kAlgNames[i] : kAlgNames[0];
}

Alg AlgFromName(std::string_view name) {
  for (size_t i = 1; i < kAlgCount; ++i) {
    if (name == kAlgNames[i]) return static_cast<Alg>(i);
  }
  return Alg::kUnknown;
}

}  // namespace tokend::auth

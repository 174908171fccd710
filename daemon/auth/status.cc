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
    case Status::kUnknownToken:
      return "UNKNOWN_TOKEN";
  }
  return "UNKNOWN";
}

std::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return "HS256";
    case Alg::kHS384:
      return "HS384";
    case Alg::kHS512:
      return "HS512";
    case Alg::kApiKey:
      return "apikey";
    case Alg::kUnknown:
      break;
  }
  return "unknown";
}

Alg AlgFromName(std::string_view name) {
  if (name == "HS256") return Alg::kHS256;
  if (name == "HS384") return Alg::kHS384;
  if (name == "HS512") return Alg::kHS512;
  return Alg::kUnknown;
}

}  // namespace tokend::auth

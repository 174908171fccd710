// verifier.h
//
// The full check of one compact JWS against a key set and a policy, in the
// order that keeps the claims untouched until the MAC has verified:
//   size -> split -> header (memoized) -> key selection -> MAC -> payload
//   base64url -> claims JSON -> CheckClaims (policy.h).
// A Verifier owns one thread's scratch (MAC context, JSON parsers, decode
// buffers): not thread-safe, one per thread. The Policy must outlive it.
#ifndef TOKEND_DAEMON_AUTH_VERIFIER_H_
#define TOKEND_DAEMON_AUTH_VERIFIER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/auth/claims.h"
#include "daemon/auth/hmac.h"
#include "daemon/auth/jws.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/status.h"

namespace tokend::auth {

struct VerifyResult {
  Status status = Status::kMalformed;
  // The header's alg once the header parsed as an HMAC alg, else kUnknown.
  Alg alg = Alg::kUnknown;
  // Set once the MAC verified (status is then kOk or a claims/policy status):
  const Key* key = nullptr;        // the key that verified it
  std::string_view payload_json;   // decoded payload, without padding
  bool claims_parsed = false;      // `claims` holds the token's claims
  ClaimsView claims;
};

class Verifier {
 public:
  explicit Verifier(const Policy& policy);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Verify()
  //
  // Checks `token` against `keys` and the policy at time `now` (seconds since
  // the epoch). A non-empty `audience` replaces the policy's audiences. Views
  // in *out live until this Verifier's next call.
  void Verify(std::string_view token, std::string_view audience, const KeySet& keys, int64_t now,
              VerifyResult* out);

  // VerifySignature()
  //
  // The JWS layer alone: size, split, header, key selection and MAC. Leaves
  // the payload undecoded. For tests of the JWS layer and for callers that
  // check claims themselves.
  Status VerifySignature(std::string_view token, const Keyring& keys, VerifyResult* out);

  const Policy& policy() const { return policy_; }

 private:
  const Policy& policy_;
  HmacComputer hmac_;
  HeaderParser header_parser_;
  ClaimsParser claims_parser_;
  std::string payload_buf_;  // decoded payload + kJsonPadding
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_VERIFIER_H_

// SPDX-License-Identifier: Apache-2.0
// verifier.h
//
// The full check of one compact JWS against a key set and a policy, in the
// order that keeps the claims untouched until the MAC has verified:
//   size -> split -> header (memoized) -> key selection -> signature
//   base64url -> MAC or signature (signature.h) -> payload base64url ->
//   claims JSON -> the key's issuer binding -> CheckClaims (policy.h).
// Key selection: a header `kid` names the one key to use (none loaded:
// kUnknownKey; that key does not serve the header's alg, being bound to
// another alg or too short for it: kAlgNotAllowed). Without `kid`, every key
// serving the alg is tried in load order (none: kUnknownKey).
//
// A Verifier owns one thread's scratch (MAC context, JSON parsers, decode
// buffers): not thread-safe, one per thread. The Policy must outlive it. A
// call allocates nothing once the payload buffer has reached the size of the
// largest payload seen (it starts sized for policy.max_token_bytes, up to
// 64 KiB) and each public key has been used once with each of its algs (the
// first use builds this thread's prepared context, signature.h).
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
#include "daemon/auth/signature.h"
#include "daemon/auth/status.h"

namespace tokend::auth {

struct VerifyResult {
  Status status = Status::kMalformed;
  // The header's alg once the header parsed, else kUnknown.
  Alg alg = Alg::kUnknown;
  // Set once the MAC verified (status is then kOk, kMalformed for a payload
  // that is not canonical base64url or not a valid claims object, or a
  // claims/policy status):
  const Key* key = nullptr;       // the key that verified it
  std::string_view payload_json;  // decoded payload, without padding
  bool claims_parsed = false;     // `claims` holds the token's claims
  ClaimsView claims;

  // Back to the state of a default VerifyResult, field by field (see
  // ClaimsView::Clear()).
  void Reset() {
    status = Status::kMalformed;
    alg = Alg::kUnknown;
    key = nullptr;
    payload_json = {};
    claims_parsed = false;
    claims.Clear();
  }
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
  // the epoch). A non-empty `audience` replaces the policy's audiences. Sets
  // out->status and fills the rest of *out as far as the check went (see
  // VerifyResult). Views in *out live until this Verifier's next call, and
  // out->key as long as keys.keys does.
  void Verify(std::string_view token, std::string_view audience, const KeySet& keys, int64_t now,
              VerifyResult* out);

  // VerifySignature()
  //
  // The JWS layer alone: size, split, header, key selection, MAC, then the
  // payload's base64url (strict: the MAC covers the encoded text, so a
  // payload with non-zero trailing bits may carry a valid MAC, and is
  // kMalformed). kOk means the signature verifies and out->payload_json holds
  // the decoded payload, whatever it is: it is not parsed. The key's issuer
  // binding (NAME.iss) is a check of the claims and is not applied here. For tests of the
  // JWS layer and for callers that check claims themselves. Returns the
  // status it also stores in out->status.
  Status VerifySignature(std::string_view token, const Keyring& keys, VerifyResult* out);

  const Policy& policy() const { return policy_; }

 private:
  // VerifySignature() without resetting *out or storing the status.
  Status VerifyJws(std::string_view token, const Keyring& keys, VerifyResult* out);
  // Grows payload_buf_ (never shrinks it) to hold `n` bytes plus kJsonPadding.
  uint8_t* PayloadBuffer(size_t n);
  // keys.FindByKid(kid), remembered for the last kid found: an issuer's
  // tokens repeat their kid, and comparing it costs less than a lookup.
  const Key* FindKey(const Keyring& keys, std::string_view kid);

  const Policy& policy_;
  HmacComputer hmac_;
  SignatureVerifier signatures_;
  HeaderParser header_parser_;
  ClaimsParser claims_parser_;
  std::string payload_buf_;  // decoded payload + kJsonPadding
  struct {
    uint64_t keyring_serial = 0;  // Keyring::serial(); 0: nothing remembered
    std::string kid;
    const Key* key = nullptr;  // lives as long as that keyring, which the caller holds
  } last_kid_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_VERIFIER_H_

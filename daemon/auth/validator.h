// validator.h
//
// The request-path entry point of daemon/auth: one token, one optional
// request audience, one answer. A Validator combines a thread's KeySetReader,
// its Verifier and the shared TokenCache (a hit skips base64url, MAC and
// JSON, then runs the same CheckClaims() as a miss).
// One Validator per thread: not thread-safe. The Policy, publisher and cache
// must outlive it; the cache may be null (caching off).
#ifndef TOKEND_DAEMON_AUTH_VALIDATOR_H_
#define TOKEND_DAEMON_AUTH_VALIDATOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/auth/key_set.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/status.h"
#include "daemon/auth/verifier.h"

namespace tokend::auth {

class TokenCache;

struct ValidationResult {
  Status status = Status::kMalformed;
  Alg alg = Alg::kUnknown;
  int64_t exp = 0;              // 0 when the token has none or it is unknown
  std::string_view subject;     // only when status is kOk
  std::string_view claims_json; // only when kOk and claims were asked for
  bool cache_hit = false;
};

class Validator {
 public:
  Validator(const Policy& policy, const KeySetPublisher& keys, TokenCache* cache);
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Validate()
  //
  // Answers for `token` at time `now`. Views in the result live until this
  // Validator's next call.
  ValidationResult Validate(std::string_view token, std::string_view audience, bool want_claims,
                            int64_t now);

 private:
  const Policy& policy_;
  KeySetReader keys_;
  TokenCache* cache_;
  Verifier verifier_;
  std::string scratch_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_VALIDATOR_H_

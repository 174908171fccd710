// SPDX-License-Identifier: Apache-2.0
// validator.h
//
// The request-path entry point of daemon/auth: one token, one optional
// request audience, one answer. A Validator combines a thread's KeySetReader,
// its Verifier and the shared TokenCache (token_cache.h):
//   size limit (kTooLarge) -> cache lookup -> on a hit whose verifying key
//   is still in the current keyring: CheckClaims() on the cached claims;
//   otherwise the full Verifier::Verify(), and a token that comes out kOk
//   is inserted.
// A hit skips base64url, MAC and JSON, yet answers exactly as a miss would
// for the same token, audience, time and key set: the cache holds only
// tokens whose MAC verified, under a 128-bit keyed tag of the whole token,
// and the hit re-runs every check that can change (clock, audience,
// revocation, key still loaded) through the same CheckClaims().
// Opaque API keys (api_keys.h): when the key set holds any, a token without
// exactly two dots skips all of the above and is looked up by its SHA-256
// (OK with alg kApiKey, kExpired past its expiry, kRevoked when listed,
// else kUnknownToken); it is not cached, since the lookup costs about one
// SHA-256 already. With no API key loaded such a token stays kMalformed.
// One Validator per thread: not thread-safe. The Policy, publisher and cache
// must outlive it; the cache may be null (caching off). Every Validator
// sharing a cache must share its Policy (an entry records that the token
// passed that policy's header checks). The cache's leeway should be the
// Policy's, so that entries die exactly when their tokens expire; answers
// do not depend on it, since a hit re-checks exp.
#ifndef TOKEND_DAEMON_AUTH_VALIDATOR_H_
#define TOKEND_DAEMON_AUTH_VALIDATOR_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "daemon/auth/api_keys.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/status.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth/verifier.h"

namespace tokend::auth {

struct ValidationResult {
  Status status = Status::kMalformed;
  Alg alg = Alg::kUnknown;       // the header's alg once it parsed, else kUnknown
  int64_t exp = 0;               // the token's exp once its MAC verified; else 0
  std::string_view subject;      // `sub`, only when status is kOk
  std::string_view claims_json;  // the decoded payload, only when kOk and asked for
  bool cache_hit = false;        // answered from the cache
};

class Validator {
 public:
  Validator(const Policy& policy, const KeySetPublisher& keys, TokenCache* cache);
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Validate()
  //
  // Answers for `token` at time `now` (seconds since the epoch). A
  // non-empty `audience` replaces the policy's audiences. Views in the
  // result live until this Validator's next call.
  ValidationResult Validate(std::string_view token, std::string_view audience, bool want_claims,
                            int64_t now);

  // Prepare()
  //
  // A hint that changes no answer: Validate() follows for each of `tokens`,
  // in order and with the same views (address and length), and their bytes
  // do not change until then. Computes each token's cache tag and starts
  // loading its cache entry's lines (TokenCache::Prefetch, then
  // PrefetchEntry once every bucket header is on its way), so that the
  // memory latencies of the batch overlap. Validate() takes a prepared tag
  // only for the next prepared view in order; on any other token it drops
  // what remains prepared and computes the tag itself. At most kMaxPrepared
  // tokens are prepared; more are ignored.
  static constexpr size_t kMaxPrepared = 8;
  void Prepare(std::span<const std::string_view> tokens);

 private:
  // Answers from a cache entry; false when the payload cannot be re-decoded
  // for want_claims (then the caller verifies in full).
  bool AnswerFromCache(std::string_view token, std::string_view audience, bool want_claims,
                       const KeySet& keys, int64_t now, ValidationResult* out);

  // The answer for an opaque token (the API key path above).
  void ValidateApiKey(std::string_view token, const KeySet& keys, int64_t now,
                      ValidationResult* out);

  const Policy& policy_;
  KeySetReader keys_;
  std::string digest_text_;  // scratch for the revocation check of an API key
  TokenCache* cache_;
  Verifier verifier_;
  // The tag Validate() uses for `token`: the next prepared one when it is
  // for this view, else computed now.
  TokenCacheKey KeyFor(std::string_view token);
  // Whether the token takes the cache path (not an API key, not too large).
  bool UsesCache(std::string_view token, const KeySet& keys) const;

  struct Prepared {
    const char* data = nullptr;
    size_t size = 0;
    TokenCacheKey key;
  };
  std::array<Prepared, kMaxPrepared> prepared_;
  size_t prepared_count_ = 0;  // entries of prepared_ set by the last Prepare()
  size_t prepared_next_ = 0;   // the next one Validate() may take
  CachedToken hit_;            // the last hit's entry, which result views point into
  std::string scratch_;        // the payload re-decoded on a hit with want_claims
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_VALIDATOR_H_

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/validator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

// The payload segment of a token that once split into three segments.
std::string_view PayloadSegment(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return {};
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return {};
  return token.substr(first + 1, second - first - 1);
}

// PROTOCOL.md: a token with two dots is always a JWS. Counts the dots eight
// bytes at a time, with no branch on the content, so the time taken depends
// on the length alone (a plain byte loop costs a fifth of a SHA-256 of a
// 43-byte token).
bool HasTwoDots(std::string_view token) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  size_t dots = 0;
  size_t i = 0;
  for (; i + 8 <= token.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, token.data() + i, sizeof w);
    const uint64_t x = w ^ (kOnes * '.');  // a zero byte where w has a '.'
    // The high bit of each byte of `nonzero` is set where x's byte is not 0
    // (no carry crosses a byte: each sum is at most 0x7f + 0x7f).
    const uint64_t nonzero = ((x & kLow7) + kLow7) | x;
    // One per '.' byte, summed into the top byte by the multiplication
    // (std::popcount is a library call without -mpopcnt).
    const uint64_t ones = (~nonzero & (kOnes << 7)) >> 7;
    dots += static_cast<size_t>((ones * kOnes) >> 56);
  }
  for (; i < token.size(); ++i) dots += token[i] == '.';
  return dots == 2;
}

}  // namespace

Validator::Validator(const Policy& policy, const KeySetPublisher& keys, TokenCache* cache)
    : policy_(policy), keys_(keys), cache_(cache), verifier_(policy) {}

Validator::~Validator() = default;

ValidationResult Validator::Validate(std::string_view token, std::string_view audience,
                                     bool want_claims, int64_t now) {
  ValidationResult out;
  if (token.size() > policy_.max_token_bytes) {
    out.status = Status::kTooLarge;
    return out;
  }
  const KeySet& keys = keys_.Get();
  if (keys.api_keys != nullptr && !HasTwoDots(token)) {
    ValidateApiKey(token, keys, now, &out);
    return out;
  }

  TokenCacheKey key;
  if (cache_ != nullptr) {
    key = KeyFor(token);
    // An entry whose key was removed or replaced answers nothing: the full
    // check below then says what the current keys make of the token. The
    // entry's alg is not tested against policy_.allowed_algs again: it was
    // when the token was inserted, the cache lives no longer than this
    // process, and every Validator sharing it shares one Policy, fixed at
    // startup (--algorithms), so the set cannot have narrowed since.
    if (cache_->Lookup(key, now, &hit_) && keys.keys->Contains(hit_.key_fingerprint()) &&
        AnswerFromCache(token, audience, want_claims, keys, now, &out)) {
      return out;
    }
  }

  // A miss: the slot its insert will take loads while the token verifies.
  if (cache_ != nullptr) cache_->PrefetchForInsert(key, now);
  VerifyResult v;
  verifier_.Verify(token, audience, keys, now, &v);
  out.status = v.status;
  out.alg = v.alg;
  if (v.claims_parsed && v.claims.has(kClaimExp)) out.exp = v.claims.exp;
  if (v.status == Status::kOk) {
    out.subject = v.claims.sub;
    if (want_claims) out.claims_json = v.payload_json;
    if (cache_ != nullptr && v.key != nullptr && v.claims_parsed) {
      cache_->Insert(key, v.alg, v.key->fingerprint, v.claims, now);
    }
  }
  return out;
}

bool Validator::UsesCache(std::string_view token, const KeySet& keys) const {
  return cache_ != nullptr && token.size() <= policy_.max_token_bytes &&
         (keys.api_keys == nullptr || HasTwoDots(token));
}

void Validator::Prepare(std::span<const std::string_view> tokens) {
  prepared_count_ = 0;
  prepared_next_ = 0;
  if (cache_ == nullptr) return;
  const KeySet& keys = keys_.Get();
  for (std::string_view token : tokens.first(std::min(tokens.size(), kMaxPrepared))) {
    if (!UsesCache(token, keys)) continue;  // Validate() will not ask for its tag
    Prepared& p = prepared_[prepared_count_++];
    p = {token.data(), token.size(), cache_->KeyOf(token)};
    cache_->Prefetch(p.key);
  }
  // The bucket headers are loading; reading them now finds each token's slot.
  for (size_t i = 0; i < prepared_count_; ++i) cache_->PrefetchEntry(prepared_[i].key);
}

TokenCacheKey Validator::KeyFor(std::string_view token) {
  if (prepared_next_ < prepared_count_) {
    const Prepared& p = prepared_[prepared_next_];
    if (p.data == token.data() && p.size == token.size()) {
      ++prepared_next_;
      return p.key;
    }
    prepared_count_ = 0;  // out of order: trust none of the rest
  }
  return cache_->KeyOf(token);
}

void Validator::ValidateApiKey(std::string_view token, const KeySet& keys, int64_t now,
                               ValidationResult* out) {
  out->status = Status::kUnknownToken;
  if (token.size() < kMinApiKeyBytes) return;
  const ApiKeyDigest digest = ApiKeyDigestOf(token);
  const ApiKey* key = keys.api_keys->Find(digest);
  if (key == nullptr) return;
  out->alg = Alg::kApiKey;
  out->exp = key->exp;
  // No leeway: it covers clock skew between an issuer and tokend, and an API
  // key's expiry comes from tokend's own files.
  if (key->exp != 0 && key->exp <= now) {
    out->status = Status::kExpired;
    return;
  }
  if (!keys.revoked->empty()) {
    digest_text_ = ApiKeyDigestText(digest);
    if (keys.revoked->IsRevoked({}, token) || keys.revoked->IsRevoked({}, digest_text_)) {
      out->status = Status::kRevoked;
      return;
    }
  }
  out->status = Status::kOk;
  out->subject = key->subject;
}

bool Validator::AnswerFromCache(std::string_view token, std::string_view audience, bool want_claims,
                                const KeySet& keys, int64_t now, ValidationResult* out) {
  const ClaimsView& claims = hit_.claims();
  const Status status = CheckClaims(policy_, claims, token, audience, keys.revoked.get(), now);
  if (status == Status::kOk && want_claims) {
    // The token verified when it was cached, so its payload decodes; the
    // MAC need not be computed again to trust these bytes.
    if (!Base64UrlDecode(PayloadSegment(token), scratch_)) return false;
    out->claims_json = scratch_;
  }
  out->status = status;
  out->alg = hit_.alg();
  out->exp = claims.has(kClaimExp) ? claims.exp : 0;
  if (status == Status::kOk) out->subject = claims.sub;
  out->cache_hit = true;
  return true;
}

}  // namespace tokend::auth

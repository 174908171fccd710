// SPDX-License-Identifier: Apache-2.0
// Cache hits through Validator::Validate on the shared bench token, next to
// the same Validator with caching off. Compare BM_CacheHit with
// BM_VerifyUncached (the verifier alone) and BM_ValidateNoCache (the whole
// miss path): the cache is worth having while a hit costs well under a third
// of a full verification.
//
//   BM_CacheHit/<resident>/threads:<n>   the bench token hit, with <resident>
//                                        other entries in the table
//   BM_CacheHitSpread/<resident>         hits spread over <resident> distinct
//                                        real tokens (cold cache lines)
//   BM_CacheMiss/<entries>               262,144 distinct real tokens, in a
//                                        scattered order, through a cache of
//                                        <entries> (0: no cache); where that
//                                        holds far fewer, each is a miss that
//                                        inserts, and the difference to
//                                        BM_CacheMiss/0 is the cache's cost
//                                        on a miss
// Counters: bytes_per_entry (table bytes per entry), resident (live entries).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/micro/bench_token.h"
#include "benchmark/benchmark.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth/validator.h"
#include "tools/minter/minter.h"

namespace tokend::bench {
namespace {

using auth::Status;

std::shared_ptr<const auth::KeySet> BenchKeys() {
  std::vector<auth::KeyMaterial> material(1);
  material[0].kid = std::string(kBenchKid);
  material[0].secret = auth::SecretBytes(kBenchKey);
  material[0].source = "bench";
  absl::StatusOr<std::shared_ptr<const auth::Keyring>> ring =
      auth::Keyring::Build(std::move(material));
  if (!ring.ok()) return nullptr;
  return auth::KeySet::Make(*ring, auth::RevocationList::Empty());
}

// One cache filled with `resident` entries, shared by every thread of a run.
struct Fixture {
  auth::Policy policy;
  auth::KeySetPublisher publisher{BenchKeys()};
  std::unique_ptr<auth::TokenCache> cache;
  std::vector<std::string> tokens;  // real tokens, for the spread benchmark

  Fixture(size_t resident, bool real_tokens) {
    auth::TokenCache::Options options;
    options.max_entries = resident + resident / 4 + 16;  // room for every entry
    options.leeway_seconds = policy.leeway_seconds;
    cache = *auth::TokenCache::Create(options);
    if (real_tokens) {
      // Distinct signed tokens, cached by validating each once.
      auth::Validator filler(policy, publisher, cache.get());
      const std::string header = auth::JwtHeaderJson(auth::Alg::kHS256, kBenchKid);
      for (size_t i = 0; i < resident; ++i) {
        tokens.push_back(auth::MintToken(
            auth::Alg::kHS256, header,
            absl::StrCat(R"({"iss":"https://idp.example","sub":"user-)", i,
                         R"(","aud":"api.example","iat":1700000000,"exp":4102444800})"),
            kBenchKey));
        filler.Validate(tokens.back(), "", false, kBenchNow);
      }
      return;
    }
    // Entries shaped like the bench token's, under other tags.
    auth::ClaimsView claims;
    std::string_view aud[] = {"api.example"};
    claims.present = auth::kClaimIss | auth::kClaimSub | auth::kClaimAud | auth::kClaimIat |
                     auth::kClaimExp | auth::kClaimJti;
    claims.iss = "https://idp.example";
    claims.sub = "user-1234567890";
    claims.aud = aud;
    claims.iat = 1700000000;
    claims.exp = 4102444800;
    claims.jti = "a1b2c3d4e5";
    for (size_t i = 0; i < resident; ++i) {
      std::string token = absl::StrCat("filler-", i);
      cache->Insert(cache->KeyOf(token), auth::Alg::kHS256, 1, claims, kBenchNow);
    }
  }
};

Fixture& GetFixture(size_t resident, bool real_tokens) {
  static std::mutex mu;
  static std::map<std::pair<size_t, bool>, std::unique_ptr<Fixture>> fixtures;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<Fixture>& f = fixtures[{resident, real_tokens}];
  if (!f) f = std::make_unique<Fixture>(resident, real_tokens);
  return *f;
}

void SetCounters(benchmark::State& state, const Fixture& f) {
  state.counters["bytes_per_entry"] = static_cast<double>(auth::TokenCache::BytesPerEntry());
  state.counters["resident"] = static_cast<double>(f.cache->CountLive(kBenchNow));
}

void BM_CacheHit(benchmark::State& state) {
  Fixture& f = GetFixture(static_cast<size_t>(state.range(0)), false);
  auth::Validator validator(f.policy, f.publisher, f.cache.get());
  validator.Validate(kBenchToken, "", false, kBenchNow);  // a miss that inserts it
  auth::ValidationResult check = validator.Validate(kBenchToken, "", false, kBenchNow);
  if (check.status != Status::kOk || !check.cache_hit) {
    state.SkipWithError("the bench token is not a cache hit");
    return;
  }
  for (auto _ : state) {
    auth::ValidationResult r = validator.Validate(kBenchToken, "", false, kBenchNow);
    benchmark::DoNotOptimize(r);
  }
  if (state.thread_index() == 0) SetCounters(state, f);
}
BENCHMARK(BM_CacheHit)->Arg(1000)->Arg(1000000)->Threads(1)->Threads(2)->UseRealTime();

void BM_CacheHitSpread(benchmark::State& state) {
  Fixture& f = GetFixture(static_cast<size_t>(state.range(0)), true);
  auth::Validator validator(f.policy, f.publisher, f.cache.get());
  size_t i = 0;
  int64_t hits = 0;
  for (auto _ : state) {
    auth::ValidationResult r = validator.Validate(f.tokens[i], "", false, kBenchNow);
    hits += r.cache_hit;
    benchmark::DoNotOptimize(r);
    // A stride coprime with the count visits every token in a scattered order.
    i = (i + 7919) % f.tokens.size();
  }
  state.counters["hit_rate"] =
      benchmark::Counter(static_cast<double>(hits), benchmark::Counter::kAvgIterations);
  SetCounters(state, f);
}
BENCHMARK(BM_CacheHitSpread)->Arg(1000)->Arg(100000);

// 262,144 distinct real tokens, minted once, shared by the miss benchmarks.
const std::vector<std::string>& MissTokens() {
  static const std::vector<std::string> tokens = [] {
    std::vector<std::string> out;
    const std::string header = auth::JwtHeaderJson(auth::Alg::kHS256, kBenchKid);
    for (size_t i = 0; i < 262'144; ++i) {
      out.push_back(auth::MintToken(
          auth::Alg::kHS256, header,
          absl::StrCat(R"({"iss":"https://idp.example","sub":"user-)", i,
                       R"(","aud":"api.example","iat":1700000000,"exp":4102444800})"),
          kBenchKey));
    }
    return out;
  }();
  return tokens;
}

void BM_CacheMiss(benchmark::State& state) {
  static const auth::Policy policy;
  static const auth::KeySetPublisher publisher(BenchKeys());
  const std::vector<std::string>& tokens = MissTokens();
  std::unique_ptr<auth::TokenCache> cache;
  if (state.range(0) > 0) {
    auth::TokenCache::Options options;
    options.max_entries = static_cast<size_t>(state.range(0));
    options.leeway_seconds = policy.leeway_seconds;
    cache = *auth::TokenCache::Create(options);
  }
  auth::Validator validator(policy, publisher, cache.get());
  // Fill the table, so that every insert below evicts.
  for (const std::string& token : tokens) validator.Validate(token, "", false, kBenchNow);
  size_t i = 0;
  int64_t hits = 0;
  for (auto _ : state) {
    auth::ValidationResult r = validator.Validate(tokens[i], "", false, kBenchNow);
    hits += r.cache_hit;
    benchmark::DoNotOptimize(r);
    i = (i + 7919) % tokens.size();
  }
  state.counters["hit_rate"] =
      benchmark::Counter(static_cast<double>(hits), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_CacheMiss)->Arg(0)->Arg(65536)->Arg(1'000'000);

void BM_ValidateNoCache(benchmark::State& state) {
  static const auth::Policy policy;
  static const auth::KeySetPublisher publisher(BenchKeys());
  auth::Validator validator(policy, publisher, nullptr);
  if (validator.Validate(kBenchToken, "", false, kBenchNow).status != Status::kOk) {
    state.SkipWithError("the bench token does not verify");
    return;
  }
  for (auto _ : state) {
    auth::ValidationResult r = validator.Validate(kBenchToken, "", false, kBenchNow);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ValidateNoCache)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace tokend::bench

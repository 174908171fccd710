// SPDX-License-Identifier: Apache-2.0
// Concurrency stress for TokenCache and the Validator over it: lookups,
// inserts and evictions from several threads on a cache far smaller than
// the working set, and key set swaps underneath. Meant to run under
// ThreadSanitizer (label `concurrency`): it checks that no hit ever returns
// a torn or foreign entry, and that every answer is one that one of the
// published key sets gives.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth/validator.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int kThreads = 4;

std::unique_ptr<TokenCache> MakeCache(size_t entries) {
  TokenCache::Options options;
  options.max_entries = entries;
  absl::StatusOr<std::unique_ptr<TokenCache>> cache = TokenCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? *std::move(cache) : nullptr;
}

// Token i's claims, with lengths that vary with i (from two of a slot's
// lines to all four) so that a copy mixing two entries cannot look whole,
// some with an aud value that is the iss.
struct Expected {
  std::string token;
  std::string iss, sub, jti;
  std::vector<std::string> aud_storage;
  std::vector<std::string_view> aud;
  uint64_t fingerprint;
  Alg alg;
  ClaimsView claims;

  Expected(const Expected&) = delete;  // `claims` points into the members
  Expected& operator=(const Expected&) = delete;

  explicit Expected(int i)
      : token(absl::StrCat("token-", i)),
        iss(absl::StrCat("iss-", i % 5)),
        sub(absl::StrCat("subject-", i, "-", std::string(i * 13 % 101, 'x'))),
        jti(absl::StrCat("jti-", i * 7)),
        fingerprint(static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15u),
        alg(static_cast<Alg>(1 + i % 3)) {
    for (int a = 0; a < i % 4; ++a) {
      aud_storage.push_back(a == 0 && i % 3 == 0 ? iss : absl::StrCat("aud-", a, "-", i));
    }
    for (const std::string& a : aud_storage) aud.push_back(a);
    claims.present = kClaimExp | kClaimNbf | kClaimSub | kClaimIss | kClaimJti |
                     (i % 4 != 0 ? uint32_t{kClaimAud} : 0u);
    claims.exp = kNow + 1000 + i;
    claims.nbf = i;
    claims.iat = 0;
    claims.iss = iss;
    claims.sub = sub;
    claims.jti = jti;
    claims.aud = aud;
  }

  bool Matches(const CachedToken& hit) const {
    const ClaimsView& c = hit.claims();
    if (hit.key_fingerprint() != fingerprint || hit.alg() != alg || c.present != claims.present ||
        c.exp != claims.exp || c.nbf != claims.nbf || c.iat != claims.iat || c.iss != iss ||
        c.sub != sub || c.jti != jti || c.aud.size() != aud.size()) {
      return false;
    }
    for (size_t a = 0; a < aud.size(); ++a) {
      if (c.aud[a] != aud[a]) return false;
    }
    return true;
  }
};

TEST(TokenCacheStressTest, ConcurrentInsertsLookupsAndEvictionsNeverTearAnEntry) {
  // Two buckets that every token fights over (some tokens have both
  // choices in one bucket).
  std::unique_ptr<TokenCache> cache = MakeCache(2 * TokenCache::kWays);
  std::deque<Expected> tokens;  // never moves its elements: their views stay valid
  for (int i = 0; i < 48; ++i) tokens.emplace_back(i);
  for (const Expected& e : tokens) {  // every one fits an entry
    ASSERT_TRUE(MakeCache(1)->Insert(TokenCacheKey{{1, 2}}, e.alg, e.fingerprint, e.claims, kNow))
        << e.token;
  }

  std::atomic<int> hits{0}, torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      CachedToken hit;
      for (int op = 0; op < 40000; ++op) {
        const Expected& e = tokens[rng() % tokens.size()];
        const TokenCacheKey key = cache->KeyOf(e.token);
        if (rng() % 2 == 0) {
          cache->Insert(key, e.alg, e.fingerprint, e.claims, kNow);
        } else if (cache->Lookup(key, kNow, &hit)) {
          hits.fetch_add(1, std::memory_order_relaxed);
          if (!e.Matches(hit)) torn.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(hits.load(), 1000);
  EXPECT_LE(cache->CountLive(kNow), cache->capacity());
}

TEST(TokenCacheStressTest, ValidatorsAgreeWithSomePublishedKeySetDuringSwaps) {
  const std::string secret1(64, '1'), secret2(64, '2');
  auto ring = [](std::vector<std::pair<std::string, std::string>> keys) {
    std::vector<KeyMaterial> material;
    for (auto& [kid, secret] : keys) {
      KeyMaterial& m = material.emplace_back();
      m.kid = kid;
      m.secret = SecretBytes(secret);
      m.source = "test";
    }
    absl::StatusOr<std::shared_ptr<const Keyring>> built = Keyring::Build(std::move(material));
    EXPECT_TRUE(built.ok()) << built.status();
    return *built;
  };
  // Set A: both keys, nothing revoked. Set B: k2 only, jti "r" revoked.
  std::shared_ptr<const KeySet> set_a =
      KeySet::Make(ring({{"k1", secret1}, {"k2", secret2}}), RevocationList::Empty());
  std::shared_ptr<const KeySet> set_b =
      KeySet::Make(ring({{"k2", secret2}}), RevocationList::Parse("r\n"));

  struct Case {
    std::string token;
    std::string sub;
    Status under_a, under_b;
  };
  std::vector<Case> cases;
  for (int i = 0; i < 96; ++i) {
    const bool k1 = i % 2 == 0;
    const bool revoked = i % 3 == 0;
    std::string sub = absl::StrCat("user-", i);
    std::string payload = absl::StrCat(R"({"sub":")", sub, R"(","exp":)", kNow + 600,
                                       revoked ? R"(,"jti":"r")" : "", "}");
    cases.push_back({MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, k1 ? "k1" : "k2"), payload,
                               k1 ? secret1 : secret2),
                     sub, Status::kOk,
                     k1 ? Status::kUnknownKey : (revoked ? Status::kRevoked : Status::kOk)});
  }

  Policy policy;
  KeySetPublisher publisher(set_a);
  std::unique_ptr<TokenCache> cache = MakeCache(32);
  std::atomic<int> running{kThreads - 1};
  std::atomic<int> wrong{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads - 1; ++t) {
    threads.emplace_back([&, t] {
      Validator validator(policy, publisher, cache.get());
      std::mt19937 rng(t + 7);
      for (int op = 0; op < 6000; ++op) {
        const Case& c = cases[rng() % 8 < 6 ? rng() % 12 : rng() % cases.size()];
        ValidationResult r = validator.Validate(c.token, "", false, kNow);
        if (r.cache_hit) hits.fetch_add(1, std::memory_order_relaxed);
        const bool ok_answer = r.status == c.under_a || r.status == c.under_b;
        const bool ok_subject = r.status != Status::kOk || r.subject == c.sub;
        if (!ok_answer || !ok_subject) wrong.fetch_add(1, std::memory_order_relaxed);
      }
      running.fetch_sub(1, std::memory_order_release);
    });
  }
  // The watcher's role: swap key sets until the validators are done.
  threads.emplace_back([&] {
    for (uint64_t n = 0; running.load(std::memory_order_acquire) > 0; ++n) {
      publisher.Publish(n % 2 == 0 ? set_b : set_a);
      std::this_thread::yield();
    }
  });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);

  // Once B is in force, no cached k1 token passes any more.
  publisher.Publish(set_b);
  Validator after(policy, publisher, cache.get());
  for (const Case& c : cases) {
    EXPECT_EQ(after.Validate(c.token, "", false, kNow).status, c.under_b) << c.token;
  }
}

}  // namespace
}  // namespace tokend::auth

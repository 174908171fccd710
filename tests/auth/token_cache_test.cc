// SPDX-License-Identifier: Apache-2.0
// Unit tests of TokenCache: what an entry keeps, when it dies, which tokens
// bypass the cache, and the CLOCK replacement within a bucket.
#include "daemon/auth/token_cache.h"

#include <unistd.h>

#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::auth {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kLeeway = 30;

std::unique_ptr<TokenCache> MakeCache(size_t entries) {
  TokenCache::Options options;
  options.max_entries = entries;
  options.leeway_seconds = kLeeway;
  absl::StatusOr<std::unique_ptr<TokenCache>> cache = TokenCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? *std::move(cache) : nullptr;
}

// Claims with every registered claim present and two audiences.
struct FullClaims {
  std::vector<std::string_view> aud = {"api.example", "web.example"};
  ClaimsView view;
  FullClaims() {
    view.present =
        kClaimExp | kClaimNbf | kClaimIat | kClaimIss | kClaimSub | kClaimAud | kClaimJti;
    view.exp = kNow + 3600;
    view.nbf = kNow - 10;
    view.iat = kNow - 20;
    view.iss = "https://idp.example";
    view.sub = "user-42";
    view.jti = "jti-0001";
    view.aud = aud;
  }
};

ClaimsView ExpiringAt(int64_t exp) {
  ClaimsView c;
  c.present = kClaimExp;
  c.exp = exp;
  return c;
}

std::vector<std::string> Audiences(const ClaimsView& c) {
  return std::vector<std::string>(c.aud.begin(), c.aud.end());
}

TEST(TokenCacheTest, CreateRejectsZeroEntriesAndNegativeLeeway) {
  TokenCache::Options options;
  options.max_entries = 0;
  EXPECT_EQ(TokenCache::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_entries = 10;
  options.leeway_seconds = -1;
  EXPECT_EQ(TokenCache::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TokenCacheTest, CapacityIsRoundedUpToWholeBuckets) {
  EXPECT_EQ(MakeCache(1)->capacity(), TokenCache::kWays);
  EXPECT_EQ(MakeCache(17)->capacity(), 3 * TokenCache::kWays);
  EXPECT_EQ(MakeCache(1'000'000)->capacity(), 1'000'000u);
}

TEST(TokenCacheTest, EntryCostsTheBytesTheDocumentsQuote) {
  // README.md, man/tokend.8 and docs/design.md quote these figures.
  EXPECT_EQ(TokenCache::BytesPerEntry(), 264u);
  EXPECT_EQ(TokenCache::kStringBytes, 184u);
}

// Resident memory of this process, from /proc/self/statm.
size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// A few entries in the default-sized table cost a few pages each, not the
// table: on 2 MiB huge pages from the start, a thousand entries made the
// whole 264 MB resident (each lands on its own huge page until all are).
TEST(TokenCacheTest, FewEntriesInALargeTableCostFewPages) {
  std::unique_ptr<TokenCache> cache = MakeCache(1'000'000);
  const size_t before = ResidentBytes();
  FullClaims in;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(cache->Insert(cache->KeyOf(absl::StrCat("t-", i)), Alg::kHS256, 1, in.view, kNow));
  }
  EXPECT_FALSE(cache->huge_pages_asked());
  // About two 4 KiB pages an entry; 32 MiB leaves room for the test's own.
  EXPECT_LT(ResidentBytes() - before, size_t{32} << 20);
}

// The table asks for huge pages when a sixteenth of its slots are filled,
// not before, and a table under one huge page never does.
TEST(TokenCacheTest, HugePagesAreAskedForOnceASixteenthIsFilled) {
  std::unique_ptr<TokenCache> cache = MakeCache(65536);
  const size_t threshold = cache->capacity() / 16;
  FullClaims in;
  for (size_t i = 0; i + 1 < threshold; ++i) {
    ASSERT_TRUE(cache->Insert(cache->KeyOf(absl::StrCat("t-", i)), Alg::kHS256, 1, in.view, kNow));
  }
  EXPECT_FALSE(cache->huge_pages_asked());
  // Replacing an entry fills no new slot.
  ASSERT_TRUE(cache->Insert(cache->KeyOf("t-0"), Alg::kHS256, 1, in.view, kNow));
  EXPECT_FALSE(cache->huge_pages_asked());
  ASSERT_TRUE(cache->Insert(cache->KeyOf("last"), Alg::kHS256, 1, in.view, kNow));
  EXPECT_TRUE(cache->huge_pages_asked());

  std::unique_ptr<TokenCache> small = MakeCache(64);
  for (size_t i = 0; i < small->capacity(); ++i) {
    (void)small->Insert(small->KeyOf(absl::StrCat("t-", i)), Alg::kHS256, 1, in.view, kNow);
  }
  EXPECT_FALSE(small->huge_pages_asked());
}

TEST(TokenCacheTest, TokenLengthDoesNotChangeWhatAnEntryHolds) {
  // One bucket: kWays tokens from 4 bytes to 64 KiB fill it exactly, and
  // every one of them hits, because an entry keeps the token's tag, not its
  // bytes.
  std::unique_ptr<TokenCache> cache = MakeCache(TokenCache::kWays);
  ASSERT_EQ(cache->capacity(), TokenCache::kWays);
  std::vector<std::string> tokens;
  for (size_t i = 0; i < TokenCache::kWays; ++i) {
    tokens.push_back(std::string(size_t{1} << (2 * i + 2), static_cast<char>('a' + i)));
  }
  for (const std::string& t : tokens) {
    ASSERT_TRUE(cache->Insert(cache->KeyOf(t), Alg::kHS256, 1, ExpiringAt(kNow + 60), kNow))
        << t.size();
  }
  EXPECT_EQ(cache->CountLive(kNow), TokenCache::kWays);
  for (const std::string& t : tokens) {
    CachedToken hit;
    EXPECT_TRUE(cache->Lookup(cache->KeyOf(t), kNow, &hit)) << t.size() << " bytes";
    EXPECT_EQ(hit.claims().exp, kNow + 60);
  }
}

TEST(TokenCacheTest, TagCoversTheWholeTokenAndIsKeyedPerCache) {
  std::unique_ptr<TokenCache> a = MakeCache(64);
  std::unique_ptr<TokenCache> b = MakeCache(64);
  const std::string token(300, 'x');
  TokenCacheKey ka = a->KeyOf(token);
  TokenCacheKey again = a->KeyOf(token);
  EXPECT_EQ(ka.tag[0], again.tag[0]);
  EXPECT_EQ(ka.tag[1], again.tag[1]);
  // Another cache draws another key.
  TokenCacheKey kb = b->KeyOf(token);
  EXPECT_FALSE(ka.tag[0] == kb.tag[0] && ka.tag[1] == kb.tag[1]);
  // Every byte position, including the last, changes the tag.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = 'y';
    TokenCacheKey kc = a->KeyOf(changed);
    EXPECT_FALSE(ka.tag[0] == kc.tag[0] && ka.tag[1] == kc.tag[1]) << "position " << i;
  }
  TokenCacheKey shorter = a->KeyOf(std::string_view(token).substr(0, token.size() - 1));
  EXPECT_FALSE(ka.tag[0] == shorter.tag[0] && ka.tag[1] == shorter.tag[1]);
}

TEST(TokenCacheTest, HitReturnsEverythingThatWasInserted) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  FullClaims in;
  TokenCacheKey key = cache->KeyOf("header.payload.sig");
  ASSERT_TRUE(cache->Insert(key, Alg::kHS384, 0xfeedface12345678u, in.view, kNow));

  CachedToken hit;
  ASSERT_TRUE(cache->Lookup(key, kNow, &hit));
  EXPECT_EQ(hit.alg(), Alg::kHS384);
  EXPECT_EQ(hit.key_fingerprint(), 0xfeedface12345678u);
  const ClaimsView& c = hit.claims();
  EXPECT_EQ(c.present, in.view.present);
  EXPECT_EQ(c.exp, in.view.exp);
  EXPECT_EQ(c.nbf, in.view.nbf);
  EXPECT_EQ(c.iat, in.view.iat);
  EXPECT_EQ(c.iss, "https://idp.example");
  EXPECT_EQ(c.sub, "user-42");
  EXPECT_EQ(c.jti, "jti-0001");
  EXPECT_THAT(Audiences(c), ElementsAre("api.example", "web.example"));
}

TEST(TokenCacheTest, AbsentClaimsStayAbsentAndEmptyAudienceArrayIsKept) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  ClaimsView in;
  in.present = kClaimSub | kClaimAud;  // "aud": [] and no exp
  in.sub = "s";
  TokenCacheKey key = cache->KeyOf("a.b.c");
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 1, in, kNow));
  CachedToken hit;
  ASSERT_TRUE(cache->Lookup(key, kNow, &hit));
  EXPECT_EQ(hit.claims().present, kClaimSub | kClaimAud);
  EXPECT_TRUE(hit.claims().aud.empty());
  EXPECT_TRUE(hit.claims().iss.empty());
  EXPECT_EQ(hit.claims().sub, "s");
}

TEST(TokenCacheTest, OtherTokensMiss) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  FullClaims in;
  ASSERT_TRUE(cache->Insert(cache->KeyOf("a.b.c"), Alg::kHS256, 1, in.view, kNow));
  CachedToken hit;
  EXPECT_FALSE(cache->Lookup(cache->KeyOf("a.b.d"), kNow, &hit));
  EXPECT_FALSE(cache->Lookup(cache->KeyOf("a.b.c."), kNow, &hit));
  EXPECT_FALSE(cache->Lookup(cache->KeyOf(""), kNow, &hit));
}

TEST(TokenCacheTest, EntryDiesAtExpPlusLeeway) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  const int64_t exp = kNow + 100;
  TokenCacheKey key = cache->KeyOf("t");
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 1, ExpiringAt(exp), kNow));
  CachedToken hit;
  EXPECT_TRUE(cache->Lookup(key, exp + kLeeway - 1, &hit));
  EXPECT_FALSE(cache->Lookup(key, exp + kLeeway, &hit));
  EXPECT_EQ(cache->CountLive(exp + kLeeway - 1), 1u);
  EXPECT_EQ(cache->CountLive(exp + kLeeway), 0u);
  // A token already dead is not stored.
  EXPECT_FALSE(cache->Insert(cache->KeyOf("u"), Alg::kHS256, 1, ExpiringAt(kNow - kLeeway), kNow));
}

TEST(TokenCacheTest, ExpNearTheEndOfTimeDoesNotOverflow) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  TokenCacheKey key = cache->KeyOf("t");
  ASSERT_TRUE(
      cache->Insert(key, Alg::kHS256, 1, ExpiringAt(std::numeric_limits<int64_t>::max()), kNow));
  CachedToken hit;
  EXPECT_TRUE(cache->Lookup(key, kNow, &hit));
}

TEST(TokenCacheTest, TokenWithoutExpLivesUntilEvicted) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  ClaimsView in;
  in.present = kClaimSub;
  in.sub = "s";
  TokenCacheKey key = cache->KeyOf("t");
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 1, in, kNow));
  CachedToken hit;
  EXPECT_TRUE(cache->Lookup(key, std::numeric_limits<int64_t>::max() - 1, &hit));
}

TEST(TokenCacheTest, StringsBeyondTheSlotBypassTheCache) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  CachedToken hit;
  // iss + sub + jti + (1 + aud) exactly fill the slot.
  const std::string iss(60, 'i'), sub(60, 's'), jti(40, 'j'), aud(23, 'a');
  std::vector<std::string_view> auds = {aud};
  ClaimsView c;
  c.present = kClaimIss | kClaimSub | kClaimJti | kClaimAud;
  c.iss = iss;
  c.sub = sub;
  c.jti = jti;
  c.aud = auds;
  ASSERT_EQ(iss.size() + sub.size() + jti.size() + 1 + aud.size(), TokenCache::kStringBytes);
  TokenCacheKey fits = cache->KeyOf("fits");
  ASSERT_TRUE(cache->Insert(fits, Alg::kHS256, 1, c, kNow));
  ASSERT_TRUE(cache->Lookup(fits, kNow, &hit));
  EXPECT_EQ(hit.claims().iss, iss);
  EXPECT_THAT(Audiences(hit.claims()), ElementsAre(aud));

  EXPECT_EQ(hit.claims().sub, sub);
  EXPECT_EQ(hit.claims().jti, jti);

  // One byte more does not.
  const std::string longer_sub(61, 's');
  c.sub = longer_sub;
  TokenCacheKey too_big = cache->KeyOf("too-big");
  EXPECT_FALSE(cache->Insert(too_big, Alg::kHS256, 1, c, kNow));
  EXPECT_FALSE(cache->Lookup(too_big, kNow, &hit));

  // Nor does a claim longer than 255 bytes alone, or too many audiences.
  const std::string huge(256, 'h');
  ClaimsView one;
  one.present = kClaimSub;
  one.sub = huge;
  EXPECT_FALSE(cache->Insert(cache->KeyOf("huge"), Alg::kHS256, 1, one, kNow));
  std::vector<std::string_view> many(TokenCache::kMaxAudiences + 1, "a");
  ClaimsView crowd;
  crowd.present = kClaimAud;
  crowd.aud = many;
  EXPECT_FALSE(cache->Insert(cache->KeyOf("crowd"), Alg::kHS256, 1, crowd, kNow));
  many.pop_back();
  crowd.aud = many;
  EXPECT_TRUE(cache->Insert(cache->KeyOf("crowd"), Alg::kHS256, 1, crowd, kNow));
}

TEST(TokenCacheTest, AudienceEqualToTheIssuerCostsOneByte) {
  std::unique_ptr<TokenCache> cache = MakeCache(64);
  CachedToken hit;
  // A cluster's tokens name the issuer among their audiences: stored once,
  // it leaves room for sub, jti and the other audience. Exactly full:
  // 150 + 30 + 1 (iss again) + 1 + 2.
  const std::string iss = "https://" + std::string(142, 'c'), sub(30, 's'), other = "ab";
  std::vector<std::string_view> auds = {iss, other};
  ClaimsView c;
  c.present = kClaimIss | kClaimSub | kClaimAud;
  c.iss = iss;
  c.sub = sub;
  c.aud = auds;
  ASSERT_EQ(iss.size() + sub.size() + 1 + 1 + other.size(), TokenCache::kStringBytes);
  TokenCacheKey fits = cache->KeyOf("fits");
  ASSERT_TRUE(cache->Insert(fits, Alg::kRS256, 1, c, kNow));
  ASSERT_TRUE(cache->Lookup(fits, kNow, &hit));
  EXPECT_EQ(hit.claims().iss, iss);
  EXPECT_EQ(hit.claims().sub, sub);
  EXPECT_THAT(Audiences(hit.claims()), ElementsAre(iss, other));

  // One byte more does not fit.
  const std::string longer_other = "abc";
  auds[1] = longer_other;
  EXPECT_FALSE(cache->Insert(cache->KeyOf("too-big"), Alg::kRS256, 1, c, kNow));

  // An audience that only starts like the issuer is stored in full.
  const std::string short_iss = iss.substr(0, 41), prefix = iss.substr(0, 40);
  std::vector<std::string_view> near = {prefix};
  ClaimsView n;
  n.present = kClaimIss | kClaimAud;
  n.iss = short_iss;
  n.aud = near;
  TokenCacheKey near_key = cache->KeyOf("near");
  ASSERT_TRUE(cache->Insert(near_key, Alg::kRS256, 1, n, kNow));
  ASSERT_TRUE(cache->Lookup(near_key, kNow, &hit));
  EXPECT_THAT(Audiences(hit.claims()), ElementsAre(prefix));

  // Without an iss an empty audience is just empty.
  std::vector<std::string_view> empty = {"", "x"};
  ClaimsView e;
  e.present = kClaimAud;
  e.aud = empty;
  TokenCacheKey empty_key = cache->KeyOf("empty");
  ASSERT_TRUE(cache->Insert(empty_key, Alg::kRS256, 1, e, kNow));
  ASSERT_TRUE(cache->Lookup(empty_key, kNow, &hit));
  EXPECT_TRUE(hit.claims().iss.empty());
  EXPECT_THAT(Audiences(hit.claims()), ElementsAre("", "x"));
}

TEST(TokenCacheTest, ShortEntryOverALongOneReadsOnlyItsOwnStrings) {
  // Insert() writes only the words an entry uses: the words a longer entry
  // left behind in the slot must not show through.
  std::unique_ptr<TokenCache> cache = MakeCache(8);
  TokenCacheKey key = cache->KeyOf("t");
  const std::string long_iss(100, 'L'), long_sub(80, 'M');
  ClaimsView big;
  big.present = kClaimIss | kClaimSub | kClaimExp;
  big.exp = kNow + 60;
  big.iss = long_iss;
  big.sub = long_sub;
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 1, big, kNow));
  FullClaims small;
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 2, small.view, kNow));
  CachedToken hit;
  ASSERT_TRUE(cache->Lookup(key, kNow, &hit));
  EXPECT_EQ(hit.key_fingerprint(), 2u);
  EXPECT_EQ(hit.claims().present, small.view.present);
  EXPECT_EQ(hit.claims().iss, "https://idp.example");
  EXPECT_EQ(hit.claims().sub, "user-42");
  EXPECT_EQ(hit.claims().jti, "jti-0001");
  EXPECT_THAT(Audiences(hit.claims()), ElementsAre("api.example", "web.example"));
}

TEST(TokenCacheTest, ReinsertingATokenReplacesItsEntry) {
  std::unique_ptr<TokenCache> cache = MakeCache(8);
  TokenCacheKey key = cache->KeyOf("t");
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 111, ExpiringAt(kNow + 60), kNow));
  ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 222, ExpiringAt(kNow + 60), kNow));
  CachedToken hit;
  ASSERT_TRUE(cache->Lookup(key, kNow, &hit));
  EXPECT_EQ(hit.key_fingerprint(), 222u);
  EXPECT_EQ(cache->CountLive(kNow), 1u);
}

TEST(TokenCacheTest, NeverHoldsMoreThanItsCapacity) {
  std::unique_ptr<TokenCache> cache = MakeCache(100);
  for (int i = 0; i < 5000; ++i) {
    cache->Insert(cache->KeyOf(absl::StrCat("token-", i)), Alg::kHS256, 1, ExpiringAt(kNow + 3600),
                  kNow);
  }
  EXPECT_LE(cache->CountLive(kNow), cache->capacity());
  EXPECT_GT(cache->CountLive(kNow), cache->capacity() / 2);
}

TEST(TokenCacheTest, TwoBucketChoicesFillTheTableNearlyToCapacity) {
  std::unique_ptr<TokenCache> cache = MakeCache(8000);
  CachedToken hit;
  size_t found = 0;
  for (int i = 0; i < 8000; ++i) {
    cache->Insert(cache->KeyOf(absl::StrCat("token-", i)), Alg::kHS256, 1, ExpiringAt(kNow + 3600),
                  kNow);
  }
  for (int i = 0; i < 8000; ++i) {
    found += cache->Lookup(cache->KeyOf(absl::StrCat("token-", i)), kNow, &hit);
  }
  EXPECT_EQ(found, cache->CountLive(kNow));
  // As many tokens as slots: nearly all find room in one of their two
  // buckets (about 96%; a single bucket per token keeps under 90%).
  EXPECT_GT(found, 8000 * 94 / 100);
}

TEST(TokenCacheTest, ClockKeepsATokenThatIsHitBetweenInserts) {
  // One bucket: every token competes for the same kWays slots.
  std::unique_ptr<TokenCache> cache = MakeCache(TokenCache::kWays);
  TokenCacheKey hot = cache->KeyOf("hot");
  ASSERT_TRUE(cache->Insert(hot, Alg::kHS256, 1, ExpiringAt(kNow + 3600), kNow));
  CachedToken hit;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(cache->Lookup(hot, kNow, &hit)) << "evicted after " << i << " cold inserts";
    cache->Insert(cache->KeyOf(absl::StrCat("cold-", i)), Alg::kHS256, 1, ExpiringAt(kNow + 3600),
                  kNow);
  }
  EXPECT_EQ(cache->CountLive(kNow), TokenCache::kWays);
}

// PrefetchForInsert() only loads memory: it must not move the CLOCK.
TEST(TokenCacheTest, PrefetchForInsertChangesNothing) {
  std::unique_ptr<TokenCache> cache = MakeCache(TokenCache::kWays);  // one bucket
  std::vector<TokenCacheKey> keys;
  for (size_t i = 0; i < TokenCache::kWays; ++i) {
    keys.push_back(cache->KeyOf(absl::StrCat("t-", i)));
    cache->PrefetchForInsert(keys.back(), kNow);
    ASSERT_TRUE(cache->Insert(keys.back(), Alg::kHS256, 1, ExpiringAt(kNow + 3600), kNow));
  }
  CachedToken hit;
  ASSERT_TRUE(cache->Lookup(keys[0], kNow, &hit));  // referenced, in the slot the hand is at
  for (int i = 0; i < 100; ++i) cache->PrefetchForInsert(cache->KeyOf(absl::StrCat("p-", i)), kNow);
  ASSERT_TRUE(cache->Insert(cache->KeyOf("new"), Alg::kHS256, 1, ExpiringAt(kNow + 3600), kNow));
  EXPECT_TRUE(cache->Lookup(keys[0], kNow, &hit));
  EXPECT_FALSE(cache->Lookup(keys[1], kNow, &hit));  // the hand's next stop
  EXPECT_EQ(cache->CountLive(kNow), TokenCache::kWays);
}

TEST(TokenCacheTest, UnreferencedTokensAreEvictedInTurn) {
  std::unique_ptr<TokenCache> cache = MakeCache(TokenCache::kWays);
  std::vector<TokenCacheKey> first;
  for (size_t i = 0; i < TokenCache::kWays; ++i) {
    first.push_back(cache->KeyOf(absl::StrCat("first-", i)));
    ASSERT_TRUE(cache->Insert(first.back(), Alg::kHS256, 1, ExpiringAt(kNow + 3600), kNow));
  }
  for (size_t i = 0; i < TokenCache::kWays; ++i) {
    ASSERT_TRUE(cache->Insert(cache->KeyOf(absl::StrCat("second-", i)), Alg::kHS256, 1,
                              ExpiringAt(kNow + 3600), kNow));
  }
  CachedToken hit;
  for (const TokenCacheKey& key : first) EXPECT_FALSE(cache->Lookup(key, kNow, &hit));
}

// The death period in the bucket header says "maybe dead" for no live
// entry, whatever its life, so a full bucket of long-lived tokens costs no
// read of their slots; and it says so from the period of the death on. A
// 16-bit period, as this cache had, wrapped after about 24 days and failed
// this for the 30-day, one-year and no-exp lives.
TEST(TokenCacheTest, DeathPeriodNeverCallsALiveEntryDead) {
  using token_cache_internal::DiesHint;
  using token_cache_internal::MaybeDead;
  constexpr int64_t kDay = 86400;
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  for (const int64_t now : {kNow, int64_t{0}, int64_t{4'102'444'800}}) {
    for (const int64_t life : {int64_t{1}, int64_t{64}, int64_t{3600}, 25 * kDay, 30 * kDay,
                               365 * kDay, 3650 * kDay, kNever - now}) {
      const int64_t dead_at = now + life;
      const uint32_t dies = DiesHint(dead_at, now);
      for (const int64_t t : {now, now + life / 2, dead_at - 64, dead_at - 1}) {
        if (t < now || t >= dead_at) continue;
        // Alive at t: at most the period of its death may say "maybe".
        if ((t >> 6) < (dead_at >> 6)) {
          EXPECT_FALSE(MaybeDead(dies, t)) << "now " << now << " life " << life << " at " << t;
        }
      }
      if (life <= 3650 * kDay) {
        EXPECT_TRUE(MaybeDead(dies, dead_at)) << "now " << now << " life " << life;
        EXPECT_TRUE(MaybeDead(dies, dead_at + 30 * kDay)) << "now " << now << " life " << life;
      }
    }
  }
}

// Whatever the live entries' lifetimes (some past the header's death
// period's horizon; no exp at all means never).
TEST(TokenCacheTest, DeadEntriesAreReplacedBeforeLiveOnes) {
  constexpr int64_t kDay = 86400;
  for (const int64_t late_life : {int64_t{3600}, 30 * kDay, 400 * kDay, int64_t{-1}}) {
    std::unique_ptr<TokenCache> cache = MakeCache(TokenCache::kWays);
    // Half the bucket expires soon, half late (or never); none is ever hit.
    std::vector<TokenCacheKey> late;
    for (size_t i = 0; i < TokenCache::kWays; ++i) {
      TokenCacheKey key = cache->KeyOf(absl::StrCat("t-", i));
      const bool is_late = i % 2 == 0;
      ClaimsView claims = ExpiringAt(kNow + (is_late ? late_life : 10));
      if (is_late) {
        late.push_back(key);
        if (late_life < 0) claims.present = 0;
      }
      ASSERT_TRUE(cache->Insert(key, Alg::kHS256, 1, claims, kNow));
    }
    // At the first second the short-lived ones are dead, then 20 days on,
    // when those that replaced them are dead in turn.
    for (const int64_t later : {kNow + 10 + kLeeway, kNow + 20 * kDay}) {
      CachedToken hit;
      for (size_t i = 0; i < TokenCache::kWays / 2; ++i) {
        ASSERT_TRUE(cache->Insert(cache->KeyOf(absl::StrCat("new-", later, "-", i)), Alg::kHS256, 1,
                                  ExpiringAt(later + 3600), later));
      }
      for (const TokenCacheKey& key : late) {
        EXPECT_TRUE(cache->Lookup(key, later, &hit)) << late_life << " " << later - kNow;
      }
      EXPECT_EQ(cache->CountLive(later), TokenCache::kWays) << late_life;
      if (late_life == 3600) break;  // dead by the second `later` itself
    }
  }
}

}  // namespace
}  // namespace tokend::auth

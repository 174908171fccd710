// SPDX-License-Identifier: Apache-2.0
// Validator: a cache hit answers exactly as a full verification would.
// The differential test runs random sequences of tokens, audiences, clock
// steps, key removals and revocations through a Validator with a cache and
// one without, and requires identical answers.
#include "daemon/auth/validator.h"

#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/token_cache.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

constexpr int64_t kT0 = 1'700'000'000;

// Distinct secrets, long enough for every HS alg.
const std::string kSecret1(64, '1');
const std::string kSecret1Rotated(64, 'R');
const std::string kSecret2(64, '2');
const std::string kSecret3(32, '3');

struct KeySpec {
  std::string_view kid;
  std::string_view secret;
  Alg bound = Alg::kUnknown;
};

std::shared_ptr<const Keyring> Ring(const std::vector<KeySpec>& specs) {
  std::vector<KeyMaterial> material;
  for (const KeySpec& spec : specs) {
    KeyMaterial& m = material.emplace_back();
    m.kid = std::string(spec.kid);
    m.bound_alg = spec.bound;
    m.secret = SecretBytes(spec.secret);
    m.source = "test";
  }
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Keyring::Build(std::move(material));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *ring : Keyring::Empty();
}

std::shared_ptr<const KeySet> Set(std::shared_ptr<const Keyring> ring,
                                  std::string_view revoked = "") {
  return KeySet::Make(std::move(ring), RevocationList::Parse(revoked));
}

std::string Payload(std::string_view sub, int64_t exp, std::string_view extra = "") {
  return absl::StrCat(R"({"sub":)", JsonQuote(sub), R"(,"exp":)", exp, std::string(extra), "}");
}

std::unique_ptr<TokenCache> MakeCache(size_t entries, int64_t leeway) {
  TokenCache::Options options;
  options.max_entries = entries;
  options.leeway_seconds = leeway;
  absl::StatusOr<std::unique_ptr<TokenCache>> cache = TokenCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? *std::move(cache) : nullptr;
}

// The fields of a result that must agree between a hit and a miss, copied
// out of the views.
struct Answer {
  Status status;
  Alg alg;
  int64_t exp;
  std::string subject;
  std::string claims_json;
  bool operator==(const Answer&) const = default;
};

Answer AnswerOf(const ValidationResult& r) {
  return Answer{r.status, r.alg, r.exp, std::string(r.subject), std::string(r.claims_json)};
}

std::ostream& operator<<(std::ostream& os, const Answer& a) {
  return os << StatusName(a.status) << " alg=" << AlgName(a.alg) << " exp=" << a.exp << " sub='"
            << a.subject << "' claims='" << a.claims_json << "'";
}

// A validator with a cache beside one without, over one publisher.
class Pair {
 public:
  Pair(const Policy& policy, std::shared_ptr<const KeySet> keys, size_t cache_entries = 1024)
      : publisher_(std::move(keys)),
        cache_(MakeCache(cache_entries, policy.leeway_seconds)),
        cached_(policy, publisher_, cache_.get()),
        uncached_(policy, publisher_, nullptr) {}

  // Validates with both; fails the test when they disagree. Returns the
  // cached side's result.
  ValidationResult Check(std::string_view token, std::string_view aud, bool want_claims,
                         int64_t now) {
    ValidationResult with = cached_.Validate(token, aud, want_claims, now);
    ValidationResult without = uncached_.Validate(token, aud, want_claims, now);
    EXPECT_EQ(AnswerOf(with), AnswerOf(without)) << "token " << token << " aud '" << aud << "' now "
                                                 << now << (with.cache_hit ? " (hit)" : " (miss)");
    EXPECT_FALSE(without.cache_hit);
    return with;
  }

  KeySetPublisher& publisher() { return publisher_; }
  Validator& cached() { return cached_; }
  TokenCache& cache() { return *cache_; }

 private:
  KeySetPublisher publisher_;
  std::unique_ptr<TokenCache> cache_;
  Validator cached_;
  Validator uncached_;
};

TEST(ValidatorTest, SecondValidationIsAHitWithTheSameAnswer) {
  Policy policy;
  Pair pair(policy, Set(Ring({{"k1", kSecret1}})));
  const std::string token = MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, "k1"),
                                      Payload("alice", kT0 + 600), kSecret1);
  ValidationResult first = pair.Check(token, "", true, kT0);
  EXPECT_EQ(first.status, Status::kOk);
  EXPECT_FALSE(first.cache_hit);
  ValidationResult second = pair.Check(token, "", true, kT0 + 1);
  EXPECT_TRUE(second.cache_hit);
  EXPECT_EQ(second.status, Status::kOk);
  EXPECT_EQ(second.alg, Alg::kHS256);
  EXPECT_EQ(second.exp, kT0 + 600);
  EXPECT_EQ(second.subject, "alice");
  EXPECT_EQ(second.claims_json, Payload("alice", kT0 + 600));
  ValidationResult bare = pair.Check(token, "", false, kT0 + 2);
  EXPECT_TRUE(bare.cache_hit);
  EXPECT_TRUE(bare.claims_json.empty());
}

class ValidatorKeysTest : public ::testing::Test {
 protected:
  static std::shared_ptr<const Keyring> Keys(bool with_k1, bool k1_rotated = false) {
    std::vector<KeySpec> specs = {{"k2", kSecret2}};
    if (with_k1) specs.push_back({"k1", k1_rotated ? kSecret1Rotated : kSecret1});
    return Ring(specs);
  }
  Policy policy_;
  Pair pair_{policy_, Set(Keys(true))};
  const std::string token_ =
      MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, "k1"),
                Payload("alice", kT0 + 600, R"(,"aud":["api","web"])"), kSecret1);
  const std::string kidless_ =
      MintToken(Alg::kHS256, R"({"alg":"HS256"})", Payload("bob", kT0 + 600), kSecret1);

  void Cache(std::string_view token) {
    ASSERT_EQ(pair_.Check(token, "", false, kT0).status, Status::kOk);
    ASSERT_TRUE(pair_.Check(token, "", false, kT0).cache_hit);
  }
};

TEST_F(ValidatorKeysTest, TamperedCopiesOfACachedTokenNeverPass) {
  Cache(token_);
  const size_t payload_start = token_.find('.') + 1;
  const size_t sig_start = token_.rfind('.') + 1;
  int bad_signature = 0;
  for (size_t i = 0; i < token_.size(); ++i) {
    for (char c : {'A', 'f', '0', '_', '-'}) {
      if (token_[i] == c || token_[i] == '.') continue;
      std::string tampered = token_;
      tampered[i] = c;
      ValidationResult r = pair_.Check(tampered, "", false, kT0);
      EXPECT_NE(r.status, Status::kOk) << "position " << i;
      EXPECT_FALSE(r.cache_hit) << "position " << i;
      // The MAC covers the payload text and every signature character but
      // the last (whose low bits must be zero): those copies are all
      // BAD_SIGNATURE, however close to the cached token.
      if (i >= payload_start && i + 1 < token_.size() && i != sig_start - 1) {
        EXPECT_EQ(r.status, Status::kBadSignature) << "position " << i;
        ++bad_signature;
      }
    }
  }
  EXPECT_GT(bad_signature, 400);
  // Appending or dropping a byte is a different token too.
  EXPECT_NE(pair_.Check(token_ + "A", "", false, kT0).status, Status::kOk);
  EXPECT_NE(pair_.Check(token_.substr(0, token_.size() - 1), "", false, kT0).status, Status::kOk);
  // The original still hits.
  EXPECT_TRUE(pair_.Check(token_, "", false, kT0).cache_hit);
}

// Prepare() changes no answer: prepared tokens validated in order answer as
// an uncached validator does, cached ones as hits.
TEST_F(ValidatorKeysTest, PreparedTokensAnswerAsUnpreparedOnes) {
  Cache(token_);
  std::string tampered = token_;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  const std::vector<std::string_view> batch = {token_, tampered, kidless_, token_};
  pair_.cached().Prepare(batch);
  std::vector<bool> hits;
  for (std::string_view t : batch) hits.push_back(pair_.Check(t, "", false, kT0).cache_hit);
  EXPECT_EQ(hits, (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(pair_.Check(kidless_, "", false, kT0).status, Status::kOk);
}

// A prepared tag serves only the next prepared view: validating another
// token first (here a tampered copy of the same length, in another buffer)
// computes that token's own tag and drops the rest.
TEST_F(ValidatorKeysTest, APreparedTagNeverAnswersForAnotherToken) {
  Cache(token_);
  std::string tampered = token_;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  const std::vector<std::string_view> batch = {token_, token_};
  pair_.cached().Prepare(batch);
  ValidationResult r = pair_.Check(tampered, "", false, kT0);
  EXPECT_EQ(r.status, Status::kBadSignature);
  EXPECT_FALSE(r.cache_hit);
  EXPECT_TRUE(pair_.Check(token_, "", false, kT0).cache_hit);
  // Prepared in one order, validated in another.
  const std::vector<std::string_view> two = {tampered, token_};
  pair_.cached().Prepare(two);
  EXPECT_TRUE(pair_.Check(token_, "", false, kT0).cache_hit);
  EXPECT_EQ(pair_.Check(tampered, "", false, kT0).status, Status::kBadSignature);
}

TEST_F(ValidatorKeysTest, RemovingTheKeyTakesItsCachedTokensDownAtOnce) {
  Cache(token_);
  Cache(kidless_);
  pair_.publisher().Publish(Set(Keys(false)));
  ValidationResult r = pair_.Check(token_, "", false, kT0);
  EXPECT_EQ(r.status, Status::kUnknownKey);
  EXPECT_FALSE(r.cache_hit);
  // Without a kid every remaining key is tried, and none verifies.
  EXPECT_EQ(pair_.Check(kidless_, "", false, kT0).status, Status::kBadSignature);
  // Restoring the key restores the token.
  pair_.publisher().Publish(Set(Keys(true)));
  EXPECT_EQ(pair_.Check(token_, "", false, kT0).status, Status::kOk);
  EXPECT_TRUE(pair_.Check(token_, "", false, kT0).cache_hit);
}

TEST_F(ValidatorKeysTest, RewritingAKeyUnderTheSameKidTakesItsCachedTokensDown) {
  Cache(token_);
  pair_.publisher().Publish(Set(Keys(true, /*k1_rotated=*/true)));
  ValidationResult r = pair_.Check(token_, "", false, kT0);
  EXPECT_EQ(r.status, Status::kBadSignature);
  EXPECT_FALSE(r.cache_hit);
}

TEST_F(ValidatorKeysTest, ExpiryPassingWhileCachedGivesExpired) {
  Cache(token_);
  const int64_t last_good = kT0 + 600 + policy_.leeway_seconds - 1;
  ValidationResult r = pair_.Check(token_, "", false, last_good);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_TRUE(r.cache_hit);
  r = pair_.Check(token_, "", false, last_good + 1);
  EXPECT_EQ(r.status, Status::kExpired);
  EXPECT_EQ(r.exp, kT0 + 600);
  EXPECT_TRUE(r.subject.empty());
}

TEST_F(ValidatorKeysTest, AHitChecksTheRequestAudience) {
  Cache(token_);
  ValidationResult r = pair_.Check(token_, "web", false, kT0);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_TRUE(r.cache_hit);
  r = pair_.Check(token_, "other", false, kT0);
  EXPECT_EQ(r.status, Status::kAudienceMismatch);
  EXPECT_TRUE(r.cache_hit);
  EXPECT_TRUE(r.subject.empty());
  EXPECT_EQ(r.exp, kT0 + 600);
}

TEST_F(ValidatorKeysTest, RevocationPublishedAfterCachingApplies) {
  Cache(token_);
  Cache(kidless_);
  pair_.publisher().Publish(Set(Keys(true), absl::StrCat("# revoked\n", token_, "\n")));
  EXPECT_EQ(pair_.Check(token_, "", false, kT0).status, Status::kRevoked);
  EXPECT_EQ(pair_.Check(kidless_, "", false, kT0).status, Status::kOk);
}

TEST_F(ValidatorKeysTest, OnlyTokensThatPassAreCached) {
  const std::string expired =
      MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, "k1"), Payload("old", kT0 - 600), kSecret1);
  EXPECT_EQ(pair_.Check(expired, "", false, kT0).status, Status::kExpired);
  EXPECT_FALSE(pair_.Check(expired, "", false, kT0).cache_hit);
  EXPECT_EQ(pair_.Check(token_, "other", false, kT0).status, Status::kAudienceMismatch);
  EXPECT_FALSE(pair_.Check(token_, "other", false, kT0).cache_hit);
  const std::string unsigned_copy = token_.substr(0, token_.rfind('.') + 1);
  EXPECT_NE(pair_.Check(unsigned_copy, "", false, kT0).status, Status::kOk);
  EXPECT_EQ(pair_.cache().CountLive(kT0), 0u);
  EXPECT_EQ(pair_.Check(token_, "api", false, kT0).status, Status::kOk);
  EXPECT_EQ(pair_.cache().CountLive(kT0), 1u);
}

TEST_F(ValidatorKeysTest, TooLargeTokenIsRefusedBeforeTheCache) {
  Policy small;
  small.max_token_bytes = token_.size() - 1;
  Pair pair(small, Set(Keys(true)));
  ValidationResult r = pair.Check(token_, "", false, kT0);
  EXPECT_EQ(r.status, Status::kTooLarge);
  EXPECT_EQ(r.exp, 0);
  EXPECT_EQ(r.alg, Alg::kUnknown);
  EXPECT_EQ(pair.cache().CountLive(kT0), 0u);
}

TEST_F(ValidatorKeysTest, TokenWithClaimsLargerThanASlotBypassesTheCache) {
  const std::string big = MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, "k1"),
                                    Payload(std::string(200, 's'), kT0 + 600), kSecret1);
  EXPECT_EQ(pair_.Check(big, "", true, kT0).status, Status::kOk);
  ValidationResult r = pair_.Check(big, "", true, kT0);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_FALSE(r.cache_hit);
  EXPECT_EQ(r.subject, std::string(200, 's'));
}

// --- Differential property test ---------------------------------------------

struct World {
  std::vector<std::string> tokens;
  std::vector<std::shared_ptr<const Keyring>> rings;
  std::vector<std::string> revocations;
};

std::string Claims(std::string_view body) { return "{" + std::string(body) + "}"; }

World MakeWorld() {
  World w;
  auto mint = [&](Alg alg, std::string_view kid, std::string_view body, std::string_view secret) {
    std::string header = kid == "-"
                             ? absl::StrCat(R"({"alg":")", std::string(AlgName(alg)), R"("})")
                             : JwtHeaderJson(alg, kid);
    w.tokens.push_back(MintToken(alg, header, Claims(body), secret));
    return w.tokens.back();
  };
  int n = 0;
  auto sub = [&] { return absl::StrCat(R"("sub":"user-)", n++, R"(")"); };
  for (int i = 0; i < 3; ++i) {
    const int64_t exp = kT0 + 60 + 120 * i;  // expire as the clock advances
    const std::string times = absl::StrCat(R"("exp":)", exp, R"(,"iat":)", kT0 - 5);
    // Valid under k1, with several audience shapes and issuers.
    mint(Alg::kHS256, "k1", absl::StrCat(sub(), ",", times, R"(,"aud":"api","iss":"iss-a")"),
         kSecret1);
    mint(Alg::kHS256, "k1",
         absl::StrCat(sub(), ",", times, R"(,"aud":["api","web"],"iss":"iss-b","jti":"j)", i,
                      R"(")"),
         kSecret1);
    mint(Alg::kHS384, "k1", absl::StrCat(sub(), ",", times, R"(,"aud":[],"iss":"iss-z")"),
         kSecret1);
    mint(Alg::kHS512, "k2", absl::StrCat(sub(), ",", times, R"(,"iss":"iss-a","jti":"revoked")"),
         kSecret2);
    mint(Alg::kHS256, "k3", absl::StrCat(sub(), ",", times), kSecret3);
    // No kid: tried against every key.
    mint(Alg::kHS256, "-", absl::StrCat(sub(), ",", times, R"(,"aud":"web")"), kSecret2);
    // Not yet valid for a while; issued in the future; no exp.
    mint(Alg::kHS256, "k1",
         absl::StrCat(sub(), R"(,"exp":)", exp + 600, R"(,"nbf":)", kT0 + 60 * (i + 1)), kSecret1);
    mint(Alg::kHS256, "k2", absl::StrCat(sub(), R"(,"exp":)", exp, R"(,"iat":)", kT0 + 90 * i),
         kSecret2);
    mint(Alg::kHS256, "k1", absl::StrCat(sub(), R"(,"iss":"iss-a")"), kSecret1);
    // Signed with the rotated bytes of k1.
    mint(Alg::kHS256, "k1", absl::StrCat(sub(), ",", times), kSecret1Rotated);
  }
  // Claims too large for a slot; expired long ago; unknown kid.
  mint(Alg::kHS256, "k1",
       absl::StrCat(R"("sub":")", std::string(150, 'x'), R"(","exp":)", kT0 + 400), kSecret1);
  mint(Alg::kHS256, "k1", absl::StrCat(sub(), R"(,"exp":)", kT0 - 1000), kSecret1);
  mint(Alg::kHS256, "nope", absl::StrCat(sub(), R"(,"exp":)", kT0 + 400), kSecret1);
  // Validly signed, but the payload is not a claims object.
  mint(Alg::kHS256, "k1", R"("exp":1,"exp":2)", kSecret1);
  // Tampered copies of the first few tokens: a payload character and a
  // signature character changed.
  const size_t originals = w.tokens.size();
  for (size_t i = 0; i < 6 && i < originals; ++i) {
    std::string t = w.tokens[i];
    size_t p = t.find('.') + 3;
    t[p] = t[p] == 'A' ? 'B' : 'A';
    w.tokens.push_back(t);
    t = w.tokens[i];
    size_t s = t.rfind('.') + 5;
    t[s] = t[s] == 'A' ? 'B' : 'A';
    w.tokens.push_back(t);
  }
  w.tokens.push_back("not.a.token");
  w.tokens.push_back("eyJhbGciOiJub25lIn0.e30.");

  const KeySpec k1{"k1", kSecret1}, k1r{"k1", kSecret1Rotated}, k2{"k2", kSecret2},
      k3{"k3", kSecret3, Alg::kHS256};
  for (const std::vector<KeySpec>& specs : std::vector<std::vector<KeySpec>>{
           {k1, k2, k3}, {k1}, {k2}, {k1r, k2}, {k2, k3}, {k3, k1}, {}}) {
    w.rings.push_back(Ring(specs));
  }

  w.revocations = {"", "revoked\n", absl::StrCat("j1\n", w.tokens[0], "\n")};
  return w;
}

struct DifferentialCase {
  const char* name;
  Policy policy;
  size_t cache_entries;
};

std::vector<DifferentialCase> DifferentialCases() {
  std::vector<DifferentialCase> cases;
  cases.push_back({"default", Policy{}, 4096});
  cases.push_back({"tiny_cache", Policy{}, 8});
  Policy strict;
  strict.audiences = {"api"};
  strict.issuers = {"iss-a", "iss-b"};
  strict.leeway_seconds = 5;
  strict.check_iat = true;
  strict.required_claims = kClaimExp | kClaimSub;
  cases.push_back({"strict", strict, 4096});
  Policy lenient;
  lenient.leeway_seconds = 0;
  lenient.required_claims = 0;
  lenient.allowed_algs = AlgSet();
  lenient.allowed_algs.Add(Alg::kHS256);
  cases.push_back({"lenient", lenient, 64});
  return cases;
}

void PrintTo(const DifferentialCase& c, std::ostream* os) { *os << c.name; }

class ValidatorDifferentialTest : public ::testing::TestWithParam<DifferentialCase> {};

TEST_P(ValidatorDifferentialTest, CacheOnAndOffGiveIdenticalAnswers) {
  const DifferentialCase& c = GetParam();
  const World w = MakeWorld();
  Pair pair(c.policy, Set(w.rings[0]), c.cache_entries);
  const std::vector<std::string> audiences = {"", "api", "web", "other"};

  int hits = 0;
  std::vector<int> hit_status(kStatusCount, 0);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    int64_t now = kT0;
    pair.publisher().Publish(Set(w.rings[0]));
    for (int step = 0; step < 5000; ++step) {
      const uint32_t roll = rng() % 1000;
      if (roll < 20) {
        // A reload: another key set (all keys half the time) and revocation list.
        const size_t ring = rng() % 2 == 0 ? 0 : rng() % w.rings.size();
        pair.publisher().Publish(Set(w.rings[ring], w.revocations[rng() % w.revocations.size()]));
      } else if (roll < 120) {
        // A clock step, now and then backwards, wandering over the tokens'
        // lifetimes and starting again.
        now += static_cast<int64_t>(rng() % 21) - 8;
        if (now > kT0 + 500) now = kT0 - 40;
      }
      const std::string& token = w.tokens[rng() % w.tokens.size()];
      const std::string& aud = audiences[rng() % audiences.size()];
      ValidationResult r = pair.Check(token, aud, rng() % 2 == 0, now);
      if (r.cache_hit) {
        ++hits;
        ++hit_status[static_cast<int>(r.status)];
      }
      if (HasFailure()) return;
    }
  }
  // The cache took part, and answered more than OK.
  EXPECT_GT(hits, 500);
  EXPECT_GT(hit_status[static_cast<int>(Status::kOk)], 0);
  int kinds = 0;
  for (int n : hit_status) kinds += n > 0;
  EXPECT_GE(kinds, 3);
}

INSTANTIATE_TEST_SUITE_P(Policies, ValidatorDifferentialTest,
                         ::testing::ValuesIn(DifferentialCases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ValidatorTest, NullCacheMeansEveryCallVerifies) {
  Policy policy;
  KeySetPublisher publisher(Set(Ring({{"k1", kSecret1}})));
  Validator v(policy, publisher, nullptr);
  const std::string token = MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, "k1"),
                                      Payload("alice", kT0 + 600), kSecret1);
  for (int i = 0; i < 3; ++i) {
    ValidationResult r = v.Validate(token, "", false, kT0);
    EXPECT_EQ(r.status, Status::kOk);
    EXPECT_FALSE(r.cache_hit);
  }
}

}  // namespace
}  // namespace tokend::auth

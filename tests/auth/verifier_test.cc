// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/verifier.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/auth/base64url.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/secret.h"
#include "daemon/auth/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

using ::testing::AnyOf;

// Secrets of the test keys: 32 bytes or more, none published anywhere.
constexpr std::string_view kSecret1 = "verifier-test-secret-1-Zq8vK2mW4xT7pL9n";
constexpr std::string_view kSecret2 = "verifier-test-secret-2-Hr3bN6cJ1yD5gF0s";
constexpr std::string_view kSecret3 = "verifier-test-secret-3-Pu7eA4kQ2wX9tM6v";
// 64 bytes or more: long enough for HS512.
constexpr std::string_view kSecret64 =
    "verifier-test-secret-64-Lk4Jd9Sx2Qw7Ec5Rv1Tb8Yn3Um6Io0Pa4Zs7Xd2Cf";
constexpr std::string_view kSecret64b =
    "verifier-test-secret-64b-Wq2Ez8Rt5Yu1Io7Pa3Sd9Fg4Hj6Kl0Zx5Cv2Bn8";
static_assert(kSecret1.size() < 48 && kSecret2.size() < 48 && kSecret3.size() < 48);
static_assert(kSecret64.size() >= 64 && kSecret64b.size() >= 64);

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kLeeway = 30;

struct KeySpec {
  std::string kid;
  Alg bound = Alg::kUnknown;
  std::string_view secret;
};

std::shared_ptr<const Keyring> MakeRing(const std::vector<KeySpec>& specs) {
  std::vector<KeyMaterial> material;
  for (const KeySpec& spec : specs) {
    KeyMaterial m;
    m.kid = spec.kid;
    m.bound_alg = spec.bound;
    m.secret = SecretBytes(spec.secret);
    m.source = "test:" + spec.kid;
    material.push_back(std::move(m));
  }
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Keyring::Build(std::move(material));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *ring : Keyring::Empty();
}

std::shared_ptr<const KeySet> MakeSet(
    std::shared_ptr<const Keyring> ring,
    std::shared_ptr<const RevocationList> revoked = RevocationList::Empty()) {
  return KeySet::Make(std::move(ring), std::move(revoked));
}

std::string Header(Alg alg, std::string_view kid) { return JwtHeaderJson(alg, kid); }

// {"sub":"alice","exp":<exp>} plus `extra` members (each starting with ',').
std::string Claims(int64_t exp, std::string_view extra = "") {
  return R"({"sub":"alice","exp":)" + std::to_string(exp) + std::string(extra) + "}";
}

// A compact token whose segments are given as base64url text, MACed with
// HMAC-SHA256 under `secret`: for tokens the minter cannot express (a
// non-canonical payload encoding).
std::string SignSegments(std::string_view header_b64, std::string_view payload_b64,
                         std::string_view secret) {
  std::string input = std::string(header_b64) + "." + std::string(payload_b64);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  EXPECT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len),
            nullptr);
  return input + "." +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() {
    policy_.leeway_seconds = kLeeway;
    keys_ = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret1}}));
  }

  // Verify() with a fresh Verifier for the current policy_. The result's
  // views live until the next Check().
  VerifyResult Check(std::string_view token, int64_t now = kNow, std::string_view audience = "") {
    verifier_ = std::make_unique<Verifier>(policy_);
    VerifyResult out;
    verifier_->Verify(token, audience, *keys_, now, &out);
    return out;
  }

  std::string Mint(std::string_view payload, std::string_view kid = "k1",
                   std::string_view secret = kSecret1, Alg alg = Alg::kHS256) {
    return MintToken(alg, Header(alg, kid), payload, secret);
  }

  Policy policy_;
  std::shared_ptr<const KeySet> keys_;
  std::unique_ptr<Verifier> verifier_;
};

// ---------------------------------------------------------------------------
// Published vectors.

// RFC 7515 Appendix A.1: HS256 with the JWK key of A.1.1, no kid.
//   header:  {"typ":"JWT",\r\n "alg":"HS256"}
//   payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
// The JWK's "k": 64 bytes once decoded.
constexpr std::string_view kRfc7515A1Key =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr int64_t kRfc7515A1Exp = 1300819380;

TEST(PublishedVectorTest, Rfc7515A1VerifiesBeforeItsExpiryAndExpiresAfter) {
  std::string secret;
  ASSERT_TRUE(Base64UrlDecode(kRfc7515A1Key, secret));
  ASSERT_EQ(secret.size(), 64u);
  // Unbound, so the 64-byte key serves HS256 for this kid-less token.
  auto keys = MakeSet(MakeRing({{"rfc7515-a1", Alg::kUnknown, secret}}));
  Policy policy;
  policy.leeway_seconds = 0;
  Verifier verifier(policy);

  VerifyResult out;
  verifier.Verify(kRfc7515A1Token, "", *keys, kRfc7515A1Exp - 1, &out);
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.alg, Alg::kHS256);
  ASSERT_NE(out.key, nullptr);
  EXPECT_EQ(out.key->kid, "rfc7515-a1");
  EXPECT_EQ(out.payload_json,
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  ASSERT_TRUE(out.claims_parsed);
  EXPECT_EQ(out.claims.exp, kRfc7515A1Exp);
  EXPECT_EQ(out.claims.iss, "joe");

  verifier.Verify(kRfc7515A1Token, "", *keys, kRfc7515A1Exp, &out);
  EXPECT_EQ(out.status, Status::kExpired);
  EXPECT_EQ(out.key, keys->keys->FindByKid("rfc7515-a1"));
  verifier.Verify(kRfc7515A1Token, "", *keys, 1'800'000'000, &out);
  EXPECT_EQ(out.status, Status::kExpired);
}

// RFC 7520 §4.4 (Figure 34 key, Figure 35 token): HS256 with a kid.
//   header:  {"alg":"HS256","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037"}
//   payload: It’s a dangerous business, Frodo, going out your door. You step
//            onto the road, and if you don't keep your feet, there’s no
//            knowing where you might be swept off to.
// The payload is text, not a JSON object: the JWS layer accepts it, a JWT
// verifier must not.
constexpr std::string_view kRfc7520Kid = "018c0ae5-4d9b-471b-bfd6-eef314bc7037";
constexpr std::string_view kRfc7520Key = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
constexpr std::string_view kRfc7520Token =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9."
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250by"
    "B0"
    "aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW"
    "91"
    "IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4."
    "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

TEST(PublishedVectorTest, Rfc7520Section44VerifiesAtTheJwsLayerOnly) {
  std::string secret;
  ASSERT_TRUE(Base64UrlDecode(kRfc7520Key, secret));
  auto keys = MakeSet(MakeRing({{std::string(kRfc7520Kid), Alg::kHS256, secret}}));
  Policy policy;
  Verifier verifier(policy);

  VerifyResult out;
  EXPECT_EQ(verifier.VerifySignature(kRfc7520Token, *keys->keys, &out), Status::kOk);
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.alg, Alg::kHS256);
  ASSERT_NE(out.key, nullptr);
  EXPECT_EQ(out.key->kid, kRfc7520Kid);
  EXPECT_EQ(out.payload_json,
            "It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, "
            "and if you don't keep your feet, there\u2019s no knowing where you might be swept off "
            "to.");
  EXPECT_FALSE(out.claims_parsed);

  // As a JWT it is not a claims object.
  verifier.Verify(kRfc7520Token, "", *keys, kNow, &out);
  EXPECT_EQ(out.status, Status::kMalformed);
  EXPECT_NE(out.key, nullptr);
  EXPECT_FALSE(out.claims_parsed);

  // The last signature character changed: the same vector must now fail.
  std::string bad(kRfc7520Token);
  bad[bad.size() - 2] = bad[bad.size() - 2] == 'p' ? 'q' : 'p';
  EXPECT_EQ(verifier.VerifySignature(bad, *keys->keys, &out), Status::kBadSignature);
  EXPECT_EQ(out.key, nullptr);
}

// ---------------------------------------------------------------------------
// Mutations of a valid token.

// Statuses that can be reported before the MAC has verified.
auto PreMacStatus() {
  return AnyOf(Status::kMalformed, Status::kBadSignature, Status::kUnknownKey,
               Status::kAlgNotAllowed, Status::kUnsupportedHeader, Status::kTooLarge);
}

TEST_F(VerifierTest, NoSingleByteChangeTruncationOrExtensionVerifies) {
  const std::string token = Mint(Claims(kNow + 3600, R"(,"aud":"api","jti":"j-1")"));
  Verifier verifier(policy_);
  VerifyResult out;
  verifier.Verify(token, "", *keys_, kNow, &out);
  ASSERT_EQ(out.status, Status::kOk);

  const char kValues[] = {'A', 'B', 'Q', 'g',  'w',  '0',    '9',    '_',    '-', '.', '=',
                          '+', '/', ' ', '\n', '\0', '\x7f', '\x80', '\xff', 'e', 'y', 'J'};
  size_t tried = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    std::vector<char> values(std::begin(kValues), std::end(kValues));
    values.push_back(static_cast<char>(token[i] ^ 0x01));
    values.push_back(static_cast<char>(token[i] ^ 0x20));
    for (char v : values) {
      if (v == token[i]) continue;
      std::string mutated = token;
      mutated[i] = v;
      verifier.Verify(mutated, "", *keys_, kNow, &out);
      ASSERT_NE(out.status, Status::kOk) << "position " << i << " value " << int{v};
      ASSERT_THAT(out.status, PreMacStatus()) << "position " << i;
      ASSERT_EQ(out.key, nullptr);
      ASSERT_FALSE(out.claims_parsed);
      ++tried;
    }
  }
  for (size_t len = 0; len < token.size(); ++len) {
    verifier.Verify(std::string_view(token).substr(0, len), "", *keys_, kNow, &out);
    ASSERT_THAT(out.status, PreMacStatus()) << "truncated to " << len;
    // Without its first bytes, too.
    verifier.Verify(std::string_view(token).substr(token.size() - len), "", *keys_, kNow, &out);
    ASSERT_THAT(out.status, PreMacStatus()) << "last " << len << " bytes";
  }
  for (const std::string& tail :
       {std::string("A"), std::string("AA"), std::string("AAAA"), std::string("="),
        std::string("=="), std::string("."), std::string(".A"), std::string(" "), std::string("\n"),
        std::string("\0", 1)}) {
    std::string extended = token + tail;
    verifier.Verify(extended, "", *keys_, kNow, &out);
    ASSERT_THAT(out.status, PreMacStatus()) << "extended by " << tail.size();
    verifier.Verify(tail + token, "", *keys_, kNow, &out);
    ASSERT_THAT(out.status, PreMacStatus()) << "prefixed by " << tail.size();
  }
  EXPECT_GT(tried, token.size() * 10);

  // The verifier is still sound after all of that.
  verifier.Verify(token, "", *keys_, kNow, &out);
  EXPECT_EQ(out.status, Status::kOk);
}

TEST_F(VerifierTest, EverySignatureByteFlipIsRejected) {
  const std::string token = Mint(Claims(kNow + 3600));
  const size_t sig_start = token.rfind('.') + 1;
  Verifier verifier(policy_);
  VerifyResult out;
  for (size_t i = sig_start; i < token.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string mutated = token;
      mutated[i] = static_cast<char>(mutated[i] ^ (1 << bit));
      verifier.Verify(mutated, "", *keys_, kNow, &out);
      ASSERT_THAT(out.status, AnyOf(Status::kMalformed, Status::kBadSignature))
          << "position " << i << " bit " << bit;
    }
  }
}

// ---------------------------------------------------------------------------
// One test per status, through Verify().

TEST_F(VerifierTest, OkFillsTheResult) {
  const std::string payload = Claims(kNow + 60, R"(,"iss":"idp","aud":["a","b"],"jti":"j")");
  VerifyResult out = Check(Mint(payload));
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.alg, Alg::kHS256);
  ASSERT_NE(out.key, nullptr);
  EXPECT_EQ(out.key->kid, "k1");
  EXPECT_EQ(out.payload_json, payload);
  ASSERT_TRUE(out.claims_parsed);
  EXPECT_EQ(out.claims.exp, kNow + 60);
  EXPECT_EQ(out.claims.sub, "alice");
  EXPECT_EQ(out.claims.iss, "idp");
  EXPECT_EQ(out.claims.jti, "j");
  ASSERT_EQ(out.claims.aud.size(), 2u);
  EXPECT_EQ(out.claims.aud[1], "b");
}

TEST_F(VerifierTest, EveryHmacAlgVerifiesWithALongEnoughKey) {
  keys_ = MakeSet(MakeRing({{"k64", Alg::kUnknown, kSecret64}}));
  for (Alg alg : {Alg::kHS256, Alg::kHS384, Alg::kHS512}) {
    VerifyResult out = Check(Mint(Claims(kNow + 60), "k64", kSecret64, alg));
    EXPECT_EQ(out.status, Status::kOk) << AlgName(alg);
    EXPECT_EQ(out.alg, alg);
    out = Check(Mint(Claims(kNow + 60), "", kSecret64, alg));
    EXPECT_EQ(out.status, Status::kOk) << AlgName(alg) << " without kid";
  }
}

TEST_F(VerifierTest, MalformedSegmentsAreMalformed) {
  const std::string good = Mint(Claims(kNow + 60));
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string header = good.substr(0, dot1);
  const std::string payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string sig = good.substr(dot2 + 1);
  for (const std::string& token :
       {std::string(""), std::string("."), std::string(".."), header, header + "." + payload,
        good + ".", good + "." + sig, "." + payload + "." + sig, header + "..." + sig,
        header + "." + payload + "." + sig + "=", header + "=." + payload + "." + sig}) {
    EXPECT_EQ(Check(token).status, Status::kMalformed) << token;
  }
  // A header that is not JSON.
  EXPECT_EQ(Check(MintToken(Alg::kHS256, "not json", Claims(kNow + 60), kSecret1)).status,
            Status::kMalformed);
  // A signature of a length that is 1 mod 4 (two characters more).
  EXPECT_EQ(Check(good + "AA").status, Status::kMalformed);
}

TEST_F(VerifierTest, ClaimsThatAreNotOneObjectAreMalformedAfterTheMac) {
  for (std::string_view payload :
       {R"({"exp":4102444800}{"exp":4102444800})", R"({"exp":4102444800,"\u0065xp":1})",
        R"({"exp":4102444800,"exp":4102444800})", R"({"exp":"4102444800"})", R"([1,2])",
        R"({"exp":4102444800)", "", "null", R"({"exp":4102444800} x)"}) {
    VerifyResult out = Check(Mint(payload));
    EXPECT_EQ(out.status, Status::kMalformed) << payload;
    EXPECT_NE(out.key, nullptr) << "the MAC verified: " << payload;
    EXPECT_EQ(out.payload_json, payload);
    EXPECT_FALSE(out.claims_parsed);
  }
}

TEST_F(VerifierTest, NonCanonicalPayloadEncodingIsMalformedEvenWithAValidMac) {
  // "AB" has non-zero trailing bits ("AA" is the canonical form of 0x00);
  // the MAC covers the text, so it verifies, but the payload is refused.
  const std::string header_b64 = Base64UrlEncode(Header(Alg::kHS256, "k1"));
  Verifier verifier(policy_);
  VerifyResult out;
  EXPECT_EQ(verifier.VerifySignature(SignSegments(header_b64, "AB", kSecret1), *keys_->keys, &out),
            Status::kMalformed);
  // Same for a claims payload with one trailing bit set in its last character.
  std::string payload_b64 = Base64UrlEncode(Claims(kNow + 60));
  ASSERT_NE(payload_b64.size() % 4, 0u);
  const std::string canonical = SignSegments(header_b64, payload_b64, kSecret1);
  EXPECT_EQ(Check(canonical).status, Status::kOk);
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t last = alphabet.find(payload_b64.back());
  payload_b64.back() = alphabet[last | 1];
  ASSERT_NE(payload_b64.back(), alphabet[last]);
  EXPECT_EQ(Check(SignSegments(header_b64, payload_b64, kSecret1)).status, Status::kMalformed);
}

TEST_F(VerifierTest, WrongKeyIsBadSignature) {
  VerifyResult out = Check(Mint(Claims(kNow + 60), "k1", kSecret2));
  EXPECT_EQ(out.status, Status::kBadSignature);
  EXPECT_EQ(out.alg, Alg::kHS256);
  EXPECT_EQ(out.key, nullptr);
  EXPECT_TRUE(out.payload_json.empty());
  EXPECT_FALSE(out.claims_parsed);
}

TEST_F(VerifierTest, SignatureOfWrongLengthIsBadSignature) {
  const std::string token = Mint(Claims(kNow + 60));
  const std::string signing_input = token.substr(0, token.rfind('.') + 1);
  // Empty, truncated MAC (16 bytes), an HS512-sized tag on an HS256 token,
  // and a long canonical segment.
  for (const std::string& sig :
       {std::string(""), Base64UrlEncode(std::string(16, 'x')),
        Base64UrlEncode(std::string(31, 'x')), Base64UrlEncode(std::string(33, 'x')),
        Base64UrlEncode(std::string(64, 'x')), Base64UrlEncode(std::string(1000, 'x'))}) {
    EXPECT_EQ(Check(signing_input + sig).status, Status::kBadSignature) << sig.size();
  }
  // The real MAC truncated to 16 bytes.
  std::string mac;
  ASSERT_TRUE(Base64UrlDecode(std::string_view(token).substr(token.rfind('.') + 1), mac));
  EXPECT_EQ(Check(signing_input + Base64UrlEncode(mac.substr(0, 16))).status,
            Status::kBadSignature);
  // A long segment that is not canonical base64url is malformed.
  std::string long_bad = Base64UrlEncode(std::string(999, 'x')) + "A";
  ASSERT_EQ(long_bad.size() % 4, 1u);
  EXPECT_EQ(Check(signing_input + long_bad).status, Status::kMalformed);
}

TEST_F(VerifierTest, UnknownKidIsUnknownKey) {
  VerifyResult out = Check(Mint(Claims(kNow + 60), "nope"));
  EXPECT_EQ(out.status, Status::kUnknownKey);
  EXPECT_EQ(out.alg, Alg::kHS256);  // the header parsed
  EXPECT_EQ(out.key, nullptr);
}

TEST_F(VerifierTest, EmptyKeyringIsUnknownKeyWithOrWithoutKid) {
  keys_ = MakeSet(Keyring::Empty());
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k1")).status, Status::kUnknownKey);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "")).status, Status::kUnknownKey);
}

TEST_F(VerifierTest, NoKidAndNoKeyForTheAlgIsUnknownKey) {
  // k1 is shorter than 48 bytes: it serves HS256 only.
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "", kSecret1, Alg::kHS384)).status, Status::kUnknownKey);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "", kSecret1, Alg::kHS512)).status, Status::kUnknownKey);
}

TEST_F(VerifierTest, NoKidTokenVerifiesAgainstTheSecondOfThreeKeys) {
  keys_ = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret1},
                            {"k2", Alg::kUnknown, kSecret2},
                            {"k3", Alg::kUnknown, kSecret3}}));
  VerifyResult out = Check(Mint(Claims(kNow + 60), "", kSecret2));
  EXPECT_EQ(out.status, Status::kOk);
  ASSERT_NE(out.key, nullptr);
  EXPECT_EQ(out.key->kid, "k2");
  // With a kid, that key only: k2's signature under kid k1 or k3 fails.
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k1", kSecret2)).status, Status::kBadSignature);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k3", kSecret2)).status, Status::kBadSignature);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k2", kSecret2)).status, Status::kOk);
  // Signed by none of them.
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "", kSecret64)).status, Status::kBadSignature);
}

// One Verifier remembers the key its last kid named; that must never carry
// over to another keyring, even one built where a freed one lay.
TEST_F(VerifierTest, OneVerifierFollowsEachKeyringItIsGiven) {
  Verifier verifier(policy_);
  const std::string t1 = Mint(Claims(kNow + 60), "k1", kSecret1);
  const std::string t2 = Mint(Claims(kNow + 60), "k1", kSecret2);
  const auto check = [&](const std::string& token, const std::shared_ptr<const KeySet>& keys) {
    VerifyResult out;
    verifier.Verify(token, "", *keys, kNow, &out);
    return out;
  };
  const auto a = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret1}}));
  auto b = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret2}}));
  const auto c = MakeSet(MakeRing({{"k2", Alg::kUnknown, kSecret1}}));

  VerifyResult out = check(t1, a);
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.key, a->keys->FindByKid("k1"));
  EXPECT_EQ(check(t1, b).status, Status::kBadSignature);
  out = check(t2, b);
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.key, b->keys->FindByKid("k1"));
  EXPECT_EQ(check(t2, c).status, Status::kUnknownKey);
  EXPECT_EQ(check(t2, a).status, Status::kBadSignature);
  EXPECT_EQ(check(t1, a).status, Status::kOk);

  // Free b (after its key was the last one found) and build rings until one
  // lands at its address, as the allocator tends to arrange.
  EXPECT_EQ(check(t2, b).status, Status::kOk);
  const Keyring* freed = b->keys.get();
  b.reset();
  std::vector<std::shared_ptr<const KeySet>> rebuilt;
  for (int i = 0; i < 16; ++i) {
    rebuilt.push_back(MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret1}})));
    if (rebuilt.back()->keys.get() == freed) break;
  }
  out = check(t2, rebuilt.back());
  EXPECT_EQ(out.status, Status::kBadSignature);
  out = check(t1, rebuilt.back());
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.key, rebuilt.back()->keys->FindByKid("k1"));
}

TEST_F(VerifierTest, NoKidSkipsKeysBoundToAnotherAlg) {
  keys_ = MakeSet(
      MakeRing({{"for-256", Alg::kHS256, kSecret64}, {"for-384", Alg::kHS384, kSecret64b}}));
  VerifyResult out = Check(Mint(Claims(kNow + 60), "", kSecret64b, Alg::kHS384));
  EXPECT_EQ(out.status, Status::kOk);
  ASSERT_NE(out.key, nullptr);
  EXPECT_EQ(out.key->kid, "for-384");
  // MACed with the HS256-bound key's bytes: that key is not tried for HS384.
  out = Check(Mint(Claims(kNow + 60), "", kSecret64, Alg::kHS384));
  EXPECT_EQ(out.status, Status::kBadSignature);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "", kSecret64, Alg::kHS512)).status, Status::kUnknownKey);
}

TEST_F(VerifierTest, KeyBoundToAnotherAlgIsAlgNotAllowed) {
  keys_ = MakeSet(MakeRing({{"k64", Alg::kHS256, kSecret64}}));
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k64", kSecret64, Alg::kHS256)).status, Status::kOk);
  // Correctly MACed under the same bytes, but with an alg the key is not bound to.
  VerifyResult out = Check(Mint(Claims(kNow + 60), "k64", kSecret64, Alg::kHS512));
  EXPECT_EQ(out.status, Status::kAlgNotAllowed);
  EXPECT_EQ(out.alg, Alg::kHS512);
  EXPECT_EQ(out.key, nullptr);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k64", kSecret64, Alg::kHS384)).status,
            Status::kAlgNotAllowed);
}

TEST_F(VerifierTest, KeyTooShortForTheAlgIsAlgNotAllowed) {
  // k1 (under 48 bytes, unbound) serves HS256 only: HS384 and HS512 need more.
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k1", kSecret1, Alg::kHS512)).status,
            Status::kAlgNotAllowed);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k1", kSecret1, Alg::kHS384)).status,
            Status::kAlgNotAllowed);
}

TEST_F(VerifierTest, AlgOutsideThePolicyIsAlgNotAllowed) {
  keys_ = MakeSet(MakeRing({{"k64", Alg::kUnknown, kSecret64}}));
  policy_.allowed_algs = AlgSet();
  policy_.allowed_algs.Add(Alg::kHS256);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k64", kSecret64, Alg::kHS256)).status, Status::kOk);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60), "k64", kSecret64, Alg::kHS512)).status,
            Status::kAlgNotAllowed);
}

TEST_F(VerifierTest, AlgNoneInAnySpellingIsAlgNotAllowed) {
  for (std::string_view alg : {"none", "None", "NONE", "nOnE"}) {
    for (std::string_view kid : {"", ",\"kid\":\"k1\""}) {
      const std::string header = "{\"alg\":\"" + std::string(alg) + "\"" + std::string(kid) + "}";
      const std::string unsigned_token =
          Base64UrlEncode(header) + "." + Base64UrlEncode(Claims(kNow + 60)) + ".";
      VerifyResult out = Check(unsigned_token);
      EXPECT_EQ(out.status, Status::kAlgNotAllowed) << header;
      EXPECT_EQ(out.alg, Alg::kUnknown);
      // With an HS256 MAC attached, still refused.
      EXPECT_EQ(Check(MintToken(Alg::kHS256, header, Claims(kNow + 60), kSecret1)).status,
                Status::kAlgNotAllowed)
          << header;
    }
  }
}

TEST_F(VerifierTest, NonHmacAlgsAreAlgNotAllowed) {
  for (std::string_view alg : {"RS256", "ES256", "PS256", "EdDSA", "hs256", "HS257", ""}) {
    const std::string header = "{\"alg\":\"" + std::string(alg) + "\",\"kid\":\"k1\"}";
    EXPECT_EQ(Check(MintToken(Alg::kHS256, header, Claims(kNow + 60), kSecret1)).status,
              Status::kAlgNotAllowed)
        << header;
  }
}

TEST_F(VerifierTest, CritHeaderIsUnsupportedHeader) {
  const std::string header = R"({"alg":"HS256","kid":"k1","crit":["exp"],"exp":1})";
  VerifyResult out = Check(MintToken(Alg::kHS256, header, Claims(kNow + 60), kSecret1));
  EXPECT_EQ(out.status, Status::kUnsupportedHeader);
  EXPECT_EQ(out.key, nullptr);
  const std::string b64_header = R"({"alg":"HS256","kid":"k1","b64":false,"crit":["b64"]})";
  EXPECT_EQ(Check(MintToken(Alg::kHS256, b64_header, Claims(kNow + 60), kSecret1)).status,
            Status::kUnsupportedHeader);
}

TEST_F(VerifierTest, ExpiryEdgeHonoursTheLeeway) {
  const int64_t exp = kNow;
  const std::string token = Mint(Claims(exp));
  // Expired when exp <= now - leeway.
  EXPECT_EQ(Check(token, exp + kLeeway).status, Status::kExpired);
  EXPECT_EQ(Check(token, exp + kLeeway - 1).status, Status::kOk);
  EXPECT_EQ(Check(token, exp + kLeeway + 1000).status, Status::kExpired);
  VerifyResult out = Check(token, exp + kLeeway);
  EXPECT_TRUE(out.claims_parsed);
  EXPECT_NE(out.key, nullptr);
  EXPECT_EQ(out.claims.exp, exp);
}

TEST_F(VerifierTest, NotBeforeEdgeHonoursTheLeeway) {
  const int64_t nbf = kNow;
  const std::string token = Mint(Claims(kNow + 3600, ",\"nbf\":" + std::to_string(nbf)));
  // Not yet valid when nbf > now + leeway.
  EXPECT_EQ(Check(token, nbf - kLeeway - 1).status, Status::kNotYetValid);
  EXPECT_EQ(Check(token, nbf - kLeeway).status, Status::kOk);
  EXPECT_EQ(Check(token, nbf).status, Status::kOk);
}

TEST_F(VerifierTest, IssuedAtInTheFutureIsNotYetValidOnlyWhenChecked) {
  const int64_t iat = kNow;
  const std::string token = Mint(Claims(kNow + 3600, ",\"iat\":" + std::to_string(iat)));
  EXPECT_EQ(Check(token, iat - kLeeway - 1).status, Status::kOk);
  policy_.check_iat = true;
  EXPECT_EQ(Check(token, iat - kLeeway - 1).status, Status::kNotYetValid);
  EXPECT_EQ(Check(token, iat - kLeeway).status, Status::kOk);
}

TEST_F(VerifierTest, AudienceMismatchAndRequestAudience) {
  policy_.audiences = {"api.example"};
  const std::string mine = Mint(Claims(kNow + 60, R"(,"aud":["other","api.example"])"));
  const std::string theirs = Mint(Claims(kNow + 60, R"(,"aud":"other")"));
  const std::string none = Mint(Claims(kNow + 60));
  EXPECT_EQ(Check(mine).status, Status::kOk);
  EXPECT_EQ(Check(theirs).status, Status::kAudienceMismatch);
  EXPECT_NE(Check(none).status, Status::kOk);
  // The request's audience replaces the policy's.
  EXPECT_EQ(Check(theirs, kNow, "other").status, Status::kOk);
  EXPECT_EQ(Check(mine, kNow, "third").status, Status::kAudienceMismatch);
}

TEST_F(VerifierTest, IssuerMismatch) {
  policy_.issuers = {"https://idp.example"};
  EXPECT_EQ(Check(Mint(Claims(kNow + 60, R"(,"iss":"https://idp.example")"))).status, Status::kOk);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60, R"(,"iss":"https://evil.example")"))).status,
            Status::kIssuerMismatch);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60))).status, Status::kIssuerMismatch);
}

TEST_F(VerifierTest, RevokedByJtiOrWholeToken) {
  const std::string listed_jti = Mint(Claims(kNow + 60, R"(,"jti":"revoked-1")"));
  const std::string other_jti = Mint(Claims(kNow + 60, R"(,"jti":"fine-1")"));
  const std::string whole = Mint(Claims(kNow + 61));
  keys_ = MakeSet(keys_->keys, RevocationList::Parse("# revoked\nrevoked-1\n" + whole + "\n"));
  EXPECT_EQ(Check(listed_jti).status, Status::kRevoked);
  EXPECT_EQ(Check(whole).status, Status::kRevoked);
  EXPECT_EQ(Check(other_jti).status, Status::kOk);
  EXPECT_EQ(Check(Mint(Claims(kNow + 62))).status, Status::kOk);
}

TEST_F(VerifierTest, TooLargeIsCheckedFirst) {
  const std::string token = Mint(Claims(kNow + 60));
  policy_.max_token_bytes = token.size();
  EXPECT_EQ(Check(token).status, Status::kOk);
  policy_.max_token_bytes = token.size() - 1;
  VerifyResult out = Check(token);
  EXPECT_EQ(out.status, Status::kTooLarge);
  EXPECT_EQ(out.alg, Alg::kUnknown);
  // Before anything else: garbage of that size is too large, not malformed.
  EXPECT_EQ(Check(std::string(token.size(), '!')).status, Status::kTooLarge);
}

TEST_F(VerifierTest, MissingRequiredClaim) {
  EXPECT_EQ(Check(Mint(R"({"sub":"alice"})")).status, Status::kMissingClaim);
  policy_.required_claims = kClaimExp | kClaimSub | kClaimJti;
  EXPECT_EQ(Check(Mint(Claims(kNow + 60))).status, Status::kMissingClaim);
  EXPECT_EQ(Check(Mint(Claims(kNow + 60, R"(,"jti":"x")"))).status, Status::kOk);
  policy_.required_claims = 0;
  EXPECT_EQ(Check(Mint(R"({"sub":"alice"})")).status, Status::kOk);
}

TEST_F(VerifierTest, BadSignatureNeverReportsAClaimStatus) {
  policy_.audiences = {"api.example"};
  policy_.issuers = {"https://idp.example"};
  policy_.required_claims = kClaimExp | kClaimJti;
  policy_.check_iat = true;
  const std::string bad_claims[] = {
      Claims(kNow - 3600),                           // expired
      Claims(kNow + 60, ",\"nbf\":4102444800"),      // not yet valid
      Claims(kNow + 60, ",\"iat\":4102444800"),      // issued in the future
      Claims(kNow + 60, R"(,"aud":"x","jti":"j")"),  // wrong audience
      Claims(kNow + 60, R"(,"iss":"x","jti":"j")"),  // wrong issuer
      R"({"sub":"alice"})",                          // missing claims
      R"({"exp":1,"exp":2})",                        // duplicate
      "not json",                                    // not JSON
  };
  for (const std::string& claims : bad_claims) {
    VerifyResult out = Check(Mint(claims, "k1", kSecret2));
    EXPECT_EQ(out.status, Status::kBadSignature) << claims;
    EXPECT_FALSE(out.claims_parsed);
    EXPECT_TRUE(out.payload_json.empty());
    out = Check(Mint(claims, "", kSecret2));
    EXPECT_EQ(out.status, Status::kBadSignature) << claims << " (no kid)";
  }
}

// ---------------------------------------------------------------------------
// State kept between calls.

TEST_F(VerifierTest, AlternatingHeadersAndPayloadsOnOneVerifier) {
  keys_ = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret1}, {"k2", Alg::kUnknown, kSecret2}}));
  Verifier verifier(policy_);
  VerifyResult out;
  for (int i = 0; i < 50; ++i) {
    const bool one = i % 3 != 0;
    const std::string sub = "user-" + std::to_string(i);
    const std::string token =
        Mint(R"({"sub":")" + sub + R"(","exp":)" + std::to_string(kNow + i) + "}",
             one ? "k1" : "k2", one ? kSecret1 : kSecret2);
    verifier.Verify(token, "", *keys_, kNow - kLeeway, &out);
    ASSERT_EQ(out.status, Status::kOk) << i;
    EXPECT_EQ(out.key->kid, one ? "k1" : "k2");
    EXPECT_EQ(out.claims.sub, sub);
    EXPECT_EQ(out.claims.exp, kNow + i);
    // The same header with the other key's MAC must not ride on the memo.
    const std::string forged =
        Mint(R"({"exp":4102444800})", one ? "k1" : "k2", one ? kSecret2 : kSecret1);
    verifier.Verify(forged, "", *keys_, kNow, &out);
    ASSERT_EQ(out.status, Status::kBadSignature) << i;
    // A header that fails, then the good one again.
    verifier.Verify(Mint(Claims(kNow + 60), "nobody"), "", *keys_, kNow, &out);
    ASSERT_EQ(out.status, Status::kUnknownKey);
  }
}

TEST_F(VerifierTest, NewKeySetUnderTheSameKidIsUsedAtOnce) {
  Verifier verifier(policy_);
  VerifyResult out;
  const std::string old_token = Mint(Claims(kNow + 60), "k1", kSecret1);
  verifier.Verify(old_token, "", *keys_, kNow, &out);
  ASSERT_EQ(out.status, Status::kOk);
  auto rotated = MakeSet(MakeRing({{"k1", Alg::kUnknown, kSecret2}}));
  verifier.Verify(old_token, "", *rotated, kNow, &out);
  EXPECT_EQ(out.status, Status::kBadSignature);
  verifier.Verify(Mint(Claims(kNow + 60), "k1", kSecret2), "", *rotated, kNow, &out);
  EXPECT_EQ(out.status, Status::kOk);
  EXPECT_EQ(out.key, rotated->keys->FindByKid("k1"));
}

TEST_F(VerifierTest, LargePayloadsThenSmallOnes) {
  policy_.max_token_bytes = 200'000;  // beyond the buffer sized up front
  Verifier verifier(policy_);
  VerifyResult out;
  for (size_t pad : {10u, 5'000u, 100'000u, 20u, 100'000u}) {
    const std::string payload = Claims(kNow + 60, R"(,"pad":")" + std::string(pad, 'p') + "\"");
    verifier.Verify(Mint(payload), "", *keys_, kNow, &out);
    ASSERT_EQ(out.status, Status::kOk) << pad;
    EXPECT_EQ(out.payload_json, payload);
    EXPECT_EQ(out.claims.exp, kNow + 60);
  }
}

TEST_F(VerifierTest, UnlimitedTokenSizeDoesNotReserveIt) {
  policy_.max_token_bytes = std::numeric_limits<size_t>::max();
  EXPECT_EQ(Check(Mint(Claims(kNow + 60))).status, Status::kOk);
}

TEST_F(VerifierTest, VerifySignatureResetsTheResult) {
  Verifier verifier(policy_);
  VerifyResult out;
  verifier.Verify(Mint(Claims(kNow + 60)), "", *keys_, kNow, &out);
  ASSERT_TRUE(out.claims_parsed);
  EXPECT_EQ(verifier.VerifySignature("x.y.z", *keys_->keys, &out), Status::kMalformed);
  EXPECT_EQ(out.status, Status::kMalformed);
  EXPECT_FALSE(out.claims_parsed);
  EXPECT_EQ(out.key, nullptr);
  EXPECT_EQ(out.alg, Alg::kUnknown);
  EXPECT_TRUE(out.payload_json.empty());
}

}  // namespace
}  // namespace tokend::auth

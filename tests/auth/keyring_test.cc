// SPDX-License-Identifier: Apache-2.0
// Tests for Keyring::Build and the denylist: length rules per algorithm,
// bindings, published secrets in every form, duplicate kids, fingerprints,
// lookups, and that no message carries a secret.
#include "daemon/auth/keyring.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "daemon/auth/base64url.h"
#include "daemon/auth/denylist.h"

namespace tokend::auth {
namespace {

KeyMaterial Material(std::string kid, std::string_view secret, Alg bound = Alg::kUnknown,
                     std::string source = "") {
  KeyMaterial m;
  m.kid = std::move(kid);
  m.bound_alg = bound;
  m.secret = SecretBytes(secret);
  m.source = source.empty() ? "/keys/" + m.kid : std::move(source);
  return m;
}

std::vector<KeyMaterial> One(KeyMaterial m) {
  std::vector<KeyMaterial> v;
  v.push_back(std::move(m));
  return v;
}

std::string Bytes(size_t n, char c = 'x') {
  std::string s(n, c);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(c + i % 7);
  return s;
}

std::shared_ptr<const Keyring> MustBuild(std::vector<KeyMaterial> material) {
  auto ring = Keyring::Build(std::move(material));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *ring : Keyring::Empty();
}

std::string StdBase64(std::string_view bytes) {
  std::string s = Base64UrlEncode(bytes);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  return s;
}

// The message must name where the key came from and must not carry the
// secret, raw or encoded.
void ExpectSafeError(const absl::StatusOr<std::shared_ptr<const Keyring>>& r,
                     std::string_view secret, std::string_view must_mention) {
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find(must_mention), std::string::npos) << msg;
  if (secret.size() >= 4) {
    EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
    EXPECT_EQ(msg.find(Base64UrlEncode(secret)), std::string::npos) << msg;
    EXPECT_EQ(msg.find(StdBase64(secret)), std::string::npos) << msg;
  }
}

TEST(KeyringTest, EmptyKeyringFindsNothing) {
  auto ring = Keyring::Empty();
  ASSERT_NE(ring, nullptr);
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->size(), 0u);
  EXPECT_EQ(ring->FindByKid("k"), nullptr);
  EXPECT_TRUE(ring->KeysFor(Alg::kHS256).empty());
  EXPECT_FALSE(ring->Contains(0));
  EXPECT_TRUE(ring->SameKeysAs(*MustBuild({})));
}

TEST(KeyringTest, UnboundKeyServesEveryAlgorithmItsLengthAllows) {
  struct Case {
    size_t len;
    bool hs256, hs384, hs512;
  } cases[] = {{32, true, false, false}, {47, true, false, false}, {48, true, true, false},
               {63, true, true, false},  {64, true, true, true},   {200, true, true, true}};
  for (const Case& c : cases) {
    auto ring = MustBuild(One(Material("k", Bytes(c.len))));
    const Key* key = ring->FindByKid("k");
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->MacFor(Alg::kHS256) != nullptr, c.hs256) << c.len;
    EXPECT_EQ(key->MacFor(Alg::kHS384) != nullptr, c.hs384) << c.len;
    EXPECT_EQ(key->MacFor(Alg::kHS512) != nullptr, c.hs512) << c.len;
    EXPECT_EQ(ring->KeysFor(Alg::kHS384).size(), c.hs384 ? 1u : 0u);
    EXPECT_EQ(ring->KeysFor(Alg::kHS512).size(), c.hs512 ? 1u : 0u);
    EXPECT_EQ(key->MacFor(Alg::kUnknown), nullptr);
  }
}

TEST(KeyringTest, UnboundKeyShorterThan32BytesIsRefused) {
  for (size_t len : {0, 1, 16, 31}) {
    const std::string secret = Bytes(len, 'A');
    ExpectSafeError(Keyring::Build(One(Material("short", secret, Alg::kUnknown, "/k/short"))),
                    secret, "/k/short");
  }
  auto r = Keyring::Build(One(Material("short", Bytes(31))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("31 bytes"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("\"short\""), std::string::npos) << r.status();
}

TEST(KeyringTest, BoundKeyNeedsItsAlgorithmsHashLength) {
  struct Case {
    Alg alg;
    size_t need;
  } cases[] = {{Alg::kHS256, 32}, {Alg::kHS384, 48}, {Alg::kHS512, 64}};
  for (const Case& c : cases) {
    const std::string short_secret = Bytes(c.need - 1, 'b');
    ExpectSafeError(Keyring::Build(One(Material("b", short_secret, c.alg))), short_secret,
                    std::string(AlgName(c.alg)));
    auto ring = MustBuild(One(Material("b", Bytes(c.need), c.alg)));
    ASSERT_EQ(ring->size(), 1u);
  }
}

TEST(KeyringTest, BoundKeyServesOnlyItsAlgorithm) {
  auto ring = MustBuild(One(Material("b", Bytes(128), Alg::kHS384)));
  const Key* key = ring->FindByKid("b");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->bound_alg, Alg::kHS384);
  EXPECT_EQ(key->MacFor(Alg::kHS256), nullptr);
  EXPECT_NE(key->MacFor(Alg::kHS384), nullptr);
  EXPECT_EQ(key->MacFor(Alg::kHS512), nullptr);
  EXPECT_TRUE(ring->KeysFor(Alg::kHS256).empty());
  EXPECT_EQ(ring->KeysFor(Alg::kHS384).size(), 1u);
  EXPECT_TRUE(ring->KeysFor(Alg::kHS512).empty());
}

TEST(KeyringTest, BindingToANonHmacValueIsRefused) {
  EXPECT_FALSE(Keyring::Build(One(Material("x", Bytes(64), static_cast<Alg>(7)))).ok());
}

TEST(KeyringTest, KeysComputeTheRightMacs) {
  const std::string secret = Bytes(100, 'm');
  auto ring = MustBuild(One(Material("m", secret)));
  const Key* key = ring->FindByKid("m");
  ASSERT_NE(key, nullptr);
  HmacComputer computer;
  for (Alg alg : {Alg::kHS256, Alg::kHS384, Alg::kHS512}) {
    const EVP_MD* md = alg == Alg::kHS256   ? EVP_sha256()
                       : alg == Alg::kHS384 ? EVP_sha384()
                                            : EVP_sha512();
    uint8_t want[64];
    unsigned int len = 0;
    HMAC(md, secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const uint8_t*>("a.b"), 3, want, &len);
    ASSERT_NE(key->MacFor(alg), nullptr);
    EXPECT_TRUE(computer.Verify(*key->MacFor(alg), "a.b", std::span<const uint8_t>(want, len)));
  }
}

TEST(KeyringTest, DuplicateKidIsRefusedNamingBothFiles) {
  std::vector<KeyMaterial> m;
  m.push_back(Material("dup", Bytes(32, 'a'), Alg::kUnknown, "/keys/one.json"));
  m.push_back(Material("dup", Bytes(32, 'c'), Alg::kHS256, "/keys/two.jwks"));
  auto r = Keyring::Build(std::move(m));
  ExpectSafeError(r, Bytes(32, 'c'), "/keys/two.jwks");
  ExpectSafeError(r, Bytes(32, 'a'), "/keys/one.json");
  ExpectSafeError(r, Bytes(32, 'a'), "duplicate kid");
}

TEST(KeyringTest, KeysForKeepsLoadOrder) {
  std::vector<KeyMaterial> m;
  m.push_back(Material("z", Bytes(64, 'z')));
  m.push_back(Material("a", Bytes(32, 'a')));
  m.push_back(Material("m", Bytes(64, 'm'), Alg::kHS512));
  auto ring = MustBuild(std::move(m));
  auto hs256 = ring->KeysFor(Alg::kHS256);
  ASSERT_EQ(hs256.size(), 2u);
  EXPECT_EQ(hs256[0]->kid, "z");
  EXPECT_EQ(hs256[1]->kid, "a");
  auto hs512 = ring->KeysFor(Alg::kHS512);
  ASSERT_EQ(hs512.size(), 2u);
  EXPECT_EQ(hs512[0]->kid, "z");
  EXPECT_EQ(hs512[1]->kid, "m");
  EXPECT_TRUE(ring->KeysFor(Alg::kUnknown).empty());
  EXPECT_TRUE(ring->KeysFor(static_cast<Alg>(200)).empty());
  ASSERT_EQ(ring->keys().size(), 3u);
  EXPECT_EQ(ring->keys()[2]->kid, "m");
  EXPECT_EQ(ring->keys()[2]->source, "/keys/m");
}

uint64_t ExpectedFingerprint(std::string_view kid, Alg bound, std::string_view secret) {
  std::string input(kid);
  input.push_back('\0');
  input.push_back(static_cast<char>(bound));
  input.append(secret);
  uint8_t d[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(input.data(), input.size(), d, &len, EVP_sha256(), nullptr), 1);
  uint64_t fp = 0;
  for (int i = 0; i < 8; ++i) fp = fp << 8 | d[i];
  return fp;
}

TEST(KeyringTest, FingerprintIsTheSha256PrefixOfKidBindingAndBytes) {
  const std::string secret = Bytes(48, 'f');
  auto ring = MustBuild(One(Material("fp", secret, Alg::kHS384)));
  EXPECT_EQ(ring->FindByKid("fp")->fingerprint, ExpectedFingerprint("fp", Alg::kHS384, secret));
  auto unbound = MustBuild(One(Material("fp", secret)));
  EXPECT_EQ(unbound->FindByKid("fp")->fingerprint,
            ExpectedFingerprint("fp", Alg::kUnknown, secret));
  EXPECT_NE(unbound->FindByKid("fp")->fingerprint, ring->FindByKid("fp")->fingerprint);
}

TEST(KeyringTest, ContainsFindsExactlyTheLoadedFingerprints) {
  std::vector<KeyMaterial> m;
  for (int i = 0; i < 20; ++i) {
    m.push_back(Material("k" + std::to_string(i), Bytes(32 + i, static_cast<char>('A' + i))));
  }
  auto ring = MustBuild(std::move(m));
  for (const auto& key : ring->keys()) EXPECT_TRUE(ring->Contains(key->fingerprint));
  auto other = MustBuild(One(Material("k0", Bytes(32, 'Z'))));
  EXPECT_FALSE(ring->Contains(other->keys()[0]->fingerprint));
  EXPECT_FALSE(ring->Contains(0));
}

TEST(KeyringTest, SameKeysAsComparesKidsBindingsAndBytes) {
  auto build = [](std::string kid_b, std::string secret_b, Alg bind_b) {
    std::vector<KeyMaterial> m;
    m.push_back(Material("a", Bytes(32, 'a')));
    m.push_back(Material(std::move(kid_b), secret_b, bind_b));
    return MustBuild(std::move(m));
  };
  auto base = build("b", Bytes(64, 'b'), Alg::kUnknown);
  EXPECT_TRUE(base->SameKeysAs(*base));
  EXPECT_TRUE(base->SameKeysAs(*build("b", Bytes(64, 'b'), Alg::kUnknown)));
  // Same keys listed in another order (another file layout) are the same set.
  std::vector<KeyMaterial> reversed;
  reversed.push_back(Material("b", Bytes(64, 'b')));
  reversed.push_back(Material("a", Bytes(32, 'a')));
  EXPECT_TRUE(base->SameKeysAs(*MustBuild(std::move(reversed))));
  EXPECT_FALSE(base->SameKeysAs(*build("b", Bytes(64, 'c'), Alg::kUnknown)));      // bytes
  EXPECT_FALSE(base->SameKeysAs(*build("b", Bytes(64, 'b'), Alg::kHS512)));        // binding
  EXPECT_FALSE(base->SameKeysAs(*build("c", Bytes(64, 'b'), Alg::kUnknown)));      // kid
  EXPECT_FALSE(base->SameKeysAs(*MustBuild(One(Material("a", Bytes(32, 'a'))))));  // count
  EXPECT_FALSE(base->SameKeysAs(*Keyring::Empty()));
}

TEST(KeyringTest, RewrittenBytesUnderTheSameKidAreANewKey) {
  auto before = MustBuild(One(Material("k", Bytes(32, 'a'))));
  auto after = MustBuild(One(Material("k", Bytes(32, 'b'))));
  EXPECT_FALSE(after->Contains(before->FindByKid("k")->fingerprint));
  EXPECT_FALSE(after->SameKeysAs(*before));
}

// --- Published secrets ------------------------------------------------------

constexpr std::string_view kNacosDefault =
    "SecretKey012345678901234567890123456789012345678901234567890123456789";
constexpr std::string_view kNacosBase64 =
    "U2VjcmV0S2V5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODk=";

std::vector<std::string> EveryForm(std::string_view text) {
  std::vector<std::string> forms = {std::string(text), std::string(text) + "\n",
                                    "  " + std::string(text) + "\r\n"};
  const std::string url = Base64UrlEncode(text);
  forms.push_back(url);
  forms.push_back(StdBase64(text));
  forms.push_back(StdBase64(text) + "\n");
  std::string decoded;
  if (Base64DecodeLenient(text, decoded)) {
    forms.push_back(decoded);
    forms.push_back(Base64UrlEncode(decoded));
  }
  return forms;
}

TEST(DenylistTest, PublishedSecretsAreRecognisedInEveryForm) {
  const std::string_view published[] = {
      kNacosDefault,
      kNacosBase64,
      "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=",
      "your-256-bit-secret",
      "your-384-bit-secret",
      "your-512-bit-secret",
      "secret",
      "your-super-secret-jwt-token-with-at-least-32-characters-long",
      "super-secret-jwt-token-with-at-least-32-characters-long",
  };
  for (std::string_view text : published) {
    for (const std::string& form : EveryForm(text)) {
      EXPECT_TRUE(IsPublishedSecret(form)) << text << " as [" << form << "]";
    }
  }
  // What a published base64 text decodes to, in its own encodings too.
  const std::string nacos_example = "ThisIsMyCustomSecretKey012345678";
  for (const std::string& form : {nacos_example, nacos_example + "\n",
                                  Base64UrlEncode(nacos_example), StdBase64(nacos_example)}) {
    EXPECT_TRUE(IsPublishedSecret(form)) << form;
  }
  // What Nacos keys with: its default decoded as base64, the dangling last
  // character ignored.
  std::string nacos_key;
  ASSERT_TRUE(Base64DecodeLenient(kNacosDefault.substr(0, kNacosDefault.size() - 1), nacos_key));
  EXPECT_TRUE(IsPublishedSecret(nacos_key));
  std::string decoded;
  ASSERT_TRUE(Base64DecodeLenient(kNacosBase64, decoded));
  EXPECT_EQ(decoded, "SecretKey01234567890123456789012345678901234567890123456789");
  EXPECT_TRUE(IsPublishedSecret(decoded));
}

TEST(DenylistTest, OrdinaryAndNearMissSecretsAreNotListed) {
  EXPECT_FALSE(IsPublishedSecret(std::string_view("")));
  EXPECT_FALSE(IsPublishedSecret(Bytes(32)));
  EXPECT_FALSE(IsPublishedSecret(std::string(kNacosDefault) + "0"));
  EXPECT_FALSE(IsPublishedSecret(kNacosDefault.substr(1)));
  EXPECT_FALSE(IsPublishedSecret("your-256-bit-secreT"));
  EXPECT_FALSE(IsPublishedSecret("secrets"));
  // RFC 7515 appendix A.1's example key is used by tests and stays allowed.
  std::string rfc7515;
  ASSERT_TRUE(Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      rfc7515));
  EXPECT_FALSE(IsPublishedSecret(rfc7515));
}

TEST(KeyringTest, PublishedSecretsAreRefusedInEveryForm) {
  const std::string_view long_published[] = {
      kNacosDefault,
      kNacosBase64,
      "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=",
      "your-super-secret-jwt-token-with-at-least-32-characters-long",
  };
  for (std::string_view text : long_published) {
    for (const std::string& form : EveryForm(text)) {
      if (form.size() < 32) continue;  // refused for its length already
      for (Alg bind : {Alg::kUnknown, Alg::kHS256}) {
        ExpectSafeError(Keyring::Build(One(Material("nacos", form, bind, "/keys/nacos"))), form,
                        "published");
      }
    }
  }
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// Asymmetric JWTs end to end: key files on disk (JWKS, .pem public keys and
// certificates, NAME.iss) -> LoadKeyring -> Validator (cache included) ->
// the answer. Every algorithm, the classic attacks, issuer binding, key
// rotation against the cache, and a Kubernetes ServiceAccount token.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth/validator.h"
#include "daemon/auth/verifier.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"
#include "tools/minter/signer.h"

namespace tokend::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

// Keys are slow to generate (RSA): once per test program.
struct Keys {
  PkeyPtr rsa, rsa_other, p256, p384, p521, ed;
};
const Keys& TestKeys() {
  static const Keys* keys = [] {
    auto* k = new Keys;
    k->rsa = *GenerateKey("RSA", 2048);
    k->rsa_other = *GenerateKey("RSA", 2048);
    k->p256 = *GenerateKey("P-256");
    k->p384 = *GenerateKey("P-384");
    k->p521 = *GenerateKey("P-521");
    k->ed = *GenerateKey("Ed25519");
    return k;
  }();
  return *keys;
}

std::string Jwk(EVP_PKEY* key, std::string_view kid, Alg alg = Alg::kUnknown) {
  absl::StatusOr<std::string> jwk = PublicJwk(key, kid, alg);
  EXPECT_TRUE(jwk.ok()) << jwk.status();
  return jwk.ok() ? *jwk : "";
}

std::string Jwks(const std::vector<std::string>& jwks) {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < jwks.size(); ++i) absl::StrAppend(&out, i ? "," : "", jwks[i]);
  return out + "]}";
}

std::string Header(Alg alg, std::string_view kid, std::string_view extra = "") {
  const std::string_view name = AlgName(alg);
  std::string h = absl::StrCat(R"({"alg":")", absl::string_view(name.data(), name.size()), "\"");
  if (!kid.empty()) absl::StrAppend(&h, R"(,"kid":)", JsonQuote(kid));
  return h + std::string(extra) + "}";
}

std::string Claims(std::string_view extra = "") {
  return absl::StrCat(R"({"sub":"alice","exp":)", kNow + 600, std::string(extra), "}");
}

std::string Sign(Alg alg, std::string_view header, std::string_view payload, EVP_PKEY* key) {
  absl::StatusOr<std::string> token = SignJws(alg, header, payload, key);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

class AsymmetricTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tokend-asym-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, std::string_view bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  void Remove(const std::string& name) { std::filesystem::remove(dir_ + "/" + name); }

  absl::StatusOr<std::shared_ptr<const Keyring>> Load() {
    std::vector<std::string> warnings;
    return LoadKeyring(dir_, &warnings);
  }

  // Loads the directory and publishes it to the validators.
  void Reload() {
    absl::StatusOr<std::shared_ptr<const Keyring>> ring = Load();
    ASSERT_TRUE(ring.ok()) << ring.status();
    publisher_.Publish(KeySet::Make(*ring, RevocationList::Parse("")));
  }

  Status Check(std::string_view token, std::string_view audience = "") {
    last_ = validator_.Validate(token, audience, /*want_claims=*/true, kNow);
    return last_.status;
  }

  std::string dir_;
  Policy policy_;
  KeySetPublisher publisher_{KeySet::Make(Keyring::Empty(), RevocationList::Parse(""))};
  std::unique_ptr<TokenCache> cache_ = [] {
    TokenCache::Options options;
    options.max_entries = 1024;
    return *TokenCache::Create(options);
  }();
  Validator validator_{policy_, publisher_, cache_.get()};
  ValidationResult last_;
};

TEST_F(AsymmetricTest, EveryAlgorithmVerifiesWithItsKeyType) {
  const Keys& k = TestKeys();
  Write("idp.jwks",
        Jwks({Jwk(k.rsa.get(), "rsa"), Jwk(k.p256.get(), "p256"), Jwk(k.p384.get(), "p384"),
              Jwk(k.p521.get(), "p521"), Jwk(k.ed.get(), "ed")}));
  Reload();
  const std::map<Alg, std::pair<std::string, EVP_PKEY*>> cases = {
      {Alg::kRS256, {"rsa", k.rsa.get()}},   {Alg::kRS384, {"rsa", k.rsa.get()}},
      {Alg::kRS512, {"rsa", k.rsa.get()}},   {Alg::kPS256, {"rsa", k.rsa.get()}},
      {Alg::kPS384, {"rsa", k.rsa.get()}},   {Alg::kPS512, {"rsa", k.rsa.get()}},
      {Alg::kES256, {"p256", k.p256.get()}}, {Alg::kES384, {"p384", k.p384.get()}},
      {Alg::kES512, {"p521", k.p521.get()}}, {Alg::kEdDSA, {"ed", k.ed.get()}},
  };
  for (const auto& [alg, key] : cases) {
    SCOPED_TRACE(AlgName(alg));
    const std::string token = Sign(alg, Header(alg, key.first), Claims(), key.second);
    ASSERT_EQ(Check(token), Status::kOk);
    EXPECT_EQ(last_.alg, alg);
    EXPECT_EQ(last_.subject, "alice");
    EXPECT_FALSE(last_.cache_hit);
    // Again: from the cache, same answer.
    ASSERT_EQ(Check(token), Status::kOk);
    EXPECT_TRUE(last_.cache_hit);
    EXPECT_EQ(last_.alg, alg);
    // Without kid: every key serving the alg is tried.
    ASSERT_EQ(Check(Sign(alg, Header(alg, ""), Claims(), key.second)), Status::kOk);
    // One flipped bit in the signature.
    std::string bad = token;
    bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(Check(bad), Status::kBadSignature);
    // Signed by another key under the right kid.
    EVP_PKEY* other = alg == Alg::kEdDSA                 ? TestKeys().ed.get()
                      : FamilyOf(alg) == AlgFamily::kRsa ? k.rsa_other.get()
                                                         : nullptr;
    if (other != nullptr && other != key.second) {
      EXPECT_EQ(Check(Sign(alg, Header(alg, key.first), Claims(), other)), Status::kBadSignature);
    }
  }
}

// --algorithms: a token whose header alg is outside the policy's set is
// ALG_NOT_ALLOWED even though a loaded key serves it, on a cold cache and
// after the same token verified under a wider policy.
TEST_F(AsymmetricTest, AlgorithmsOutsideThePolicyAreRefused) {
  const Keys& k = TestKeys();
  Write("idp.jwks", Jwks({Jwk(k.rsa.get(), "rsa"), Jwk(k.p256.get(), "p256")}));
  Reload();
  const std::string rs256 = Sign(Alg::kRS256, Header(Alg::kRS256, "rsa"), Claims(), k.rsa.get());
  const std::string es256 = Sign(Alg::kES256, Header(Alg::kES256, "p256"), Claims(), k.p256.get());
  ASSERT_EQ(Check(rs256), Status::kOk);  // the fixture allows every alg

  Policy only_es256;
  only_es256.allowed_algs = AlgSet();
  only_es256.allowed_algs.Add(Alg::kES256);
  Validator es_validator(only_es256, publisher_, nullptr);
  for (int round = 0; round < 2; ++round) {
    ValidationResult r = es_validator.Validate(rs256, "", false, kNow);
    EXPECT_EQ(r.status, Status::kAlgNotAllowed);
    EXPECT_EQ(r.alg, Alg::kRS256);
    EXPECT_EQ(es_validator.Validate(es256, "", false, kNow).status, Status::kOk);
  }

  Policy rs256_too = only_es256;
  rs256_too.allowed_algs.Add(Alg::kRS256);
  std::unique_ptr<TokenCache> cache = [] {
    TokenCache::Options options;
    options.max_entries = 64;
    return *TokenCache::Create(options);
  }();
  Validator both(rs256_too, publisher_, cache.get());
  EXPECT_EQ(both.Validate(rs256, "", false, kNow).status, Status::kOk);
  ValidationResult hit = both.Validate(rs256, "", false, kNow);
  EXPECT_EQ(hit.status, Status::kOk);
  EXPECT_TRUE(hit.cache_hit);
  EXPECT_EQ(both.Validate(es256, "", false, kNow).status, Status::kOk);
}

// Each asymmetric alg allowed alone: its token passes, every other refused.
TEST_F(AsymmetricTest, EachAlgorithmAloneAdmitsOnlyItself) {
  const Keys& k = TestKeys();
  Write("idp.jwks",
        Jwks({Jwk(k.rsa.get(), "rsa"), Jwk(k.p256.get(), "p256"), Jwk(k.p384.get(), "p384"),
              Jwk(k.p521.get(), "p521"), Jwk(k.ed.get(), "ed")}));
  Reload();
  const std::map<Alg, std::pair<std::string, EVP_PKEY*>> keys = {
      {Alg::kRS256, {"rsa", k.rsa.get()}},   {Alg::kRS384, {"rsa", k.rsa.get()}},
      {Alg::kRS512, {"rsa", k.rsa.get()}},   {Alg::kPS256, {"rsa", k.rsa.get()}},
      {Alg::kPS384, {"rsa", k.rsa.get()}},   {Alg::kPS512, {"rsa", k.rsa.get()}},
      {Alg::kES256, {"p256", k.p256.get()}}, {Alg::kES384, {"p384", k.p384.get()}},
      {Alg::kES512, {"p521", k.p521.get()}}, {Alg::kEdDSA, {"ed", k.ed.get()}},
  };
  std::map<Alg, std::string> tokens;
  for (const auto& [alg, key] : keys) {
    tokens[alg] = Sign(alg, Header(alg, key.first), Claims(), key.second);
  }
  for (const auto& [allowed, unused] : keys) {
    SCOPED_TRACE(AlgName(allowed));
    Policy policy;
    policy.allowed_algs = AlgSet();
    policy.allowed_algs.Add(allowed);
    Validator validator(policy, publisher_, nullptr);
    for (const auto& [alg, token] : tokens) {
      EXPECT_EQ(validator.Validate(token, "", false, kNow).status,
                alg == allowed ? Status::kOk : Status::kAlgNotAllowed)
          << AlgName(alg);
    }
  }
}

TEST_F(AsymmetricTest, PemPublicKeyAndCertificateFiles) {
  const Keys& k = TestKeys();
  Write("signer.pem", *PublicKeyPem(k.p384.get()));
  // A self-signed certificate for the Ed25519 key.
  X509* cert = X509_new();
  ASSERT_NE(cert, nullptr);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, k.ed.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tokend test"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  ASSERT_GT(X509_sign(cert, k.ed.get(), nullptr), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  Write("edcert.pem", std::string(data, static_cast<size_t>(len)));
  BIO_free(bio);
  X509_free(cert);
  Reload();

  EXPECT_EQ(Check(Sign(Alg::kES384, Header(Alg::kES384, "signer"), Claims(), k.p384.get())),
            Status::kOk);
  EXPECT_EQ(Check(Sign(Alg::kEdDSA, Header(Alg::kEdDSA, "edcert"), Claims(), k.ed.get())),
            Status::kOk);
  EXPECT_EQ(last_.alg, Alg::kEdDSA);
}

TEST_F(AsymmetricTest, PrivateMaterialIsRefused) {
  const Keys& k = TestKeys();
  Write("priv.pem", *PrivateKeyPem(k.p256.get()));
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("private key"), absl::string_view::npos);
  Remove("priv.pem");

  std::string jwk = Jwk(k.p256.get(), "p");
  jwk.insert(jwk.size() - 1, R"(,"d":"AAAA")");
  Write("set.jwks", Jwks({jwk}));
  ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("private key material"), absl::string_view::npos)
      << ring.status();
}

// A public key (or JWKS) saved under a name without .pem/.jwks would be a
// raw HMAC secret whose bytes anyone can read: refused.
TEST_F(AsymmetricTest, PublicKeyDocumentsAreNeverRawSecrets) {
  const Keys& k = TestKeys();
  Write("rsa-public", *PublicKeyPem(k.rsa.get()));
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("NAME.pem"), absl::string_view::npos) << ring.status();
  Remove("rsa-public");
  Write("signer.key", *PrivateKeyPem(k.p256.get()));
  EXPECT_FALSE(Load().ok());
  Remove("signer.key");
  Write("cluster-keys", Jwks({Jwk(k.rsa.get(), "r")}));
  ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("NAME.jwks"), absl::string_view::npos) << ring.status();
}

TEST_F(AsymmetricTest, WeakAndMismatchedKeysAreRefused) {
  // RSA-1024 and RSA with e = 3.
  PkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(small, nullptr);
  Write("small.jwks", Jwks({Jwk(small.get(), "small")}));
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("at least 2048"), absl::string_view::npos)
      << ring.status();
  Remove("small.jwks");

  std::string e3 = Jwk(TestKeys().rsa.get(), "e3");
  const size_t e_at = e3.find(R"("e":"AQAB")");
  ASSERT_NE(e_at, std::string::npos);
  e3.replace(e_at, 10, R"("e":"Aw")");
  Write("e3.jwks", Jwks({e3}));
  ring = Load();
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("65537"), absl::string_view::npos) << ring.status();
  Remove("e3.jwks");

  // An HMAC alg, or another family's alg, on a public key.
  Write("hs.jwks", Jwks({Jwk(TestKeys().rsa.get(), "r", Alg::kHS256)}));
  EXPECT_FALSE(Load().ok());
  Remove("hs.jwks");
  Write("es.jwks", Jwks({Jwk(TestKeys().rsa.get(), "r", Alg::kES256)}));
  EXPECT_FALSE(Load().ok());
  Remove("es.jwks");
  Write("es384.jwks", Jwks({Jwk(TestKeys().p256.get(), "p", Alg::kES384)}));
  EXPECT_FALSE(Load().ok());
  Remove("es384.jwks");

  // An EC point off its curve.
  std::string off = Jwk(TestKeys().p256.get(), "off");
  const size_t y_at = off.find(R"("y":")") + 5;
  off[y_at] = off[y_at] == 'A' ? 'B' : 'A';
  Write("off.jwks", Jwks({off}));
  EXPECT_FALSE(Load().ok());
}

// RS256 -> HS256: the token re-signed with HMAC, the public key (in each
// form an attacker might guess) as the secret.
TEST_F(AsymmetricTest, HmacWithThePublicKeyAsSecretIsRefused) {
  const Keys& k = TestKeys();
  const std::string pem = *PublicKeyPem(k.rsa.get());
  Write("rsa.pem", pem);
  Reload();
  const std::string jwk = Jwk(k.rsa.get(), "rsa");
  for (const std::string& secret : {pem, jwk}) {
    for (const std::string_view kid : {"rsa", ""}) {
      const std::string token =
          MintToken(Alg::kHS256, Header(Alg::kHS256, kid), Claims(), std::string_view(secret));
      const Status s = Check(token);
      EXPECT_NE(s, Status::kOk);
      EXPECT_EQ(s, kid.empty() ? Status::kUnknownKey : Status::kAlgNotAllowed);
    }
  }
  // The genuine RS256 token does verify.
  EXPECT_EQ(Check(Sign(Alg::kRS256, Header(Alg::kRS256, "rsa"), Claims(), k.rsa.get())),
            Status::kOk);
}

TEST_F(AsymmetricTest, AlgOfAnotherKeyTypeIsRefused) {
  const Keys& k = TestKeys();
  Write("set.jwks", Jwks({Jwk(k.p256.get(), "ec"), Jwk(k.rsa.get(), "rs", Alg::kRS256)}));
  Reload();
  // RS256 naming the EC key (signed with the RSA key, so only the pairing
  // can stop it).
  EXPECT_EQ(Check(Sign(Alg::kRS256, Header(Alg::kRS256, "ec"), Claims(), k.rsa.get())),
            Status::kAlgNotAllowed);
  // An RSA key bound to RS256 does not serve PS256.
  EXPECT_EQ(Check(Sign(Alg::kPS256, Header(Alg::kPS256, "rs"), Claims(), k.rsa.get())),
            Status::kAlgNotAllowed);
  EXPECT_EQ(Check(Sign(Alg::kRS256, Header(Alg::kRS256, "rs"), Claims(), k.rsa.get())),
            Status::kOk);
  // EdDSA with no Ed25519 key loaded.
  EXPECT_EQ(Check(Sign(Alg::kEdDSA, Header(Alg::kEdDSA, ""), Claims(), k.ed.get())),
            Status::kUnknownKey);
}

TEST_F(AsymmetricTest, MalformedEcdsaSignaturesAreRefused) {
  const Keys& k = TestKeys();
  Write("ec.jwks", Jwks({Jwk(k.p256.get(), "ec")}));
  Reload();
  const std::string good = Sign(Alg::kES256, Header(Alg::kES256, "ec"), Claims(), k.p256.get());
  ASSERT_EQ(Check(good), Status::kOk);
  const std::string input = good.substr(0, good.rfind('.') + 1);
  std::string sig;
  ASSERT_TRUE(Base64UrlDecode(good.substr(good.rfind('.') + 1), sig));
  ASSERT_EQ(sig.size(), 64u);
  // The psychic signature: r = s = 0.
  EXPECT_EQ(Check(input + Base64UrlEncode(std::string(64, '\0'))), Status::kBadSignature);
  // DER of the same r, s.
  auto integer = [](std::string x) {
    while (x.size() > 1 && x[0] == 0) x.erase(0, 1);
    if (static_cast<uint8_t>(x[0]) & 0x80) x.insert(0, 1, '\0');
    return std::string("\x02") + static_cast<char>(x.size()) + x;
  };
  const std::string body = integer(sig.substr(0, 32)) + integer(sig.substr(32));
  const std::string der = std::string("\x30") + static_cast<char>(body.size()) + body;
  EXPECT_EQ(Check(input + Base64UrlEncode(der)), Status::kBadSignature);
  // Short and long.
  EXPECT_EQ(Check(input + Base64UrlEncode(sig.substr(0, 63))), Status::kBadSignature);
  EXPECT_EQ(Check(input + Base64UrlEncode(sig + '\0')), Status::kBadSignature);
  // s = n, the group order: out of range.
  const std::string n(
      "\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xBC\xE6\xFA\xAD\xA7\x17"
      "\x9E\x84\xF3\xB9\xCA\xC2\xFC\x63\x25\x51",
      32);
  EXPECT_EQ(Check(input + Base64UrlEncode(sig.substr(0, 32) + n)), Status::kBadSignature);
}

TEST_F(AsymmetricTest, KeyBearingHeadersAreRefused) {
  const Keys& k = TestKeys();
  Write("rsa.jwks", Jwks({Jwk(k.rsa.get(), "rsa")}));
  Reload();
  const std::string jwk = Jwk(k.rsa.get(), "rsa");
  for (const std::string& extra :
       {absl::StrCat(R"(,"jwk":)", jwk), std::string(R"(,"jku":"https://evil.example/jwks")"),
        std::string(R"(,"x5u":"https://evil.example/cert")"), std::string(R"(,"x5c":["MIIB"])")}) {
    EXPECT_EQ(Check(Sign(Alg::kRS256, Header(Alg::kRS256, "rsa", extra), Claims(), k.rsa.get())),
              Status::kUnsupportedHeader)
        << extra;
  }
}

TEST_F(AsymmetricTest, IssuerFileBindsItsKeySet) {
  const Keys& k = TestKeys();
  Write("cluster.jwks", Jwks({Jwk(k.rsa.get(), "cluster-key")}));
  Write("cluster.iss", "https://kubernetes.default.svc.cluster.local\n");
  Write("idp.jwks", Jwks({Jwk(k.p256.get(), "idp-key")}));
  Reload();
  // The .iss file is no key of its own.
  EXPECT_EQ(publisher_.Current()->keys->size(), 2u);
  EXPECT_EQ(publisher_.Current()->keys->FindByKid("cluster.iss"), nullptr);

  const std::string k8s_iss = R"(,"iss":"https://kubernetes.default.svc.cluster.local")";
  const std::string idp_iss = R"(,"iss":"https://idp.example")";
  // The cluster's key vouches for the cluster only.
  EXPECT_EQ(
      Check(Sign(Alg::kRS256, Header(Alg::kRS256, "cluster-key"), Claims(k8s_iss), k.rsa.get())),
      Status::kOk);
  EXPECT_EQ(
      Check(Sign(Alg::kRS256, Header(Alg::kRS256, "cluster-key"), Claims(idp_iss), k.rsa.get())),
      Status::kIssuerMismatch);
  EXPECT_EQ(Check(Sign(Alg::kRS256, Header(Alg::kRS256, "cluster-key"), Claims(), k.rsa.get())),
            Status::kIssuerMismatch);
  // The unbound key verifies any issuer.
  EXPECT_EQ(Check(Sign(Alg::kES256, Header(Alg::kES256, "idp-key"), Claims(idp_iss), k.p256.get())),
            Status::kOk);
  EXPECT_EQ(Check(Sign(Alg::kES256, Header(Alg::kES256, "idp-key"), Claims(k8s_iss), k.p256.get())),
            Status::kOk);

  // Rebinding the cluster's keys to another issuer stops its cached tokens.
  const std::string cached =
      Sign(Alg::kRS256, Header(Alg::kRS256, "cluster-key"), Claims(k8s_iss), k.rsa.get());
  ASSERT_EQ(Check(cached), Status::kOk);
  ASSERT_EQ(Check(cached), Status::kOk);
  ASSERT_TRUE(last_.cache_hit);
  Write("cluster.iss", "https://other.example\n");
  Reload();
  EXPECT_EQ(Check(cached), Status::kIssuerMismatch);

  // A malformed issuer file fails the load.
  Write("cluster.iss", "two words\n");
  EXPECT_FALSE(Load().ok());
}

TEST_F(AsymmetricTest, RotatedOrRemovedKeyStopsItsCachedTokens) {
  const Keys& k = TestKeys();
  Write("idp.jwks", Jwks({Jwk(k.rsa.get(), "k1")}));
  Reload();
  const std::string token = Sign(Alg::kRS256, Header(Alg::kRS256, "k1"), Claims(), k.rsa.get());
  ASSERT_EQ(Check(token), Status::kOk);
  ASSERT_EQ(Check(token), Status::kOk);
  ASSERT_TRUE(last_.cache_hit);
  // Same kid, new key.
  Write("idp.jwks", Jwks({Jwk(k.rsa_other.get(), "k1")}));
  Reload();
  EXPECT_EQ(Check(token), Status::kBadSignature);
  EXPECT_FALSE(last_.cache_hit);
  // Back, then removed.
  Write("idp.jwks", Jwks({Jwk(k.rsa.get(), "k1")}));
  Reload();
  ASSERT_EQ(Check(token), Status::kOk);
  ASSERT_EQ(Check(token), Status::kOk);
  ASSERT_TRUE(last_.cache_hit);
  Write("idp.jwks", Jwks({Jwk(k.p256.get(), "k2")}));
  Reload();
  EXPECT_EQ(Check(token), Status::kUnknownKey);
}

// Tokens signed by other libraries (Node's jose and jsonwebtoken, every
// algorithm each supports) verify with their published JWKs.
// Verifies every token of one interop file (tests/testdata/interop) with
// its JWK Set, and refuses each with one signature character changed.
// Returns the tokens verified per library.
std::map<std::string, int> VerifyInteropFile(const std::string& path, size_t keys_expected) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(path);
  const std::string jwks = absl::StrCat(R"({"keys":)", simdjson::to_string(doc["keys"]), "}");
  absl::StatusOr<std::vector<KeyMaterial>> material = ParseJwks(jwks, "interop.jwks", nullptr);
  std::map<std::string, int> by_lib;
  EXPECT_TRUE(material.ok()) << material.status();
  if (!material.ok()) return by_lib;
  EXPECT_EQ(material->size(), keys_expected);
  auto ring = Keyring::Build(*std::move(material));
  EXPECT_TRUE(ring.ok()) << ring.status();
  if (!ring.ok()) return by_lib;
  Policy policy;
  policy.audiences = {"api.example"};
  policy.issuers = {"https://interop.example"};
  Verifier verifier(policy);
  auto keys = KeySet::Make(*ring, RevocationList::Parse(""));
  for (simdjson::dom::element t : doc["tokens"].get_array()) {
    const std::string lib = std::string(std::string_view(t["lib"]));
    const std::string alg = std::string(std::string_view(t["alg"]));
    const std::string_view token = t["token"].get_string();
    VerifyResult out;
    verifier.Verify(token, "", *keys, kNow, &out);
    EXPECT_EQ(out.status, Status::kOk) << lib << " " << alg << ": " << StatusName(out.status);
    EXPECT_EQ(AlgName(out.alg), alg) << lib;
    EXPECT_EQ(out.claims.sub, "interop-user") << lib << " " << alg;
    // One changed character in the signature: refused.
    std::string bad(token);
    bad[bad.size() - 3] = bad[bad.size() - 3] == 'A' ? 'B' : 'A';
    verifier.Verify(bad, "", *keys, kNow, &out);
    EXPECT_EQ(out.status, Status::kBadSignature) << lib << " " << alg;
    ++by_lib[lib];
  }
  return by_lib;
}

TEST(InteropTest, TokensFromNodeLibrariesVerify) {
  std::map<std::string, int> by_lib =
      VerifyInteropFile(TOKEND_SOURCE_DIR "/tests/testdata/interop/node_tokens.json", 10);
  EXPECT_EQ(by_lib["jose 5.10.0"], 10);
  EXPECT_EQ(by_lib["jsonwebtoken 9.0.3"], 9);  // it has no EdDSA
}

// PyJWT 2.6.0 with cryptography 38 (Debian 12's python3-jwt), every
// algorithm; its JWKs carry "key_ops": ["verify"].
TEST(InteropTest, TokensFromPyJwtVerify) {
  std::map<std::string, int> by_lib =
      VerifyInteropFile(TOKEND_SOURCE_DIR "/tests/testdata/interop/pyjwt_tokens.json", 10);
  EXPECT_EQ(by_lib["PyJWT 2.6.0"], 10);
}

// Every malformed public JWK fails the set with a message naming the member.
TEST(PublicJwkTest, MalformedKeysAreRefusedWithAClearMessage) {
  const Keys& k = TestKeys();
  const std::string rsa = Jwk(k.rsa.get(), "r");
  const std::string ec = Jwk(k.p256.get(), "e");
  const std::string ed = Jwk(k.ed.get(), "d");
  auto without = [](std::string jwk, std::string_view member) {
    const size_t at =
        jwk.find(absl::StrCat("\"", absl::string_view(member.data(), member.size()), "\":"));
    const size_t end = jwk.find_first_of(",}", jwk.find(':', at) + 1);
    if (jwk[end] == ',') {
      jwk.erase(at, end - at + 1);
    } else {
      jwk.erase(at - 1, end - at + 1);  // the last member: its leading comma goes
    }
    return jwk;
  };
  auto with = [](std::string jwk, std::string_view member_json) {
    jwk.insert(jwk.size() - 1,
               absl::StrCat(",", absl::string_view(member_json.data(), member_json.size())));
    return jwk;
  };
  const struct {
    std::string jwk;
    const char* mention;
  } cases[] = {
      {without(rsa, "n"), "\"n\""},
      {without(rsa, "e"), "\"e\""},
      {without(rsa, "kid"), "kid"},
      {without(ec, "crv"), "crv"},
      {without(ec, "y"), "\"y\""},
      {without(ed, "x"), "\"x\""},
      {with(without(rsa, "kid"), R"("kid":7)"), "kid"},
      {with(without(rsa, "use"), R"("use":1)"), "use"},
      {with(rsa, R"("key_ops":"verify")"), "key_ops"},
      {with(rsa, R"("key_ops":[1])"), "key_ops"},
      {with(without(rsa, "n"), R"("n":"AQAB=")"), "base64url"},
      {with(without(ec, "x"), R"("x":"AQAB")"), "32 bytes"},
      {with(without(ed, "x"), R"("x":"AQAB")"), "32 bytes"},
      {with(ec, R"("alg":"HS256")"), "HMAC"},
      {with(ed, R"("alg":"ES256")"), "cannot be used"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::vector<KeyMaterial>> m = ParseJwks(Jwks({c.jwk}), "set.jwks", nullptr);
    ASSERT_FALSE(m.ok()) << c.jwk;
    EXPECT_NE(m.status().message().find(c.mention), absl::string_view::npos)
        << c.jwk << " -> " << m.status();
    EXPECT_NE(m.status().message().find("set.jwks"), absl::string_view::npos) << m.status();
  }
  // The originals load.
  for (const std::string& jwk : {rsa, ec, ed}) {
    EXPECT_TRUE(ParseJwks(Jwks({jwk}), "set.jwks", nullptr).ok()) << jwk;
  }
}

// A ServiceAccount token as a cluster issues it, checked against the JWKS
// file that `kubectl get --raw /openid/v1/jwks` prints.
TEST_F(AsymmetricTest, KubernetesServiceAccountToken) {
  const Keys& k = TestKeys();
  const std::string kid = "Xo0rEfV5ivxkLl6HVbCq0NMyjZpJMwvR1Gn-fOqDx9k";
  // The shape of a cluster's document: one RS256 key, use sig.
  Write("cluster.jwks", Jwks({Jwk(k.rsa.get(), kid, Alg::kRS256)}));
  Write("cluster.iss", "https://kubernetes.default.svc.cluster.local\n");
  Reload();
  const std::string payload = absl::StrCat(
      R"({"aud":["https://kubernetes.default.svc.cluster.local","vault"],"exp":)", kNow + 3600,
      R"(,"iat":)", kNow - 10,
      R"(,"iss":"https://kubernetes.default.svc.cluster.local","jti":"4f9c0a1e-2d3b-4c5d-8e6f-7a8b9c0d1e2f","kubernetes.io":{"namespace":"shop","node":{"name":"node-1","uid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"},"pod":{"name":"checkout-7d9f8b6c5-x2x4q","uid":"a1b2c3d4-e5f6-7081-92a3-b4c5d6e7f809"},"serviceaccount":{"name":"checkout","uid":"11223344-5566-7788-99aa-bbccddeeff00"},"warnafter":)",
      kNow + 3000, R"(},"nbf":)", kNow - 10, R"(,"sub":"system:serviceaccount:shop:checkout"})");
  const std::string token = Sign(Alg::kRS256, absl::StrCat(R"({"alg":"RS256","kid":")", kid, "\"}"),
                                 payload, k.rsa.get());
  ASSERT_EQ(Check(token, "vault"), Status::kOk);
  EXPECT_FALSE(last_.cache_hit);
  EXPECT_EQ(last_.alg, Alg::kRS256);
  EXPECT_EQ(last_.subject, "system:serviceaccount:shop:checkout");
  EXPECT_EQ(last_.exp, kNow + 3600);
  EXPECT_EQ(last_.claims_json, payload);
  // Asked again, the same answer and the same claims, from the cache: iss,
  // sub, jti and aud fit an entry, the audience that repeats the issuer as a
  // reference to it.
  ASSERT_EQ(Check(token, "vault"), Status::kOk);
  EXPECT_TRUE(last_.cache_hit);
  EXPECT_EQ(last_.alg, Alg::kRS256);
  EXPECT_EQ(last_.subject, "system:serviceaccount:shop:checkout");
  EXPECT_EQ(last_.exp, kNow + 3600);
  EXPECT_EQ(last_.claims_json, payload);
  ASSERT_EQ(Check(token, "https://kubernetes.default.svc.cluster.local"), Status::kOk);
  EXPECT_TRUE(last_.cache_hit);
  // The audience flag decides, on a hit too: a token for another audience
  // is refused.
  EXPECT_EQ(Check(token, "grafana"), Status::kAudienceMismatch);
  EXPECT_TRUE(last_.cache_hit);
  EXPECT_EQ(Check(token, "https://kubernetes.default.svc.cluster"), Status::kAudienceMismatch);
  EXPECT_TRUE(last_.cache_hit);
}

}  // namespace
}  // namespace tokend::auth

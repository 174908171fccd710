// SPDX-License-Identifier: Apache-2.0
// Project Wycheproof's signature vectors for the asymmetric JWS algorithms,
// run through tokend's own signature layer (SignatureVerifier): RSASSA-PKCS1
// v1.5 and PSS for each JWS hash, ECDSA P-256/384/521 in the r||s form, and
// Ed25519. Every "valid" must verify and every "invalid" must not; the one
// "acceptable" kind (RSA PKCS#1 DigestInfo without the NULL parameter) is
// refused, as documented in docs/jwt.md. Keys come from the groups' PEM,
// through PublicKey::Create() with its rules (so the RSA e = 3 group is
// refused at load, which is itself checked).
#include "daemon/auth/signature.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::auth {
namespace {

std::string Dir() { return TOKEND_SOURCE_DIR "/tests/testdata/wycheproof/"; }

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const PublicKey>> KeyFromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return PublicKey::Create(pkey);
}

struct Tally {
  int valid = 0, invalid = 0, acceptable = 0, acceptable_accepted = 0, refused_keys = 0;
  int refused_key_cases = 0;
};

// Runs every group of `file` under `alg`; fails the test on any valid case
// refused or invalid case accepted.
Tally RunFile(const std::string& file, Alg alg) {
  Tally t;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(Dir() + file);
  SignatureVerifier verifier;
  for (simdjson::dom::element group : doc["testGroups"].get_array()) {
    const std::string_view pem = group["publicKeyPem"].get_string();
    absl::StatusOr<std::shared_ptr<const PublicKey>> key = KeyFromPem(pem);
    simdjson::dom::array tests = group["tests"].get_array();
    if (!key.ok()) {
      ++t.refused_keys;
      t.refused_key_cases += static_cast<int>(tests.size());
      continue;
    }
    for (simdjson::dom::element test : tests) {
      const int64_t id = test["tcId"].get_int64();
      const std::string_view result = test["result"].get_string();
      const std::string msg = Unhex(test["msg"].get_string());
      const std::string sig = Unhex(test["sig"].get_string());
      const bool ok = verifier.Verify(
          **key, alg, msg,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sig.data()), sig.size()));
      if (result == "valid") {
        ++t.valid;
        EXPECT_TRUE(ok) << file << " tcId " << id << " " << test["comment"].get_string().value();
      } else if (result == "invalid") {
        ++t.invalid;
        EXPECT_FALSE(ok) << file << " tcId " << id << " " << test["comment"].get_string().value();
      } else {
        ++t.acceptable;
        t.acceptable_accepted += ok ? 1 : 0;
      }
    }
  }
  return t;
}

TEST(WycheproofSignatureTest, RsaPkcs1) {
  const Tally a = RunFile("rsa_signature_2048_sha256_test.json", Alg::kRS256);
  // The file's two e = 3 groups are refused at load (public exponent 65537
  // only), with their one case each.
  EXPECT_EQ(a.refused_keys, 2);
  EXPECT_EQ(a.refused_key_cases, 2);
  EXPECT_GT(a.valid, 5);
  EXPECT_GT(a.invalid, 100);
  const Tally b = RunFile("rsa_signature_3072_sha384_test.json", Alg::kRS384);
  const Tally c = RunFile("rsa_signature_4096_sha512_test.json", Alg::kRS512);
  EXPECT_EQ(b.refused_keys + c.refused_keys, 0);
  EXPECT_EQ(b.valid, 7);
  EXPECT_EQ(c.valid, 7);
  EXPECT_EQ(b.invalid, 251);
  // "acceptable": a DigestInfo without the NULL parameter. OpenSSL refuses
  // it; so does tokend (RFC 8017 9.2 says the NULL is there).
  EXPECT_EQ(a.acceptable + b.acceptable + c.acceptable, 3);
  EXPECT_EQ(a.acceptable_accepted + b.acceptable_accepted + c.acceptable_accepted, 0);
}

TEST(WycheproofSignatureTest, RsaPss) {
  const Tally a = RunFile("rsa_pss_2048_sha256_mgf1_32_test.json", Alg::kPS256);
  const Tally b = RunFile("rsa_pss_3072_sha256_mgf1_32_test.json", Alg::kPS256);
  const Tally c = RunFile("rsa_pss_4096_sha384_mgf1_48_test.json", Alg::kPS384);
  const Tally d = RunFile("rsa_pss_4096_sha512_mgf1_64_test.json", Alg::kPS512);
  EXPECT_EQ(a.valid + b.valid + c.valid + d.valid, 63 + 63 + 95 + 132);
  EXPECT_EQ(a.invalid + b.invalid + c.invalid + d.invalid, 45 + 45 + 46 + 47);
  EXPECT_EQ(a.refused_keys + b.refused_keys + c.refused_keys + d.refused_keys, 0);
}

TEST(WycheproofSignatureTest, EcdsaP1363) {
  const Tally a = RunFile("ecdsa_secp256r1_sha256_p1363_test.json", Alg::kES256);
  const Tally b = RunFile("ecdsa_secp384r1_sha384_p1363_test.json", Alg::kES384);
  const Tally c = RunFile("ecdsa_secp521r1_sha512_p1363_test.json", Alg::kES512);
  EXPECT_EQ(a.valid, 173);
  EXPECT_EQ(a.invalid, 89);
  EXPECT_EQ(b.valid, 193);
  EXPECT_EQ(c.valid, 231);
  EXPECT_EQ(a.refused_keys + b.refused_keys + c.refused_keys, 0);
}

TEST(WycheproofSignatureTest, Ed25519) {
  const Tally t = RunFile("ed25519_test.json", Alg::kEdDSA);
  EXPECT_EQ(t.valid, 88);
  EXPECT_EQ(t.invalid, 63);
  EXPECT_EQ(t.refused_keys, 0);
}

// The key type decides the algorithms: the same bytes never verify under an
// alg of another family, and an EC key serves only its curve's alg.
TEST(SignatureVerifierTest, KeyServesOnlyItsOwnAlgorithms) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(Dir() + "ecdsa_secp256r1_sha256_p1363_test.json");
  simdjson::dom::element group = doc["testGroups"].at(0);
  absl::StatusOr<std::shared_ptr<const PublicKey>> key =
      KeyFromPem(group["publicKeyPem"].get_string().value());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ((*key)->type(), PublicKeyType::kEc);
  EXPECT_TRUE((*key)->algs().Contains(Alg::kES256));
  for (Alg other : {Alg::kHS256, Alg::kRS256, Alg::kPS256, Alg::kES384, Alg::kES512, Alg::kEdDSA,
                    Alg::kUnknown}) {
    EXPECT_FALSE((*key)->algs().Contains(other)) << AlgName(other);
  }
  // A valid case, then the same under every other alg: refused.
  simdjson::dom::element test = group["tests"].at(0);
  ASSERT_EQ(test["result"].get_string().value(), "valid");
  const std::string msg = Unhex(test["msg"].get_string());
  const std::string sig = Unhex(test["sig"].get_string());
  const std::span<const uint8_t> s(reinterpret_cast<const uint8_t*>(sig.data()), sig.size());
  SignatureVerifier v;
  EXPECT_TRUE(v.Verify(**key, Alg::kES256, msg, s));
  for (Alg other : {Alg::kHS256, Alg::kRS256, Alg::kPS256, Alg::kES384, Alg::kEdDSA}) {
    EXPECT_FALSE(v.Verify(**key, other, msg, s)) << AlgName(other);
  }
  // The "psychic signature": r = s = 0, and r = s = n (the order).
  const std::string zeros(64, '\0');
  EXPECT_FALSE(v.Verify(
      **key, Alg::kES256, msg,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(zeros.data()), zeros.size())));
  const std::string n = Unhex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  const std::string nn = n + n;
  EXPECT_FALSE(
      v.Verify(**key, Alg::kES256, msg,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(nn.data()), nn.size())));
  // r, s + n: the same signature modulo n, one scalar out of range.
  // DER of the valid signature: refused (length), though it is the same r, s.
  std::string der = "\x30";
  auto integer = [](std::string x) {
    while (x.size() > 1 && x[0] == 0) x.erase(0, 1);
    if (static_cast<uint8_t>(x[0]) & 0x80) x.insert(0, 1, '\0');
    return std::string("\x02") + static_cast<char>(x.size()) + x;
  };
  const std::string body = integer(sig.substr(0, 32)) + integer(sig.substr(32));
  der += static_cast<char>(body.size());
  der += body;
  EXPECT_FALSE(
      v.Verify(**key, Alg::kES256, msg,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der.data()), der.size())));
  // And the contexts still work after all those refusals.
  EXPECT_TRUE(v.Verify(**key, Alg::kES256, msg, s));
}

// More (key, alg) pairs than the verifier's slots: evicted contexts are
// rebuilt and still answer right.
TEST(SignatureVerifierTest, ManyKeysCycleThroughTheSlots) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(Dir() + "ed25519_test.json");
  struct One {
    std::shared_ptr<const PublicKey> key;
    std::string msg, sig;
  };
  std::vector<One> all;
  for (simdjson::dom::element group : doc["testGroups"].get_array()) {
    absl::StatusOr<std::shared_ptr<const PublicKey>> key =
        KeyFromPem(group["publicKeyPem"].get_string().value());
    ASSERT_TRUE(key.ok());
    for (simdjson::dom::element test : group["tests"].get_array()) {
      if (test["result"].get_string().value() != "valid") continue;
      all.push_back({*key, Unhex(test["msg"].get_string()), Unhex(test["sig"].get_string())});
      break;
    }
  }
  ASSERT_GT(all.size(), 40u);
  SignatureVerifier v;
  for (int round = 0; round < 3; ++round) {
    for (const One& o : all) {
      const std::span<const uint8_t> s(reinterpret_cast<const uint8_t*>(o.sig.data()),
                                       o.sig.size());
      EXPECT_TRUE(v.Verify(*o.key, Alg::kEdDSA, o.msg, s));
      EXPECT_FALSE(v.Verify(*o.key, Alg::kEdDSA, o.msg + "x", s));
    }
  }
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/workload.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/auth/base64url.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tools/minter/signer.h"

namespace tokend::bench {
namespace {

namespace protocol = tokend::protocol;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "tokend-bench-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string path_;
};

TEST(WorkloadTest, TamperedSignatureStaysCanonicalAndDiffers) {
  const std::string token = "eyJhIjoxfQ.eyJiIjoyfQ.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE";
  const std::string bad = TamperSignature(token);
  ASSERT_EQ(bad.size(), token.size());
  EXPECT_NE(bad, token);
  const size_t sig = token.rfind('.') + 1;
  EXPECT_EQ(bad.substr(0, sig), token.substr(0, sig));  // header and payload untouched
  std::string decoded_good, decoded_bad;
  EXPECT_EQ(auth::Base64UrlDecode(token.substr(sig), decoded_good),
            auth::Base64UrlDecode(bad.substr(sig), decoded_bad));
  EXPECT_NE(decoded_good, decoded_bad);
}

TEST(WorkloadTest, LoadTokensSkipsBlanksCommentsAndBearer) {
  TempDir dir;
  const std::string path = dir.Write("t", "# tokens\n\n  a.b.c  \nBearer d.e.f\r\n");
  absl::StatusOr<std::vector<std::string>> tokens = LoadTokens(path);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a.b.c", "d.e.f"}));
  EXPECT_FALSE(LoadTokens(dir.Write("empty", "\n# none\n")).ok());
  EXPECT_FALSE(LoadTokens("/nonexistent/tokens").ok());
}

TEST(WorkloadTest, MintedTokensAreDistinctAndCarryTheAudienceAndKid) {
  TempDir dir;
  const std::string key = dir.Write("k1", std::string(32, 'x') + "0123456789");
  MintOptions m;
  m.key_file = key;
  m.count = 50;
  m.audience = "api.example";
  m.now = 1800000000;
  absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 50u);
  std::vector<std::string> sorted = *tokens;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string header, payload;
  const std::string& t = tokens->front();
  ASSERT_TRUE(auth::Base64UrlDecode(t.substr(0, t.find('.')), header));
  const size_t p0 = t.find('.') + 1;
  ASSERT_TRUE(auth::Base64UrlDecode(t.substr(p0, t.rfind('.') - p0), payload));
  EXPECT_THAT(header, HasSubstr("\"kid\":\"k1\""));
  EXPECT_THAT(payload, HasSubstr("\"aud\":\"api.example\""));
  EXPECT_THAT(payload, HasSubstr("\"exp\":1800086400"));
}

// Answers for `tokens` from a Validator over the keys in `keys_dir`, as the
// daemon would load them, at time `now`.
std::vector<auth::ValidationResult> Verify(const std::string& keys_dir,
                                           const std::vector<std::string>& tokens,
                                           std::string_view audience, int64_t now) {
  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const auth::Keyring>> ring =
      auth::LoadKeyring(keys_dir, &warnings);
  EXPECT_TRUE(ring.ok()) << ring.status();
  if (!ring.ok()) return {};
  auth::KeySetPublisher publisher(auth::KeySet::Make(*ring, auth::RevocationList::Parse("")));
  auth::Policy policy;
  if (!audience.empty()) policy.audiences = {std::string(audience)};
  auth::Validator validator(policy, publisher, nullptr);
  std::vector<auth::ValidationResult> out;
  for (const std::string& t : tokens) {
    auth::ValidationResult r = validator.Validate(t, "", false, now);
    r.subject = {};  // a view into the validator
    out.push_back(r);
  }
  return out;
}

// --mint PRIVATE.pem --alg ALG: every asymmetric alg, each token verified by
// the daemon's own Validator against the public half; the kid defaults to
// the private key file's stem, as tokenctl keygen names the public key.
TEST(WorkloadTest, MintedWithAPrivateKeyTheTokensVerifyForEveryAlg) {
  struct Case {
    const char* kind;
    std::vector<auth::Alg> algs;
  } cases[] = {
      {"RSA",
       {auth::Alg::kRS256, auth::Alg::kRS384, auth::Alg::kRS512, auth::Alg::kPS256,
        auth::Alg::kPS384, auth::Alg::kPS512}},
      {"P-256", {auth::Alg::kES256}},
      {"P-384", {auth::Alg::kES384}},
      {"P-521", {auth::Alg::kES512}},
      {"Ed25519", {auth::Alg::kEdDSA}},
  };
  const int64_t now = 1800000000;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind);
    absl::StatusOr<auth::PkeyPtr> key = auth::GenerateKey(c.kind);
    ASSERT_TRUE(key.ok()) << key.status();
    TempDir priv, keys;
    const std::string pem = priv.Write("signer.key", *auth::PrivateKeyPem(key->get()));
    keys.Write("signer.pem", *auth::PublicKeyPem(key->get()));  // kid "signer"
    for (const auth::Alg alg : c.algs) {
      const std::string_view name = auth::AlgName(alg);
      SCOPED_TRACE(name);
      MintOptions m;
      m.key_file = pem;
      m.alg = std::string(name);
      m.count = 3;
      m.audience = "api";
      m.now = now;
      absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
      ASSERT_TRUE(tokens.ok()) << tokens.status();
      ASSERT_EQ(tokens->size(), 3u);
      EXPECT_NE((*tokens)[0], (*tokens)[1]);
      std::string header;
      ASSERT_TRUE(
          auth::Base64UrlDecode(tokens->front().substr(0, tokens->front().find('.')), header));
      EXPECT_THAT(header, HasSubstr("\"kid\":\"signer\""));
      for (const auth::ValidationResult& r : Verify(keys.path(), *tokens, "api", now + 60)) {
        EXPECT_EQ(r.status, auth::Status::kOk);
        EXPECT_EQ(r.alg, alg);
      }
      // A tampered one does not.
      EXPECT_EQ(Verify(keys.path(), {TamperSignature(tokens->front())}, "api", now)[0].status,
                auth::Status::kBadSignature);
    }
  }
}

TEST(WorkloadTest, WithoutAlgAPrivateKeyMintsItsDefaultAndAKidMayBeGiven) {
  TempDir dir, keys;
  absl::StatusOr<auth::PkeyPtr> ec = auth::GenerateKey("P-384");
  ASSERT_TRUE(ec.ok());
  MintOptions m;
  m.key_file = dir.Write("ec.key", *auth::PrivateKeyPem(ec->get()));
  m.kid = "other";
  m.now = 1800000000;
  keys.Write("idp.jwks", "{\"keys\":[" + *auth::PublicJwk(ec->get(), "other", {}) + "]}");
  absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const auth::ValidationResult r = Verify(keys.path(), *tokens, "", m.now)[0];
  EXPECT_EQ(r.status, auth::Status::kOk);
  EXPECT_EQ(r.alg, auth::Alg::kES384);
}

TEST(WorkloadTest, AnAlgTheKeyCannotSignIsAnErrorWithoutKeyBytes) {
  TempDir dir;
  absl::StatusOr<auth::PkeyPtr> rsa = auth::GenerateKey("RSA");
  absl::StatusOr<auth::PkeyPtr> ed = auth::GenerateKey("Ed25519");
  ASSERT_TRUE(rsa.ok() && ed.ok());
  const std::string rsa_pem = *auth::PrivateKeyPem(rsa->get());
  const std::string secret = std::string(32, 'q') + "0123456789abcdef";
  const struct {
    std::string file;
    std::string alg;
  } cases[] = {
      {dir.Write("rsa.key", rsa_pem), "HS256"},   // an HMAC alg with a private key
      {dir.Write("rsa2.key", rsa_pem), "ES256"},  // another family
      {dir.Write("ed.key", *auth::PrivateKeyPem(ed->get())), "RS256"},
      {dir.Write("hmac", secret), "RS256"},  // an asymmetric alg with a secret
      {dir.Write("pub.pem", *auth::PublicKeyPem(rsa->get())), ""},  // a public key cannot sign
  };
  for (const auto& c : cases) {
    MintOptions m;
    m.key_file = c.file;
    m.alg = c.alg;
    absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
    ASSERT_FALSE(tokens.ok()) << c.file << " " << c.alg;
    EXPECT_THAT(tokens.status().message(), HasSubstr(c.file));
    EXPECT_EQ(tokens.status().message().find("PRIVATE KEY"), absl::string_view::npos);
    EXPECT_EQ(tokens.status().message().find(secret), absl::string_view::npos);
  }
}

// --alg with a secret: another HS alg when the key is long enough.
TEST(WorkloadTest, AnHmacSecretMintsTheHsAlgAsked) {
  TempDir dir;
  const std::string secret = std::string(48, 'z') + "0123456789abcdef";
  MintOptions m;
  m.key_file = dir.Write("k1", secret);
  m.alg = "HS384";
  m.now = 1800000000;
  absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const auth::ValidationResult r = Verify(dir.path(), *tokens, "", m.now)[0];
  EXPECT_EQ(r.status, auth::Status::kOk);
  EXPECT_EQ(r.alg, auth::Alg::kHS384);
}

TEST(WorkloadTest, MintingWithAMissingKeyFails) {
  MintOptions m;
  m.key_file = "/nonexistent/key";
  EXPECT_FALSE(MintTokens(m).ok());
}

TEST(WorkloadTest, InvalidRatioTampersExactlyThatShareAndExpectsBadSignature) {
  RunSpec spec;
  spec.op = Op::kValidate;
  spec.invalid_ratio = 0.25;
  spec.audience = "aud";
  const std::vector<std::string> tokens = {"a.b.AAAA", "c.d.BBBB", "e.f.CCCC"};
  std::unique_ptr<Workload> w = Workload::Build(spec, tokens);
  int tampered = 0;
  for (uint64_t seq = 0; seq < 1000; ++seq) {
    std::string out;
    const Outcome expected = w->AppendRequest(seq, static_cast<uint32_t>(seq + 7), &out);
    protocol::RequestFrame frame;
    size_t consumed = 0;
    ASSERT_EQ(protocol::NextRequestFrame(out, &frame, &consumed), protocol::FrameStatus::kFrame);
    ASSERT_EQ(consumed, out.size());
    EXPECT_EQ(frame.header.request_id, seq + 7);
    EXPECT_EQ(frame.header.opcode, protocol::kOpValidate);
    protocol::ValidateRequest req;
    ASSERT_TRUE(protocol::DecodeValidateRequest(frame.body, &req));
    EXPECT_EQ(req.audience, "aud");
    const std::string& original = tokens[seq % tokens.size()];
    if (expected == Outcome::kBadSignature) {
      ++tampered;
      EXPECT_EQ(req.token, TamperSignature(original));
    } else {
      EXPECT_EQ(expected, Outcome::kOk);
      EXPECT_EQ(req.token, original);
    }
  }
  EXPECT_EQ(tampered, 250);
}

TEST(WorkloadTest, PingRequestsExpectOk) {
  RunSpec spec;
  std::unique_ptr<Workload> w = Workload::Build(spec, {});
  std::string out;
  EXPECT_EQ(w->AppendRequest(0, 42, &out), Outcome::kOk);
  ASSERT_EQ(out.size(), protocol::kHeaderSize);
  EXPECT_EQ(protocol::DecodeHeader(out.data()).opcode, protocol::kOpPing);
  EXPECT_EQ(protocol::DecodeHeader(out.data()).request_id, 42u);
}

TEST(WorkloadTest, OutcomeNamesFollowTheProtocol) {
  EXPECT_EQ(OutcomeName(0), "OK");
  EXPECT_EQ(OutcomeName(2), "BAD_SIGNATURE");
  EXPECT_EQ(OutcomeName(12), "UNSUPPORTED_HEADER");
  EXPECT_EQ(OutcomeName(static_cast<int>(Outcome::kNoAnswer)), "NO_ANSWER");
}

}  // namespace
}  // namespace tokend::bench

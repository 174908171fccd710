// SPDX-License-Identifier: Apache-2.0
// tokenctl, run as a process: exit codes, output, stdin and `Bearer `,
// --help everywhere, keygen's files, and mint's tokens, whose signatures are
// checked here with OpenSSL under the key file's bytes. `validate` and
// `ping` talk to the fake daemon; the real one is in client_daemon_test.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/auth/base64url.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/verifier.h"
#include "gtest/gtest.h"
#include "tests/client/client_test_util.h"
#include "tests/client/fake_server.h"
#include "tests/client/subprocess.h"

namespace tokend::testing {
namespace {

ProcessResult Tokenctl(std::vector<std::string> args, const std::string& input = "",
                       const std::vector<std::pair<std::string, std::string>>& env = {}) {
  args.insert(args.begin(), TOKENCTL_PATH);
  return RunProcess(args, input, env, {"TOKEND_SOCKET"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  for (std::string p; std::getline(ss, p, sep);) parts.push_back(p);
  return parts;
}

class TokenctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.File("tokend.sock");
    server_ = std::make_unique<FakeServer>(socket_);
    ASSERT_TRUE(server_->Start()) << server_->error();
  }

  TempDir dir_;
  std::string socket_;
  std::unique_ptr<FakeServer> server_;
};

// --- validate ----------------------------------------------------------------

TEST_F(TokenctlTest, ValidTokenExitsZeroAndPrintsStatusSubjectAndExpiry) {
  const ProcessResult r = Tokenctl({"validate", "--socket", socket_, "alice"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\nsub: alice\nexp: 1700000000 (2023-11-14T22:13:20Z)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(TokenctlTest, InvalidTokenExitsOneAndPrintsTheStatusName) {
  const ProcessResult r = Tokenctl({"validate", "--socket=" + socket_, "status:5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "EXPIRED\nexp: 99 (1970-01-01T00:01:39Z)\n");
}

TEST_F(TokenctlTest, NoDaemonExitsTwoAndSaysWhatToDo) {
  const std::string absent = dir_.File("absent.sock");
  const ProcessResult r = Tokenctl({"validate", "--socket", absent, "alice"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(absent), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is tokend running"), std::string::npos) << r.err;
}

TEST_F(TokenctlTest, DaemonThatNeverAnswersExitsTwoAfterTheTimeout) {
  server_->set_behavior(Behavior::kSilent);
  const ProcessResult r = Tokenctl({"validate", "--socket", socket_, "--timeout", "100", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("within the timeout"), std::string::npos) << r.err;
}

TEST_F(TokenctlTest, DashReadsTheTokenFromStdinAndBearerIsStripped) {
  ProcessResult r = Tokenctl({"validate", "--socket", socket_, "-"}, "Bearer   bob\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 12), "OK\nsub: bob\n");
  r = Tokenctl({"validate", "--socket", socket_, "bearer carol"});
  EXPECT_EQ(r.out.substr(0, 14), "OK\nsub: carol\n");
  r = Tokenctl({"validate", "--socket", socket_, "-"}, " \n\t\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos);
}

TEST_F(TokenctlTest, SocketComesFromTheEnvironmentWithoutSocketFlag) {
  const ProcessResult r = Tokenctl({"validate", "dave"}, "", {{"TOKEND_SOCKET", socket_}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 13), "OK\nsub: dave\n");
}

TEST_F(TokenctlTest, ClaimsAndJsonOutputs) {
  ProcessResult r =
      Tokenctl({"validate", "--socket", socket_, "--audience", "api", "--claims", "erin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n{\"tok\":\"erin\",\"aud\":\"api\"}\n");
  r = Tokenctl({"validate", "--socket", socket_, "--json", "erin"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "{\"status\":\"OK\",\"code\":0,\"valid\":true,\"alg\":\"HS256\",\"sub\":\"erin\","
            "\"exp\":1700000000}\n");
  r = Tokenctl({"validate", "--socket", socket_, "--json", "--claims", "erin"});
  EXPECT_NE(r.out.find(",\"claims\":{\"tok\":\"erin\",\"aud\":\"\"}}"), std::string::npos) << r.out;
  r = Tokenctl({"validate", "--socket", socket_, "--json", "status:3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "{\"status\":\"UNKNOWN_KEY\",\"code\":3,\"valid\":false,\"alg\":\"HS384\","
            "\"exp\":99}\n");
}

TEST_F(TokenctlTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"validate"},
           {"validate", "a", "b"},
           {"validate", "--bogus", "a"},
           {"validate", "--socket"},
           {"validate", "--timeout", "soon", "a"},
           {"validate", "--claims=yes", "a"},
           {"ping", "extra"},
           {"keygen"},
           {"keygen", "--alg", "RS999", "k"},
           {"keygen", "--alg", "ES256", "--bits", "4096", "k"},
           {"mint"},
           {"mint", "--key", "k", "--ttl", "long"},
           {"mint", "--key", "k", "--claim", "novalue"},
           {"mint", "--key", "k", "--sub", "a", "--sub", "b"},
       }) {
    const ProcessResult r = Tokenctl(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_NE(r.err, "") << ::testing::PrintToString(args);
    EXPECT_EQ(r.out, "") << ::testing::PrintToString(args);
  }
}

TEST_F(TokenctlTest, EveryCommandHasHelp) {
  for (const std::string cmd : {"validate", "ping", "keygen", "mint", "decode"}) {
    const ProcessResult r = Tokenctl({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_EQ(r.out.rfind("usage: tokenctl " + cmd, 0), 0u) << r.out;
  }
  const ProcessResult r = Tokenctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("validate"), std::string::npos);
}

// --- ping --------------------------------------------------------------------

TEST_F(TokenctlTest, PingExitsZeroWhenTheDaemonAnswersAndTwoWhenNot) {
  ProcessResult r = Tokenctl({"ping", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("OK " + socket_, 0), 0u) << r.out;
  EXPECT_EQ(server_->requests(), 1u);
  server_->Stop();
  r = Tokenctl({"ping", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no tokend daemon"), std::string::npos) << r.err;
}

// --- keygen ------------------------------------------------------------------

TEST_F(TokenctlTest, KeygenWritesARandomKeyOfTheAlgorithmsSizeWithMode0600) {
  const std::pair<const char*, size_t> algs[] = {{"HS256", 32}, {"HS384", 48}, {"HS512", 64}};
  for (const auto& [alg, size] : algs) {
    const std::string raw = dir_.File(std::string("raw-") + alg);
    const ProcessResult r = Tokenctl({"keygen", "--alg", alg, raw});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("kid \"raw-" + std::string(alg) + "\""), std::string::npos) << r.out;
    const std::string bytes = ReadFile(raw);
    EXPECT_EQ(bytes.size(), size);
    EXPECT_NE(bytes.back(), '\n');
    struct stat st;
    ASSERT_EQ(stat(raw.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    const std::string b64 = dir_.File(std::string("text-") + alg + ".b64");
    ASSERT_EQ(Tokenctl({"keygen", "--alg", alg, b64}).exit_code, 0);
    std::string decoded;
    ASSERT_TRUE(auth::Base64DecodeLenient(ReadFile(b64), decoded));
    EXPECT_EQ(decoded.size(), size);
    EXPECT_NE(decoded, bytes);
  }
  // Default HS256; two keys differ.
  ASSERT_EQ(Tokenctl({"keygen", dir_.File("d1")}).exit_code, 0);
  ASSERT_EQ(Tokenctl({"keygen", dir_.File("d2")}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_.File("d1")).size(), 32u);
  EXPECT_NE(ReadFile(dir_.File("d1")), ReadFile(dir_.File("d2")));
}

TEST_F(TokenctlTest, KeygenNeverOverwritesAndRefusesNamesTheDaemonWouldMisread) {
  const std::string path = dir_.File("k1");
  ASSERT_EQ(Tokenctl({"keygen", path}).exit_code, 0);
  const std::string before = ReadFile(path);
  ProcessResult r = Tokenctl({"keygen", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(path), before);
  r = Tokenctl({"keygen", dir_.File(".hidden")});
  EXPECT_EQ(r.exit_code, 2);
  r = Tokenctl({"keygen", dir_.File("set.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("JWK"), std::string::npos);
  r = Tokenctl({"keygen", dir_.File("no/such/dir/k")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos);
}

// --- mint --------------------------------------------------------------------

struct Decoded {
  std::string header, payload, signature, signing_input;
};

Decoded Decode(const std::string& token) {
  Decoded d;
  const std::vector<std::string> parts = Split(token, '.');
  EXPECT_EQ(parts.size(), 3u) << token;
  if (parts.size() != 3) return d;
  EXPECT_TRUE(auth::Base64UrlDecode(parts[0], d.header));
  EXPECT_TRUE(auth::Base64UrlDecode(parts[1], d.payload));
  EXPECT_TRUE(auth::Base64UrlDecode(parts[2], d.signature));
  d.signing_input = parts[0] + "." + parts[1];
  return d;
}

std::string Hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

TEST_F(TokenctlTest, MintSignsWithTheKeyFileForEveryAlgorithm) {
  const struct {
    const char* alg;
    const EVP_MD* md;
  } algs[] = {{"HS256", EVP_sha256()}, {"HS384", EVP_sha384()}, {"HS512", EVP_sha512()}};
  for (const auto& a : algs) {
    for (const std::string suffix : {"", ".b64"}) {
      SCOPED_TRACE(std::string(a.alg) + suffix);
      const std::string key = dir_.File(std::string("key-") + a.alg + suffix);
      ASSERT_EQ(Tokenctl({"keygen", "--alg", a.alg, key}).exit_code, 0);
      std::string secret = ReadFile(key);
      if (!suffix.empty()) {
        const std::string text = secret;
        ASSERT_TRUE(auth::Base64DecodeLenient(text, secret));
      }
      // No --alg: the strongest the key's length allows, which is keygen's.
      const ProcessResult r =
          Tokenctl({"mint", "--key", key, "--sub", "alice", "--aud", "api", "--iss", "me"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ASSERT_EQ(r.out.back(), '\n');
      const Decoded d = Decode(r.out.substr(0, r.out.size() - 1));
      EXPECT_EQ(d.header, std::string("{\"alg\":\"") + a.alg + "\",\"typ\":\"JWT\",\"kid\":\"key-" +
                              a.alg + "\"}");
      EXPECT_EQ(d.signature, Hmac(a.md, secret, d.signing_input));
      EXPECT_EQ(d.payload.rfind("{\"iss\":\"me\",\"sub\":\"alice\",\"aud\":\"api\",\"iat\":", 0),
                0u)
          << d.payload;
    }
  }
}

// keygen of every asymmetric kind, mint with its private key, and the
// daemon's own loader and verifier accept the token with the public file.
TEST_F(TokenctlTest, KeygenAndMintWithKeyPairsForEveryAsymmetricAlgorithm) {
  for (const std::string alg :
       {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}) {
    SCOPED_TRACE(alg);
    const std::string priv = dir_.File("signer-" + alg + ".key");
    const std::string keys = dir_.File("keys-" + alg);
    ASSERT_EQ(::mkdir(keys.c_str(), 0755), 0);
    const bool pem = alg == "ES384" || alg == "PS256";
    const std::string pub = keys + (pem ? "/signer-" + alg + ".pem" : "/idp.jwks");
    ProcessResult r = Tokenctl({"keygen", "--alg", alg, "--public", pub, priv});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    struct stat st;
    ASSERT_EQ(::stat(priv.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(ReadFile(priv).find("BEGIN PRIVATE KEY"), std::string::npos);
    r = Tokenctl({"mint", "--key", priv, "--alg", alg, "--sub", "alice"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string token = r.out.substr(0, r.out.size() - 1);
    EXPECT_NE(Decode(token).header.find("\"alg\":\"" + alg + "\""), std::string::npos);

    std::vector<std::string> warnings;
    auto ring = auth::LoadKeyring(keys, &warnings);
    ASSERT_TRUE(ring.ok()) << ring.status();
    auth::Policy policy;
    auth::Verifier verifier(policy);
    auth::VerifyResult out;
    EXPECT_EQ(verifier.VerifySignature(token, **ring, &out), auth::Status::kOk);
    EXPECT_EQ(auth::AlgName(out.alg), alg);
    // The private key itself in the keys directory is refused.
    const std::string leaked = keys + "/leaked.pem";
    std::ofstream(leaked) << ReadFile(priv);
    EXPECT_FALSE(auth::LoadKeyring(keys, &warnings).ok());
  }
  // An RSA key below 2048 bits is never made; a private key is never named .pem.
  EXPECT_EQ(Tokenctl({"keygen", "--alg", "RS256", "--bits", "1024", dir_.File("s.key")}).exit_code,
            2);
  EXPECT_EQ(Tokenctl({"keygen", "--alg", "ES256", dir_.File("s.pem")}).exit_code, 2);
  // A key of another type than --alg.
  ASSERT_EQ(Tokenctl({"keygen", "--alg", "ES256", dir_.File("e.key")}).exit_code, 0);
  EXPECT_EQ(Tokenctl({"mint", "--key", dir_.File("e.key"), "--alg", "RS256"}).exit_code, 2);
}

TEST_F(TokenctlTest, DecodePrintsHeaderAndClaimsLabelledUnverified) {
  const std::string token = auth::Base64UrlEncode(R"({"alg":"RS256","kid":"k"})") + "." +
                            auth::Base64UrlEncode(R"({"sub":"alice"})") + ".c2ln";
  ProcessResult r = Tokenctl({"decode", token});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("UNVERIFIED", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(R"(header: {"alg":"RS256","kid":"k"})"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(claims: {"sub":"alice"})"), std::string::npos) << r.out;
  r = Tokenctl({"decode", "-"}, "Bearer " + token + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(R"(claims: {"sub":"alice"})"), std::string::npos) << r.out;
  EXPECT_EQ(Tokenctl({"decode", "a.b"}).exit_code, 2);
  EXPECT_EQ(Tokenctl({"decode", "a.b=.c"}).exit_code, 2);
}

TEST_F(TokenctlTest, MintBuildsTheClaimsAsAsked) {
  const std::string key = dir_.File("k");
  ASSERT_EQ(Tokenctl({"keygen", "--alg", "HS512", key}).exit_code, 0);
  const ProcessResult r = Tokenctl(
      {"mint",     "--key",   key,       "--alg",   "HS256",          "--aud",      "a",
       "--aud",    "b",       "--ttl",   "-60",     "--claim",        "admin=true", "--claim",
       "role=ops", "--claim", "n=42",    "--claim", "list=[1,\"x\"]", "--claim",    "q=\"quoted\"",
       "--claim",  "empty=",  "--claim", "iat=5",   "--kid",          "other"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("not \"other\""), std::string::npos)
      << r.err;  // kid differs from the file's
  const Decoded d = Decode(r.out.substr(0, r.out.size() - 1));
  EXPECT_EQ(d.header, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"other\"}");
  // iat was replaced in place by --claim iat=5; exp = now - 60.
  const std::string prefix = "{\"aud\":[\"a\",\"b\"],\"iat\":5,\"exp\":";
  ASSERT_EQ(d.payload.rfind(prefix, 0), 0u) << d.payload;
  const size_t comma = d.payload.find(',', prefix.size());
  const long long exp = std::stoll(d.payload.substr(prefix.size(), comma - prefix.size()));
  EXPECT_LT(exp, time(nullptr) - 30);
  EXPECT_EQ(d.payload.substr(comma),
            ",\"admin\":true,\"role\":\"ops\",\"n\":42,\"list\":[1,\"x\"],\"q\":\"quoted\","
            "\"empty\":\"\"}");
}

TEST_F(TokenctlTest, MintReadsAJwkSetByKid) {
  const std::string jwks = dir_.File("keys.json");
  std::ofstream(jwks) << R"({"keys":[)"
                      << R"({"kty":"oct","kid":"a","alg":"HS384","k":")" << std::string(64, 'A')
                      << R"("},)"
                      << R"({"kty":"oct","kid":"b","k":")" << std::string(43, 'Q') << "\"}]}";
  ProcessResult r = Tokenctl({"mint", "--key", jwks, "--kid", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Decoded d = Decode(r.out.substr(0, r.out.size() - 1));
  EXPECT_EQ(d.header, "{\"alg\":\"HS384\",\"typ\":\"JWT\",\"kid\":\"a\"}");
  EXPECT_EQ(d.signature, Hmac(EVP_sha384(), std::string(48, '\0'), d.signing_input));

  r = Tokenctl({"mint", "--key", jwks, "--kid", "a", "--alg", "HS256"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bound to HS384"), std::string::npos) << r.err;
  r = Tokenctl({"mint", "--key", jwks});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kid"), std::string::npos) << r.err;
  r = Tokenctl({"mint", "--key", jwks, "--kid", "zzz"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(TokenctlTest, MintRefusesKeysTheDaemonWouldRefuse) {
  const std::string short_key = dir_.File("short");
  std::ofstream(short_key) << std::string(16, 'k');
  ProcessResult r = Tokenctl({"mint", "--key", short_key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tokenctl keygen"), std::string::npos) << r.err;

  const std::string k32 = dir_.File("k32");
  ASSERT_EQ(Tokenctl({"keygen", "--alg", "HS256", k32}).exit_code, 0);
  r = Tokenctl({"mint", "--key", k32, "--alg", "HS512"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HS512 needs at least 64"), std::string::npos) << r.err;

  r = Tokenctl({"mint", "--key", dir_.File("absent")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("absent"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tokend::testing

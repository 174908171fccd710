// SPDX-License-Identifier: Apache-2.0
// The client library and tokenctl against the real tokend (started by the
// integration harness on a temporary socket): every status the daemon
// gives, a batch of 10,000, a restart between calls, a daemon that stops
// answering (SIGSTOP), and tokenctl's exit codes with keygen -> tokend
// --keys -> mint -> validate round trips for HS256, HS384 and HS512.

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/auth/key_loader.h"
#include "gtest/gtest.h"
#include "tests/client/subprocess.h"
#include "tests/integration/harness.h"
#include "tokend/client.h"
#include "tools/minter/minter.h"

namespace tokend::testing {
namespace {

using integration::TokendProcess;

constexpr char kRevokedJti[] = "jti-on-the-list";

ProcessResult Tokenctl(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), TOKENCTL_PATH);
  return RunProcess(args, input, {}, {"TOKEND_SOCKET"});
}

class ClientDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(daemon_.dir().empty());
    // Keys made the way an operator makes them, in the daemon's --keys dir.
    for (const char* name : {"k256", "k384.b64", "k512"}) {
      const std::string alg = std::string("HS") + (name + 1);
      const ProcessResult r =
          Tokenctl({"keygen", "--alg", alg.substr(0, 5), daemon_.keys_dir() + "/" + name});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    daemon_.WriteFile(daemon_.path("revoked"), std::string(kRevokedJti) + "\n");
    ASSERT_TRUE(StartDaemon()) << daemon_.Log();
    const int rc = tokend_connect(daemon_.socket_path().c_str(), 5000, &client_);
    ASSERT_EQ(rc, TOKEND_OK) << tokend_strerror(rc);
  }

  void TearDown() override { tokend_close(client_); }

  bool StartDaemon() {
    return daemon_.Start({"--issuer", "me", "--revoked", daemon_.path("revoked")}) &&
           daemon_.WaitReady();
  }

  // A token signed with the key file `key` (in keys/) under `alg`.
  std::string Mint(const std::string& key, auth::Alg alg, const std::string& payload,
                   const std::string& header = "") {
    absl::StatusOr<auth::KeyMaterial> m = auth::ReadKeyFile(daemon_.keys_dir() + "/" + key, "");
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return "";
    return auth::MintToken(alg, header.empty() ? auth::JwtHeaderJson(alg, m->kid) : header, payload,
                           m->secret.span());
  }

  std::string Claims(const std::string& sub, int64_t exp_offset, const std::string& extra = "") {
    return "{\"iss\":\"me\",\"sub\":\"" + sub +
           "\",\"aud\":\"api\",\"exp\":" + std::to_string(integration::Now() + exp_offset) + extra +
           "}";
  }

  int Status(const std::string& token, const std::string& audience = "") {
    tokend_result r;
    const int rc = tokend_validate(client_, token.data(), token.size(), audience.data(),
                                   audience.size(), 0, &r);
    EXPECT_EQ(rc, TOKEND_OK) << tokend_last_error(client_);
    const int status = r.status;
    tokend_result_clear(&r);
    return status;
  }

  TokendProcess daemon_;
  tokend_client* client_ = nullptr;
};

TEST_F(ClientDaemonTest, EveryStatusComesBackWithItsName) {
  const std::string good_claims = Claims("alice", 3600);
  const std::string good = Mint("k256", auth::Alg::kHS256, good_claims);
  tokend_result r;
  ASSERT_EQ(tokend_validate(client_, good.data(), good.size(), "api", 3, TOKEND_WANT_CLAIMS, &r),
            TOKEND_OK)
      << tokend_last_error(client_);
  EXPECT_EQ(r.status, TOKEND_STATUS_OK) << r.status_name;
  EXPECT_STREQ(r.sub, "alice");
  EXPECT_EQ(r.alg, TOKEND_ALG_HS256);
  EXPECT_GT(r.exp, integration::Now());
  EXPECT_EQ(std::string(r.claims, r.claims_len), good_claims);
  tokend_result_clear(&r);

  std::string bad_sig = good;
  const size_t sig = bad_sig.rfind('.') + 1;
  bad_sig[sig] = bad_sig[sig] == 'A' ? 'B' : 'A';
  const std::string crit = R"({"alg":"HS256","kid":"k256","crit":["x"],"x":1})";
  const std::string none = R"({"alg":"none","kid":"k256"})";

  const struct {
    std::string token;
    std::string audience;
    int status;
    const char* name;
  } cases[] = {
      {"not-a-token", "", TOKEND_STATUS_MALFORMED, "MALFORMED"},
      {bad_sig, "", TOKEND_STATUS_BAD_SIGNATURE, "BAD_SIGNATURE"},
      {auth::MintToken(auth::Alg::kHS256, auth::JwtHeaderJson(auth::Alg::kHS256, "nope"),
                       Claims("a", 3600), std::string(32, 'x')),
       "", TOKEND_STATUS_UNKNOWN_KEY, "UNKNOWN_KEY"},
      {Mint("k256", auth::Alg::kHS256, Claims("a", 3600), none), "", TOKEND_STATUS_ALG_NOT_ALLOWED,
       "ALG_NOT_ALLOWED"},
      {Mint("k256", auth::Alg::kHS256, Claims("a", -3600)), "", TOKEND_STATUS_EXPIRED, "EXPIRED"},
      {Mint("k256", auth::Alg::kHS256,
            Claims("a", 7200, ",\"nbf\":" + std::to_string(integration::Now() + 3600))),
       "", TOKEND_STATUS_NOT_YET_VALID, "NOT_YET_VALID"},
      {good, "other", TOKEND_STATUS_AUDIENCE_MISMATCH, "AUDIENCE_MISMATCH"},
      {Mint("k256", auth::Alg::kHS256,
            "{\"iss\":\"evil\",\"exp\":" + std::to_string(integration::Now() + 60) + "}"),
       "", TOKEND_STATUS_ISSUER_MISMATCH, "ISSUER_MISMATCH"},
      {Mint("k256", auth::Alg::kHS256,
            Claims("a", 3600, std::string(",\"jti\":\"") + kRevokedJti + "\"")),
       "", TOKEND_STATUS_REVOKED, "REVOKED"},
      {std::string(9000, 'a'), "", TOKEND_STATUS_TOO_LARGE, "TOO_LARGE"},
      {Mint("k256", auth::Alg::kHS256, "{\"iss\":\"me\",\"sub\":\"a\"}"), "",
       TOKEND_STATUS_MISSING_CLAIM, "MISSING_CLAIM"},
      {Mint("k256", auth::Alg::kHS256, Claims("a", 3600), crit), "",
       TOKEND_STATUS_UNSUPPORTED_HEADER, "UNSUPPORTED_HEADER"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(tokend_validate(client_, c.token.data(), c.token.size(), c.audience.data(),
                              c.audience.size(), TOKEND_WANT_CLAIMS, &r),
              TOKEND_OK)
        << tokend_last_error(client_);
    EXPECT_EQ(r.status, c.status) << r.status_name;
    EXPECT_STREQ(r.status_name, c.name);
    EXPECT_STREQ(r.sub, "");
    EXPECT_STREQ(r.claims, "");
    tokend_result_clear(&r);
  }
}

TEST_F(ClientDaemonTest, BatchOfTenThousandAnswersInRequestOrder) {
  constexpr size_t kN = 10000;
  std::vector<std::string> tokens(kN);
  std::vector<tokend_request> reqs(kN);
  for (size_t i = 0; i < kN; ++i) {
    tokens[i] = Mint("k512", auth::Alg::kHS512,
                     Claims("user-" + std::to_string(i), i % 5 == 4 ? -3600 : 3600));
    reqs[i] = {tokens[i].data(), tokens[i].size(), "api", 3, 0};
  }
  std::vector<tokend_result> results(kN);
  // The timeout bounds the whole batch; a loaded machine running a debug
  // or sanitizer build may need far longer than the default.
  ASSERT_EQ(tokend_set_timeout(client_, 120000), TOKEND_OK);
  ASSERT_EQ(tokend_validate_batch(client_, reqs.data(), results.data(), kN), TOKEND_OK)
      << tokend_last_error(client_);
  for (size_t i = 0; i < kN; ++i) {
    SCOPED_TRACE(i);
    if (i % 5 == 4) {
      ASSERT_EQ(results[i].status, TOKEND_STATUS_EXPIRED);
    } else {
      ASSERT_EQ(results[i].status, TOKEND_STATUS_OK);
      ASSERT_EQ(std::string(results[i].sub), "user-" + std::to_string(i));
      ASSERT_EQ(results[i].alg, TOKEND_ALG_HS512);
    }
    tokend_result_clear(&results[i]);
  }
}

TEST_F(ClientDaemonTest, DaemonRestartBetweenCallsIsInvisible) {
  const std::string token = Mint("k384.b64", auth::Alg::kHS384, Claims("bob", 3600));
  EXPECT_EQ(Status(token), TOKEND_STATUS_OK);
  const pid_t before = daemon_.pid();
  daemon_.Signal(SIGTERM);
  ASSERT_TRUE(daemon_.WaitExit().has_value());
  ASSERT_TRUE(StartDaemon()) << daemon_.Log();
  ASSERT_NE(daemon_.pid(), before);
  EXPECT_EQ(Status(token), TOKEND_STATUS_OK);  // same handle, one silent reconnect
  EXPECT_EQ(tokend_ping(client_), TOKEND_OK);
}

// A daemon whose allow list leaves us out sends the refusal frame; the
// library and tokenctl say so instead of blaming a crashing daemon.
TEST_F(ClientDaemonTest, PeerRefusedByTheAllowListIsToldWhy) {
  daemon_.Signal(SIGTERM);
  ASSERT_TRUE(daemon_.WaitExit().has_value());
  ASSERT_TRUE(daemon_.Start({"--allow-uid", std::to_string(::getuid() + 1)}) && daemon_.WaitReady())
      << daemon_.Log();
  for (int round = 0; round < 20; ++round) {  // the refusal races our request
    EXPECT_EQ(tokend_ping(client_), TOKEND_ERR_REFUSED) << tokend_last_error(client_);
  }
  const std::string token = Mint("k256", auth::Alg::kHS256, Claims("erin", 3600));
  tokend_result r;
  EXPECT_EQ(tokend_validate(client_, token.data(), token.size(), nullptr, 0, 0, &r),
            TOKEND_ERR_REFUSED);
  EXPECT_NE(std::string(tokend_strerror(TOKEND_ERR_REFUSED))
                .find("refused by the daemon's peer allow-list"),
            std::string::npos);

  const ProcessResult v = Tokenctl({"validate", "--socket", daemon_.socket_path(), token});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("refused by the daemon's peer allow-list"), std::string::npos) << v.err;
  const ProcessResult p = Tokenctl({"ping", "--socket", daemon_.socket_path()});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("refused by the daemon's peer allow-list"), std::string::npos) << p.err;
  EXPECT_NE(daemon_.Log().find("connection refused by the peer allow-list"), std::string::npos)
      << daemon_.Log();
}

TEST_F(ClientDaemonTest, StoppedDaemonTimesOutAndTheNextCallRecovers) {
  const std::string token = Mint("k256", auth::Alg::kHS256, Claims("carol", 3600));
  daemon_.Signal(SIGSTOP);
  ASSERT_TRUE(daemon_.WaitStopped()) << daemon_.Log();
  ASSERT_EQ(tokend_set_timeout(client_, 200), TOKEND_OK);
  tokend_result r;
  EXPECT_EQ(tokend_validate(client_, token.data(), token.size(), nullptr, 0, 0, &r),
            TOKEND_ERR_TIMEOUT);
  EXPECT_EQ(tokend_ping(client_), TOKEND_ERR_TIMEOUT);
  daemon_.Signal(SIGCONT);
  ASSERT_EQ(tokend_set_timeout(client_, 5000), TOKEND_OK);
  EXPECT_EQ(Status(token), TOKEND_STATUS_OK);
}

TEST_F(ClientDaemonTest, TokenctlMintsWhatTheDaemonAcceptsForEveryAlgorithm) {
  const std::string socket = daemon_.socket_path();
  for (const char* key : {"k256", "k384.b64", "k512"}) {
    SCOPED_TRACE(key);
    const std::string alg = std::string("HS") + std::string(key + 1).substr(0, 3);
    const ProcessResult minted =
        Tokenctl({"mint", "--key", daemon_.keys_dir() + "/" + key, "--sub", "dave", "--aud", "api",
                  "--iss", "me", "--claim", "role=ops"});
    ASSERT_EQ(minted.exit_code, 0) << minted.err;
    const std::string token = minted.out.substr(0, minted.out.size() - 1);

    ProcessResult v = Tokenctl({"validate", "--socket", socket, "--audience", "api", token});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_EQ(v.out.rfind("OK\nsub: dave\nexp: ", 0), 0u) << v.out;

    v = Tokenctl({"validate", "--socket", socket, "--json", "-"}, "Bearer " + token + "\n");
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_NE(v.out.find("\"alg\":\"" + alg + "\""), std::string::npos) << v.out;

    v = Tokenctl({"validate", "--socket", socket, "--claims", token});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_NE(v.out.find("\"role\":\"ops\""), std::string::npos) << v.out;

    v = Tokenctl({"validate", "--socket", socket, "--audience", "elsewhere", token});
    EXPECT_EQ(v.exit_code, 1);
    EXPECT_EQ(v.out.rfind("AUDIENCE_MISMATCH\n", 0), 0u) << v.out;

    const ProcessResult expired = Tokenctl(
        {"mint", "--key", daemon_.keys_dir() + "/" + key, "--iss", "me", "--ttl", "-3600"});
    ASSERT_EQ(expired.exit_code, 0);
    v = Tokenctl({"validate", "--socket", socket, expired.out});
    EXPECT_EQ(v.exit_code, 1);
    EXPECT_EQ(v.out.rfind("EXPIRED\n", 0), 0u) << v.out;
  }
  EXPECT_EQ(Tokenctl({"validate", "--socket", socket, "garbage"}).exit_code, 1);
  EXPECT_EQ(Tokenctl({"ping", "--socket", socket}).exit_code, 0);

  daemon_.Signal(SIGTERM);
  ASSERT_TRUE(daemon_.WaitExit().has_value());
  EXPECT_EQ(Tokenctl({"ping", "--socket", socket}).exit_code, 2);
  EXPECT_EQ(Tokenctl({"validate", "--socket", socket, "x.y.z"}).exit_code, 2);
}

}  // namespace
}  // namespace tokend::testing

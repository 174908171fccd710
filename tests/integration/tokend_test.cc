// SPDX-License-Identifier: Apache-2.0
// The real tokend binary on a temporary socket, spoken to with the wire
// protocol (docs/protocol.md). The protocol and lifecycle suite runs once
// per event loop; the startup checks run once.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "daemon/auth/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/integration/harness.h"
#include "tests/require_io_uring.h"
#include "tools/minter/minter.h"
#include "tools/minter/signer.h"

namespace tokend::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Starts the fixture's daemon; ends the test when it was skipped or failed.
#define START_DAEMON(...)                         \
  do {                                            \
    StartDaemon(__VA_ARGS__);                     \
    if (IsSkipped() || HasFatalFailure()) return; \
  } while (0)

TokendProcess::SpawnOptions WithoutIoUring() {
  TokendProcess::SpawnOptions o;
  o.deny_io_uring = true;
  return o;
}

TokendProcess::SpawnOptions Wrapped(std::vector<std::string> prefix) {
  TokendProcess::SpawnOptions o;
  o.prefix = std::move(prefix);
  return o;
}

constexpr uint8_t S(auth::Status s) { return static_cast<uint8_t>(s); }

std::string Claims(const std::string& extra, int64_t exp_offset = 600) {
  std::string json = "{\"sub\":\"alice\",\"aud\":\"api\",\"iss\":\"issuer\",\"exp\":" +
                     std::to_string(Now() + exp_offset);
  if (!extra.empty()) json += "," + extra;
  return json + "}";
}

// One daemon per test, on the loop the test is instantiated with.
class TokendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    key_ = RandomKey();
    daemon_.WriteKey("k1", key_);
    daemon_.WriteFile(daemon_.path("revoked.txt"), "# revoked\nrevoked-jti\n");
  }

  // Starts the daemon with the suite's policy plus `args`; skips the test
  // when io_uring was asked for and the kernel refuses it.
  void StartDaemon(std::vector<std::string> args = {}) {
    std::vector<std::string> all = {
        "--event-loop",      GetParam(), "--audience", "api",
        "--issuer",          "issuer",   "--revoked",  daemon_.path("revoked.txt"),
        "--max-token-bytes", "1024"};
    all.insert(all.end(), args.begin(), args.end());
    ASSERT_TRUE(daemon_.Start(all));
    if (!daemon_.WaitReady()) {
      std::string log = daemon_.Log();
      if (GetParam() == "io_uring" && log.find("unavailable") != std::string::npos) {
        TOKEND_SKIP_IO_URING("io_uring refused by this kernel: " << log);
      }
      FAIL() << "tokend did not become ready; log:\n" << log;
    }
  }

  Client Connect() {
    Client c;
    EXPECT_TRUE(c.Connect(daemon_.socket_path())) << std::strerror(errno);
    return c;
  }

  std::string Token(const std::string& extra = "", int64_t exp_offset = 600) {
    return Mint(key_, "k1", Claims(extra, exp_offset));
  }

  // Stops the daemon with SIGTERM and expects a clean exit.
  void StopCleanly() {
    daemon_.Signal(SIGTERM);
    std::optional<int> code = daemon_.WaitExit();
    ASSERT_TRUE(code.has_value()) << "tokend did not exit after SIGTERM";
    EXPECT_EQ(*code, 0) << daemon_.Log();
  }

  std::string key_;
  TokendProcess daemon_;
};

TEST_P(TokendTest, AnswersEveryStatusCode) {
  START_DAEMON();
  Client c = Connect();
  const int64_t now = Now();

  Response ok = c.Validate(Token());
  EXPECT_EQ(ok.status, S(auth::Status::kOk));
  EXPECT_EQ(ok.alg, 1);
  EXPECT_EQ(ok.subject, "alice");
  EXPECT_GE(ok.exp, now + 590);
  EXPECT_EQ(ok.claims, "");  // not asked for

  const std::string payload = Claims("\"jti\":\"j1\"");
  Response with_claims = c.Validate(Mint(key_, "k1", payload), "", protocol::kFlagWantClaims);
  EXPECT_EQ(with_claims.status, S(auth::Status::kOk));
  EXPECT_EQ(with_claims.claims, payload);

  std::string bad_sig = Token();
  bad_sig[bad_sig.size() - 10] = bad_sig[bad_sig.size() - 10] == 'A' ? 'B' : 'A';

  struct Case {
    const char* name;
    std::string token;
    std::string audience;
    auth::Status want;
  };
  const std::vector<Case> cases = {
      {"malformed", "not-a-token", "", auth::Status::kMalformed},
      {"bad signature", bad_sig, "", auth::Status::kBadSignature},
      {"unknown key", Mint(key_, "k9", Claims("")), "", auth::Status::kUnknownKey},
      {"alg none", Mint(key_, "k1", Claims(""), "none"), "", auth::Status::kAlgNotAllowed},
      {"expired", Token("", -3600), "", auth::Status::kExpired},
      {"not yet valid", Token("\"nbf\":" + std::to_string(now + 3600)), "",
       auth::Status::kNotYetValid},
      {"audience", Token(), "other-api", auth::Status::kAudienceMismatch},
      {"issuer",
       Mint(key_, "k1",
            "{\"iss\":\"evil\",\"aud\":\"api\",\"exp\":" + std::to_string(now + 600) + "}"),
       "", auth::Status::kIssuerMismatch},
      {"revoked", Token("\"jti\":\"revoked-jti\""), "", auth::Status::kRevoked},
      {"too large", Token("\"pad\":\"" + std::string(1200, 'x') + "\""), "",
       auth::Status::kTooLarge},
      {"missing exp", Mint(key_, "k1", "{\"sub\":\"alice\",\"aud\":\"api\",\"iss\":\"issuer\"}"),
       "", auth::Status::kMissingClaim},
      {"crit header",
       auth::MintToken(auth::Alg::kHS256, "{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}",
                       Claims(""), key_),
       "", auth::Status::kUnsupportedHeader},
  };
  for (const Case& k : cases) {
    Response r = c.Validate(k.token, k.audience, protocol::kFlagWantClaims);
    EXPECT_EQ(r.status, S(k.want)) << k.name;
    EXPECT_EQ(r.subject, "") << k.name;  // only OK carries sub and claims
    EXPECT_EQ(r.claims, "") << k.name;
  }
  // The per-request audience replaces the configured one.
  EXPECT_EQ(c.Validate(Token(), "api").status, S(auth::Status::kOk));
  StopCleanly();
}

// Public keys in the keys directory beside the HMAC key: each asymmetric
// token is answered with its PROTOCOL.md alg code.
TEST_P(TokendTest, AnswersAsymmetricTokensWithTheirAlgCodes) {
  auto rsa = auth::GenerateKey("RSA", 2048);
  auto ec = auth::GenerateKey("P-256");
  auto ed = auth::GenerateKey("Ed25519");
  ASSERT_TRUE(rsa.ok() && ec.ok() && ed.ok());
  daemon_.WriteKey("idp.jwks", "{\"keys\":[" + *auth::PublicJwk(rsa->get(), "rsa", {}) + "," +
                                   *auth::PublicJwk(ec->get(), "ec", {}) + "]}");
  daemon_.WriteKey("ed.pem", *auth::PublicKeyPem(ed->get()));
  daemon_.WriteKey("ed.iss", "other-issuer\n");
  START_DAEMON();
  Client c = Connect();
  struct Case {
    auth::Alg alg;
    std::string kid;
    EVP_PKEY* key;
  } cases[] = {
      {auth::Alg::kRS256, "rsa", rsa->get()},
      {auth::Alg::kRS512, "rsa", rsa->get()},
      {auth::Alg::kPS256, "rsa", rsa->get()},
      {auth::Alg::kES256, "ec", ec->get()},
  };
  for (const Case& tc : cases) {
    const std::string header =
        "{\"alg\":\"" + std::string(auth::AlgName(tc.alg)) + "\",\"kid\":\"" + tc.kid + "\"}";
    const std::string payload = Claims("");
    Response r =
        c.Validate(*auth::SignJws(tc.alg, header, payload, tc.key), "", protocol::kFlagWantClaims);
    EXPECT_EQ(r.status, S(auth::Status::kOk)) << auth::AlgName(tc.alg);
    EXPECT_EQ(r.alg, static_cast<uint8_t>(tc.alg));
    EXPECT_EQ(r.subject, "alice");
    EXPECT_EQ(r.claims, payload);
  }
  // The Ed25519 key is bound to another issuer than the token's.
  Response bound = c.Validate(
      *auth::SignJws(auth::Alg::kEdDSA, R"({"alg":"EdDSA","kid":"ed"})", Claims(""), ed->get()));
  EXPECT_EQ(bound.status, S(auth::Status::kIssuerMismatch));
  EXPECT_EQ(bound.alg, 13);
  // HS256 naming the RSA key: never verified with the public key.
  Response confused =
      c.Validate(auth::MintToken(auth::Alg::kHS256, R"({"alg":"HS256","kid":"rsa"})", Claims(""),
                                 std::string_view(*auth::PublicKeyPem(rsa->get()))));
  EXPECT_EQ(confused.status, S(auth::Status::kAlgNotAllowed));
}

// --algorithms ES256,HS384: an RS256 token naming a loaded RSA key, and an
// HS256 token under the HMAC key, are ALG_NOT_ALLOWED; ES256 passes, twice
// (the second answer from the cache).
TEST_P(TokendTest, AlgorithmsFlagRefusesEveryOtherAlgorithm) {
  auto rsa = auth::GenerateKey("RSA", 2048);
  auto ec = auth::GenerateKey("P-256");
  ASSERT_TRUE(rsa.ok() && ec.ok());
  daemon_.WriteKey("idp.jwks", "{\"keys\":[" + *auth::PublicJwk(rsa->get(), "rsa", {}) + "," +
                                   *auth::PublicJwk(ec->get(), "ec", {}) + "]}");
  START_DAEMON({"--algorithms", "ES256,HS384"});
  Client c = Connect();
  const std::string rs256 =
      *auth::SignJws(auth::Alg::kRS256, R"({"alg":"RS256","kid":"rsa"})", Claims(""), rsa->get());
  const std::string es256 =
      *auth::SignJws(auth::Alg::kES256, R"({"alg":"ES256","kid":"ec"})", Claims(""), ec->get());
  for (int round = 0; round < 2; ++round) {
    Response refused = c.Validate(rs256);
    EXPECT_EQ(refused.status, S(auth::Status::kAlgNotAllowed));
    EXPECT_EQ(refused.alg, static_cast<uint8_t>(auth::Alg::kRS256));
    EXPECT_EQ(c.Validate(Token()).status, S(auth::Status::kAlgNotAllowed));
    Response ok = c.Validate(es256);
    EXPECT_EQ(ok.status, S(auth::Status::kOk));
    EXPECT_EQ(ok.subject, "alice");
  }
}

TEST_P(TokendTest, AnswersAThousandPipelinedRequestsSentInOneWrite) {
  START_DAEMON();
  Client c = Connect();
  const std::string good = Token();
  const std::string expired = Token("", -3600);
  std::string batch;
  for (uint32_t i = 0; i < 1000; ++i) {
    if (i % 10 == 9) {
      protocol::AppendPingRequest(&batch, i);
    } else {
      protocol::AppendValidateRequest(&batch, i, 0, i % 2 ? good : expired, "");
    }
  }
  ASSERT_TRUE(c.SendAll(batch));
  std::vector<Response> got = c.Read(1000);
  ASSERT_EQ(got.size(), 1000u);
  std::vector<bool> seen(1000);
  for (const Response& r : got) {
    uint32_t id = r.header.request_id;
    ASSERT_LT(id, 1000u);
    EXPECT_FALSE(seen[id]) << id;
    seen[id] = true;
    if (id % 10 == 9) {
      EXPECT_EQ(r.header.opcode, protocol::kOpPing) << id;
    } else {
      EXPECT_EQ(r.status, S(id % 2 ? auth::Status::kOk : auth::Status::kExpired)) << id;
    }
  }
}

TEST_P(TokendTest, AnswersARequestSentOneByteAtATime) {
  START_DAEMON();
  Client c = Connect();
  std::string req;
  protocol::AppendValidateRequest(&req, 77, 0, Token(), "api");
  protocol::AppendPingRequest(&req, 78);
  for (char b : req) ASSERT_TRUE(c.SendAll(std::string_view(&b, 1)));
  std::vector<Response> got = c.Read(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header.request_id, 77u);
  EXPECT_EQ(got[0].status, S(auth::Status::kOk));
  EXPECT_EQ(got[1].header.request_id, 78u);
}

// A header: body_len, version, opcode, flags, id.
std::string Header(uint32_t body_len, uint8_t version, uint8_t opcode, uint32_t id) {
  protocol::FrameHeader h;
  h.body_len = body_len;
  h.version = version;
  h.opcode = opcode;
  h.request_id = id;
  std::string out;
  protocol::AppendHeader(&out, h);
  return out;
}

TEST_P(TokendTest, EachProtocolErrorIsAnsweredWith255AndCloses) {
  START_DAEMON();
  std::string inconsistent = Header(10, 1, protocol::kOpValidate, 4);
  inconsistent += std::string("\x03\x00\x00\x00", 4) + "abcdef";  // token_len 3 + 4 != 10

  struct Case {
    const char* name;
    std::string frame;
    uint32_t id;
    uint8_t opcode;
  };
  const std::vector<Case> cases = {
      {"bad version", Header(0, 2, protocol::kOpPing, 1), 1, protocol::kOpPing},
      {"unknown opcode", Header(0, 1, 9, 2), 2, 9},
      {"body too large", Header(protocol::kMaxBodySize + 1, 1, protocol::kOpValidate, 3), 3,
       protocol::kOpValidate},
      {"inconsistent lengths", inconsistent, 4, protocol::kOpValidate},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    Client c = Connect();
    Client bystander = Connect();
    std::string bytes;
    protocol::AppendPingRequest(&bytes, 100);  // answered: it came first
    bytes += k.frame;
    protocol::AppendPingRequest(&bytes, 101);  // never answered: it came after
    ASSERT_TRUE(c.SendAll(bytes));
    std::vector<Response> got = c.Read(3, milliseconds(2000));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].header.request_id, 100u);
    EXPECT_TRUE(got[1].protocol_error);
    EXPECT_EQ(got[1].header.request_id, k.id);
    EXPECT_EQ(got[1].header.opcode, k.opcode);
    EXPECT_EQ(got[1].header.body_len, 1u);
    EXPECT_TRUE(c.WaitClosed());
    EXPECT_TRUE(bystander.Ping());  // no other connection is affected
  }
}

TEST_P(TokendTest, AClientDyingMidFrameDoesNotDisturbOthers) {
  START_DAEMON();
  Client steady = Connect();
  std::string full;
  protocol::AppendValidateRequest(&full, 5, 0, Token(), "");
  for (int i = 0; i < 20; ++i) {
    Client dying = Connect();
    // Half a header, or a header and part of the body.
    size_t cut = i % 2 ? 6 : full.size() / 2;
    ASSERT_TRUE(dying.SendAll(std::string_view(full).substr(0, cut)));
    if (i % 3 == 0) ::shutdown(dying.fd(), SHUT_WR);
    dying.Close();
    EXPECT_EQ(steady.Validate(Token()).status, S(auth::Status::kOk)) << i;
  }
  Client fresh = Connect();
  EXPECT_TRUE(fresh.Ping());
}

TEST_P(TokendTest, ServesAThousandConcurrentConnections) {
  START_DAEMON();
  const std::string token = Token();
  std::vector<Client> clients;
  clients.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    clients.push_back(Connect());
    ASSERT_GE(clients.back().fd(), 0) << i;
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    std::string req;
    protocol::AppendValidateRequest(&req, static_cast<uint32_t>(i), 0, token, "");
    ASSERT_TRUE(clients[i].SendAll(req)) << i;
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    std::vector<Response> got = clients[i].Read(1);
    ASSERT_EQ(got.size(), 1u) << i;
    EXPECT_EQ(got[0].header.request_id, i);
    EXPECT_EQ(got[0].status, S(auth::Status::kOk)) << i;
  }
}

TEST_P(TokendTest, KeysSwappedUnderLoadNeverFailARequest) {
  START_DAEMON();
  const std::string old_token = Token();
  const std::string new_key = RandomKey();
  const std::string new_token = Mint(new_key, "k2", Claims(""));

  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::atomic<int> wrong{0};
  std::atomic<int> new_ok{0};
  std::thread load([&] {
    Client c;
    if (!c.Connect(daemon_.socket_path())) {
      wrong = -1;
      return;
    }
    bool new_key_seen = false;
    while (!stop.load()) {
      // Pipelined pairs: the old key's token must always pass; the new
      // key's goes from UNKNOWN_KEY to OK once, never back.
      std::string req;
      protocol::AppendValidateRequest(&req, 1, 0, old_token, "");
      protocol::AppendValidateRequest(&req, 2, 0, new_token, "");
      if (!c.SendAll(req)) {
        ++wrong;
        return;
      }
      std::vector<Response> got = c.Read(2);
      if (got.size() != 2 || got[0].status != S(auth::Status::kOk)) {
        ++wrong;
        return;
      }
      uint8_t s = got[1].status;
      if (s == S(auth::Status::kOk)) {
        new_key_seen = true;
        ++new_ok;
      } else if (s != S(auth::Status::kUnknownKey) || new_key_seen) {
        ++wrong;
        return;
      }
      ++requests;
    }
  });
  // Let the load run, then rename the new key file into the directory.
  while (requests.load() < 200 && wrong.load() == 0) std::this_thread::yield();
  daemon_.WriteKey("k2", new_key);
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (new_ok.load() < 200 && wrong.load() == 0 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  stop = true;
  load.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(new_ok.load(), 200) << "the new key's tokens never started verifying";
  Client c = Connect();
  EXPECT_EQ(c.Validate(new_token).status, S(auth::Status::kOk));
  EXPECT_EQ(c.Validate(old_token).status, S(auth::Status::kOk));
}

TEST_P(TokendTest, SighupReloadsAndNotifiesReloadingThenReady) {
  START_DAEMON({"--poll-interval", "0"});
  const std::string ready = daemon_.notifications().back();
  EXPECT_THAT(ready, MatchesRegex("READY=1\nSTATUS=serving on .* with " + GetParam() + ".*"));

  const std::string k3 = RandomKey(48);
  daemon_.WriteKey("k3", k3);
  daemon_.Signal(SIGHUP);
  std::string reloading = daemon_.WaitNotify("RELOADING=1");
  EXPECT_THAT(reloading, MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=.*"));
  std::string ready_again = daemon_.WaitNotify("READY=1");
  EXPECT_THAT(ready_again, HasSubstr("2 keys"));
  // The reload finished before READY=1: the new key verifies at once.
  Client c = Connect();
  EXPECT_EQ(c.Validate(Mint(k3, "k3", Claims(""), "HS384")).status, S(auth::Status::kOk));
  EXPECT_THAT(daemon_.Log(), HasSubstr("SIGHUP"));
  StopCleanly();
  EXPECT_FALSE(daemon_.WaitNotify("STOPPING=1").empty());
}

TEST_P(TokendTest, SigtermAnswersRequestsInFlightThenExitsZero) {
  START_DAEMON();
  const std::string token = Token();
  std::vector<Client> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(Connect());
  for (Client& c : clients) {
    std::string batch;
    for (uint32_t id = 0; id < 200; ++id) protocol::AppendValidateRequest(&batch, id, 0, token, "");
    ASSERT_TRUE(c.SendAll(batch));
  }
  // Every batch has reached the daemon once its first answer is back.
  std::vector<std::vector<Response>> got(clients.size());
  for (size_t i = 0; i < clients.size(); ++i) {
    got[i] = clients[i].Read(1);
    ASSERT_EQ(got[i].size(), 1u);
  }
  daemon_.Signal(SIGTERM);
  for (size_t i = 0; i < clients.size(); ++i) {
    std::vector<Response> rest = clients[i].Read(199);
    got[i].insert(got[i].end(), rest.begin(), rest.end());
    ASSERT_EQ(got[i].size(), 200u) << "connection " << i;
    for (const Response& r : got[i]) EXPECT_EQ(r.status, S(auth::Status::kOk));
    EXPECT_TRUE(clients[i].WaitClosed());
  }
  std::optional<int> code = daemon_.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon_.Log();
  EXPECT_THAT(daemon_.WaitNotify("STOPPING=1"), StartsWith("STOPPING=1"));
  struct stat st;
  EXPECT_NE(::lstat(daemon_.socket_path().c_str(), &st), 0) << "the socket file was left behind";
}

TEST_P(TokendTest, RunsUnderSocketActivationAndLeavesTheSocketFile) {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
    GTEST_SKIP() << "systemd-socket-activate is not installed (package systemd)";
  }
  const std::string sock = daemon_.path("activated.sock");
  ASSERT_TRUE(daemon_.Spawn({"--socket", daemon_.path("unused.sock"), "--keys", daemon_.keys_dir(),
                             "--threads", "1", "--event-loop", GetParam()},
                            Wrapped({"/usr/bin/systemd-socket-activate", "-l", sock, "-E",
                                     "NOTIFY_SOCKET=" + daemon_.path("notify.sock")})));
  // systemd-socket-activate starts the program on the first connection,
  // which waits in the socket's backlog until tokend accepts it.
  Client c;
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (!c.Connect(sock) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GE(c.fd(), 0) << "no socket at " << sock;
  if (!daemon_.WaitReady()) {
    std::string log = daemon_.Log();
    if (GetParam() == "io_uring" && log.find("unavailable") != std::string::npos) {
      TOKEND_SKIP_IO_URING("io_uring refused by this kernel");
    }
    FAIL() << "tokend did not become ready; log:\n" << log;
  }
  EXPECT_THAT(daemon_.Log(), HasSubstr("socket activation"));
  EXPECT_EQ(c.Validate(Token()).status, S(auth::Status::kOk));
  struct stat st;
  EXPECT_NE(::lstat(daemon_.path("unused.sock").c_str(), &st), 0);
  c.Close();
  StopCleanly();
  // A socket inherited from the service manager is its to remove, not ours.
  EXPECT_EQ(::lstat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_P(TokendTest, ASecondDaemonOnALiveSocketExitsNonZeroAndLeavesTheFirstAlone) {
  START_DAEMON();
  struct stat before;
  ASSERT_EQ(::lstat(daemon_.socket_path().c_str(), &before), 0);
  TokendProcess second;
  ASSERT_TRUE(second.Spawn({"--socket", daemon_.socket_path(), "--keys", daemon_.keys_dir(),
                            "--event-loop", GetParam()}));
  std::optional<int> code = second.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(second.Log(), HasSubstr("already listening on " + daemon_.socket_path()));
  struct stat after;
  ASSERT_EQ(::lstat(daemon_.socket_path().c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  Client c = Connect();
  EXPECT_EQ(c.Validate(Token()).status, S(auth::Status::kOk));
}

INSTANTIATE_TEST_SUITE_P(Loops, TokendTest, ::testing::Values("io_uring", "epoll"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           return p.param == "io_uring" ? std::string("IoUring")
                                                        : std::string("Epoll");
                         });

// ------------------------------------------------------------- startup

TEST(TokendStartupTest, ABadKeyRefusesToStartAndNamesTheFile) {
  TokendProcess d;
  d.WriteKey("good", RandomKey());
  d.WriteKey("short", "only-ten-b");
  ASSERT_TRUE(d.Start({}));
  std::optional<int> code = d.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(d.Log(), HasSubstr(d.keys_dir() + "/short"));
  EXPECT_THAT(d.notifications(), ::testing::IsEmpty());
  struct stat st;
  EXPECT_NE(::lstat(d.socket_path().c_str(), &st), 0);
}

// A FIFO as --revoked once hung the start on open(2): now a clear refusal.
TEST(TokendStartupTest, ARevocationListThatIsAFifoRefusesToStartWithoutHanging) {
  TokendProcess d;
  d.WriteKey("k1", RandomKey());
  const std::string fifo = d.path("revoked");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_TRUE(d.Start({"--revoked", fifo}));
  std::optional<int> code = d.WaitExit();
  ASSERT_TRUE(code.has_value()) << "tokend hung on the FIFO; log:\n" << d.Log();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(d.Log(), HasSubstr("revocation list " + fifo + ": not a regular file (a FIFO)"));
}

TEST(TokendStartupTest, AMissingKeysDirectoryStartsWithAWarningAndPicksUpKeysLater) {
  TokendProcess d;
  const std::string keys = d.path("later-keys");
  ASSERT_TRUE(d.Spawn({"--socket", d.socket_path(), "--keys", keys, "--threads", "1"}));
  ASSERT_TRUE(d.WaitReady()) << d.Log();
  EXPECT_THAT(d.Log(), HasSubstr("<4>tokend: keys path " + keys + " does not exist"));
  Client c;
  ASSERT_TRUE(c.Connect(d.socket_path()));
  const std::string key = RandomKey();
  const std::string token = Mint(key, "late", Claims(""));
  EXPECT_EQ(c.Validate(token).status, S(auth::Status::kUnknownKey));

  // The directory appears, with a key in it.
  std::filesystem::create_directory(d.path("staging"));
  d.WriteFile(d.path("staging/late"), key);
  std::filesystem::rename(d.path("staging"), keys);
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  uint8_t status = 0xff;
  while (std::chrono::steady_clock::now() < end) {
    status = c.Validate(token).status;
    if (status == S(auth::Status::kOk)) break;
    ASSERT_EQ(status, S(auth::Status::kUnknownKey));
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(status, S(auth::Status::kOk));
}

TEST(TokendStartupTest, AnEmptyKeysDirectoryStartsWithAWarning) {
  TokendProcess d;
  ASSERT_TRUE(d.Start({}));
  ASSERT_TRUE(d.WaitReady()) << d.Log();
  EXPECT_THAT(d.Log(), HasSubstr("<4>tokend: "));
  Client c;
  ASSERT_TRUE(c.Connect(d.socket_path()));
  EXPECT_EQ(c.Validate(Mint(RandomKey(), "k", Claims(""))).status, S(auth::Status::kUnknownKey));
}

TEST(TokendStartupTest, AutoFallsBackToEpollWhenIoUringIsRefusedAndSaysWhy) {
  TokendProcess d;
  d.WriteKey("k1", RandomKey());
  ASSERT_TRUE(d.Spawn({"--socket", d.socket_path(), "--keys", d.keys_dir(), "--threads", "1"},
                      WithoutIoUring()));
  ASSERT_TRUE(d.WaitReady()) << d.Log();
  EXPECT_THAT(d.notifications().back(), HasSubstr("with epoll"));
  EXPECT_THAT(d.Log(), HasSubstr("event loop: epoll, because io_uring is unavailable"));
  Client c;
  ASSERT_TRUE(c.Connect(d.socket_path()));
  EXPECT_TRUE(c.Ping());
}

TEST(TokendStartupTest, ExplicitIoUringRefusedByTheKernelExitsNonZero) {
  TokendProcess d;
  d.WriteKey("k1", RandomKey());
  ASSERT_TRUE(
      d.Spawn({"--socket", d.socket_path(), "--keys", d.keys_dir(), "--event-loop", "io_uring"},
              WithoutIoUring()));
  std::optional<int> code = d.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(d.Log(), HasSubstr("io_uring event loop: "));
  EXPECT_THAT(d.notifications(), ::testing::IsEmpty());
  struct stat st;
  EXPECT_NE(::lstat(d.socket_path().c_str(), &st), 0) << "the socket file was left behind";
}

TEST(TokendStartupTest, SocketActivationWithThreeSocketsMatchesThemByPath) {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
    GTEST_SKIP() << "systemd-socket-activate is not installed (package systemd)";
  }
  TokendProcess d;
  const std::string key = RandomKey();
  d.WriteKey("k1", key);
  const std::string proto = d.path("proto.sock");
  const std::string http = d.path("http.sock");
  const std::string admin = d.path("admin.sock");
  // The HTTP and admin sockets are passed first: the order must not matter.
  ASSERT_TRUE(d.Spawn({"--socket", proto, "--http-socket", http, "--admin-socket", admin, "--keys",
                       d.keys_dir(), "--threads", "1"},
                      Wrapped({"/usr/bin/systemd-socket-activate", "-l", http, "-l", admin, "-l",
                               proto, "-E", "NOTIFY_SOCKET=" + d.path("notify.sock")})));
  Client c;
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (!c.Connect(proto) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GE(c.fd(), 0);
  ASSERT_TRUE(d.WaitReady()) << d.Log();
  EXPECT_EQ(c.Validate(Mint(key, "k1", Claims(""))).status, S(auth::Status::kOk));

  auto get_healthz = [](const std::string& socket) {
    Client h;
    EXPECT_TRUE(h.Connect(socket));
    EXPECT_TRUE(h.SendAll("GET /healthz HTTP/1.1\r\nHost: tokend\r\nConnection: close\r\n\r\n"));
    timeval timeout{5, 0};  // a reply that never ends fails instead of hanging
    ::setsockopt(h.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = ::recv(h.fd(), buf, sizeof(buf), 0)) > 0;) reply.append(buf, n);
    return reply;
  };
  EXPECT_THAT(get_healthz(admin), StartsWith("HTTP/1.1 200"));
  // The auth socket answers it with an auth decision.
  EXPECT_THAT(get_healthz(http), StartsWith("HTTP/1.1 401"));
  c.Close();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), std::optional<int>(0)) << d.Log();
  struct stat st;
  EXPECT_EQ(::lstat(proto.c_str(), &st), 0);  // no inherited socket is unlinked
  EXPECT_EQ(::lstat(http.c_str(), &st), 0);
  EXPECT_EQ(::lstat(admin.c_str(), &st), 0);
}

TEST(TokendStartupTest, ABadCommandLineExitsNonZeroNamingTheFlag) {
  TokendProcess d;
  ASSERT_TRUE(d.Spawn({"--keys", d.keys_dir(), "--leeway", "soon"}));
  std::optional<int> code = d.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(d.Log(), HasSubstr("invalid value \"soon\" for --leeway"));

  TokendProcess unknown;
  ASSERT_TRUE(unknown.Spawn({"--keys", d.keys_dir(), "--frobnicate"}));
  code = unknown.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(unknown.Log(), HasSubstr("unknown option --frobnicate"));

  TokendProcess alg;
  ASSERT_TRUE(alg.Spawn({"--keys", d.keys_dir(), "--algorithms", "RS256,RS257"}));
  code = alg.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(alg.Log(), HasSubstr("invalid value \"RS256,RS257\" for --algorithms"));
  EXPECT_THAT(alg.Log(), HasSubstr("(\"RS257\" is not one)"));
}

TEST(TokendStartupTest, HelpAndVersionExitZero) {
  TokendProcess d;
  ASSERT_TRUE(d.Spawn({"--help"}));
  EXPECT_EQ(d.WaitExit(), std::optional<int>(0));
  EXPECT_THAT(d.Log(), HasSubstr("--keys PATH"));
  TokendProcess v;
  ASSERT_TRUE(v.Spawn({"--version"}));
  EXPECT_EQ(v.WaitExit(), std::optional<int>(0));
  EXPECT_THAT(v.Log(), StartsWith("tokend "));
}

TEST(TokendStartupTest, ReplacesAStaleSocketFile) {
  TokendProcess d;
  d.WriteKey("k1", RandomKey());
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, d.socket_path().c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);  // the file stays, nothing listens
  }
  ASSERT_TRUE(d.Start({"--socket-mode", "0600"}));
  ASSERT_TRUE(d.WaitReady()) << d.Log();
  EXPECT_THAT(d.Log(), HasSubstr("replaced stale socket file"));
  struct stat st;
  ASSERT_EQ(::lstat(d.socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Client c;
  ASSERT_TRUE(c.Connect(d.socket_path()));
  EXPECT_TRUE(c.Ping());
}

}  // namespace
}  // namespace tokend::integration

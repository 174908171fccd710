// SPDX-License-Identifier: Apache-2.0
// The C ABI of libtokend-client (linked as the shared library, so only its
// exported symbols are reachable) against a fake tokend that speaks the
// real codec: answers, statuses, batches, reconnects, timeouts, signals and
// every way the daemon can misbehave.

#include "tokend/client.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/client/client_c_api.h"
#include "tests/client/client_test_util.h"
#include "tests/client/fake_server.h"

namespace tokend::testing {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.File("tokend.sock");
    server_ = std::make_unique<FakeServer>(path_);
    ASSERT_TRUE(server_->Start()) << server_->error();
  }

  // A connected handle, closed at the end of the test.
  tokend_client* Connect(int timeout_ms = 5000) {
    tokend_client* c = nullptr;
    const int rc = tokend_connect(path_.c_str(), timeout_ms, &c);
    EXPECT_EQ(rc, TOKEND_OK) << tokend_strerror(rc);
    handles_.emplace_back(c, &tokend_close);
    return c;
  }

  int Validate(tokend_client* c, const std::string& token, tokend_result* r,
               const std::string& audience = "", int flags = 0) {
    return tokend_validate(c, token.data(), token.size(), audience.data(), audience.size(), flags,
                           r);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<FakeServer> server_;
  std::vector<std::unique_ptr<tokend_client, void (*)(tokend_client*)>> handles_;
};

// A Unix socket that listens (backlog `backlog`) and never accepts.
class SilentListener {
 public:
  SilentListener(const std::string& path, int backlog) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          listen(fd_, backlog) == 0;
  }
  ~SilentListener() { close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST_F(ClientTest, ValidTokenReturnsStatusSubjectAlgorithmAndExpiry) {
  tokend_client* c = Connect();
  tokend_result r;
  ASSERT_EQ(Validate(c, "alice", &r), TOKEND_OK) << tokend_last_error(c);
  EXPECT_EQ(r.status, TOKEND_STATUS_OK);
  EXPECT_STREQ(r.status_name, "OK");
  EXPECT_EQ(r.alg, TOKEND_ALG_HS256);
  EXPECT_STREQ(r.alg_name, "HS256");
  EXPECT_EQ(r.exp, kFakeExp);
  EXPECT_STREQ(r.sub, "alice");
  EXPECT_EQ(r.sub_len, 5u);
  EXPECT_STREQ(r.claims, "");  // not asked for
  EXPECT_EQ(r.claims_len, 0u);
  EXPECT_STREQ(tokend_last_error(c), "");
  tokend_result_clear(&r);
  EXPECT_EQ(r.internal_, nullptr);
  EXPECT_STREQ(r.sub, "");
}

TEST_F(ClientTest, ClaimsComeBackOnlyWhenAskedFor) {
  tokend_client* c = Connect();
  tokend_result r;
  ASSERT_EQ(Validate(c, "bob", &r, "api", TOKEND_WANT_CLAIMS), TOKEND_OK);
  EXPECT_STREQ(r.claims, R"({"tok":"bob","aud":"api"})");
  EXPECT_EQ(r.claims_len, std::strlen(r.claims));
  EXPECT_STREQ(r.sub, "bob");
  tokend_result_clear(&r);
}

TEST_F(ClientTest, EveryStatusIsReportedWithItsProtocolName) {
  const char* const kNames[] = {
      "OK",        "MALFORMED",     "BAD_SIGNATURE",      "UNKNOWN_KEY",     "ALG_NOT_ALLOWED",
      "EXPIRED",   "NOT_YET_VALID", "AUDIENCE_MISMATCH",  "ISSUER_MISMATCH", "REVOKED",
      "TOO_LARGE", "MISSING_CLAIM", "UNSUPPORTED_HEADER", "UNKNOWN_TOKEN"};
  tokend_client* c = Connect();
  for (int s = 0; s <= TOKEND_STATUS_UNKNOWN_TOKEN; ++s) {
    tokend_result r;
    ASSERT_EQ(Validate(c, "status:" + std::to_string(s), &r, "", TOKEND_WANT_CLAIMS), TOKEND_OK);
    EXPECT_EQ(r.status, s);
    EXPECT_STREQ(r.status_name, kNames[s]);
    EXPECT_STREQ(tokend_status_name(s), kNames[s]);
    EXPECT_EQ(r.alg, TOKEND_ALG_HS384);
    EXPECT_EQ(r.exp, 99);
    EXPECT_STREQ(r.claims, "");
    tokend_result_clear(&r);
  }
  // A code newer than this library still arrives, named UNKNOWN.
  tokend_result r;
  ASSERT_EQ(Validate(c, "status:200", &r), TOKEND_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_STREQ(r.status_name, "UNKNOWN");
  tokend_result_clear(&r);
}

TEST_F(ClientTest, BatchOfTenThousandAnswersInRequestOrder) {
  constexpr size_t kN = 10000;
  std::vector<std::string> tokens(kN);
  std::vector<tokend_request> reqs(kN);
  for (size_t i = 0; i < kN; ++i) {
    tokens[i] = i % 7 == 3 ? "status:5" : "tok-" + std::to_string(i);
    reqs[i] = {tokens[i].data(), tokens[i].size(), "aud", 3, i % 2 ? TOKEND_WANT_CLAIMS : 0};
  }
  std::vector<tokend_result> results(kN);
  tokend_client* c = Connect(120000);  // bounds the whole batch, on a loaded machine
  ASSERT_EQ(tokend_validate_batch(c, reqs.data(), results.data(), kN), TOKEND_OK)
      << tokend_last_error(c);
  for (size_t i = 0; i < kN; ++i) {
    SCOPED_TRACE(i);
    if (i % 7 == 3) {
      ASSERT_EQ(results[i].status, TOKEND_STATUS_EXPIRED);
      ASSERT_STREQ(results[i].sub, "");
    } else {
      ASSERT_EQ(results[i].status, TOKEND_STATUS_OK);
      ASSERT_EQ(std::string(results[i].sub, results[i].sub_len), tokens[i]);
      ASSERT_EQ(std::string(results[i].claims),
                i % 2 ? R"({"tok":")" + tokens[i] + R"(","aud":"aud"})" : "");
    }
    tokend_result_clear(&results[i]);
  }
  EXPECT_EQ(server_->requests(), kN);
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(ClientTest, AnswersArrivingOutOfOrderAreMatchedById) {
  server_->set_behavior(Behavior::kReverse);
  server_->set_group(10);
  constexpr size_t kN = 100;
  std::vector<std::string> tokens(kN);
  std::vector<tokend_request> reqs(kN);
  for (size_t i = 0; i < kN; ++i) {
    tokens[i] = "tok-" + std::to_string(i);
    reqs[i] = {tokens[i].data(), tokens[i].size(), nullptr, 0, 0};
  }
  std::vector<tokend_result> results(kN);
  tokend_client* c = Connect(120000);  // bounds the whole batch, on a loaded machine
  ASSERT_EQ(tokend_validate_batch(c, reqs.data(), results.data(), kN), TOKEND_OK)
      << tokend_last_error(c);
  for (size_t i = 0; i < kN; ++i) {
    EXPECT_EQ(std::string(results[i].sub, results[i].sub_len), tokens[i]);
    tokend_result_clear(&results[i]);
  }
}

TEST_F(ClientTest, EmptyBatchSendsNothing) {
  tokend_client* c = Connect();
  EXPECT_EQ(tokend_validate_batch(c, nullptr, nullptr, 0), TOKEND_OK);
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(ClientTest, DaemonRestartBetweenCallsIsHiddenByOneReconnect) {
  tokend_client* c = Connect();
  tokend_result r;
  ASSERT_EQ(Validate(c, "before", &r), TOKEND_OK);
  tokend_result_clear(&r);

  server_->Stop();
  server_ = std::make_unique<FakeServer>(path_);
  ASSERT_TRUE(server_->Start());

  ASSERT_EQ(Validate(c, "after", &r), TOKEND_OK) << tokend_last_error(c);
  EXPECT_STREQ(r.sub, "after");
  tokend_result_clear(&r);
  EXPECT_EQ(tokend_ping(c), TOKEND_OK);
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(ClientTest, ConnectionLostMidBatchResendsTheUnansweredRequests) {
  server_->CloseConnectionAfter(1, 3000);
  constexpr size_t kN = 10000;
  std::vector<std::string> tokens(kN);
  std::vector<tokend_request> reqs(kN);
  for (size_t i = 0; i < kN; ++i) {
    tokens[i] = "tok-" + std::to_string(i);
    reqs[i] = {tokens[i].data(), tokens[i].size(), nullptr, 0, 0};
  }
  std::vector<tokend_result> results(kN);
  tokend_client* c = Connect(120000);  // bounds the whole batch, on a loaded machine
  ASSERT_EQ(tokend_validate_batch(c, reqs.data(), results.data(), kN), TOKEND_OK)
      << tokend_last_error(c);
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_EQ(std::string(results[i].sub, results[i].sub_len), tokens[i]) << i;
    tokend_result_clear(&results[i]);
  }
  EXPECT_EQ(server_->connections(), 2);
  // The first 3000 were answered once; only requests after them were resent.
  EXPECT_GE(server_->requests(), kN);
}

TEST_F(ClientTest, SecondLossWithinOneCallIsReportedAndResultsAreCleared) {
  server_->set_close_every_after(1);
  const std::string a = "a", b = "b", c3 = "c";
  tokend_request reqs[3] = {
      {a.data(), 1, nullptr, 0, 0}, {b.data(), 1, nullptr, 0, 0}, {c3.data(), 1, nullptr, 0, 0}};
  tokend_result results[3];
  tokend_client* c = Connect();
  EXPECT_EQ(tokend_validate_batch(c, reqs, results, 3), TOKEND_ERR_DISCONNECTED);
  EXPECT_NE(std::string(tokend_last_error(c)).find("again"), std::string::npos)
      << tokend_last_error(c);
  for (const tokend_result& r : results) {
    EXPECT_EQ(r.internal_, nullptr);
    EXPECT_STREQ(r.sub, "");
  }
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(ClientTest, DaemonGoneForGoodIsNoDaemon) {
  tokend_client* c = Connect();
  server_->Stop();
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_NO_DAEMON);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_NE(std::string(tokend_last_error(c)).find(path_), std::string::npos);
}

TEST_F(ClientTest, ClosedPeerNeverRaisesSigpipe) {
  // With the default disposition, a SIGPIPE would kill this test.
  struct sigaction old;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);
  server_->CloseConnectionAfter(1, 0);  // close the first connection at once
  tokend_client* c = Connect();
  ASSERT_TRUE(server_->WaitFor([](FakeServer& s) { return s.closed_connections() >= 1; }));
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_OK) << tokend_last_error(c);
  tokend_result_clear(&r);
  EXPECT_EQ(server_->connections(), 2);
  sigaction(SIGPIPE, &old, nullptr);
}

// What tokend does to a peer outside its allow lists (docs/protocol.md):
// accepts, sends the refusal frame, closes. Here the close comes before the
// client sends anything, so its send fails (EPIPE) and the frame waits in
// its receive queue: the client must still read it, not reconnect.
TEST_F(ClientTest, RefusalFrameIsReportedEvenWhenTheSendMeetsTheClosedSocket) {
  const std::string path = dir_.File("refusing.sock");
  const int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(lfd, 16), 0);
  std::atomic<int> refused{0};
  std::atomic<bool> accept_second{false};
  std::thread refuser([&] {
    for (int i = 0; i < 2; ++i) {
      // The second connection is accepted only after the first call
      // returned: a client that reconnected instead of reading the frame
      // would wait in the listen queue and time out.
      while (i == 1 && !accept_second.load()) usleep(1000);
      const int fd = accept(lfd, nullptr, nullptr);
      if (fd < 0) return;
      static constexpr char kRefusal[] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, '\xff'};
      if (send(fd, kRefusal, sizeof kRefusal, MSG_NOSIGNAL) == sizeof kRefusal) ++refused;
      close(fd);
    }
  });
  tokend_client* c = nullptr;
  EXPECT_EQ(tokend_connect(path.c_str(), 2000, &c), TOKEND_OK);  // no ASSERT: join below
  std::unique_ptr<tokend_client, void (*)(tokend_client*)> guard(c, &tokend_close);
  for (int i = 0; i < 500 && refused.load() < 1; ++i) usleep(1000);
  usleep(20000);  // the close follows the send
  EXPECT_EQ(tokend_ping(c), TOKEND_ERR_REFUSED) << tokend_last_error(c);
  accept_second = true;
  // A new connection (the call after a refusal reconnects) is refused too.
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_REFUSED) << tokend_last_error(c);
  EXPECT_NE(std::string(tokend_strerror(TOKEND_ERR_REFUSED))
                .find("refused by the daemon's peer allow-list"),
            std::string::npos);
  shutdown(lfd, SHUT_RDWR);
  close(lfd);
  refuser.join();
  EXPECT_EQ(refused.load(), 2);
}

TEST_F(ClientTest, SocketThatNeverAcceptsTimesOut) {
  const std::string path = dir_.File("never.sock");
  SilentListener listener(path, 16);
  ASSERT_TRUE(listener.ok());
  tokend_client* c = nullptr;
  ASSERT_EQ(tokend_connect(path.c_str(), 100, &c), TOKEND_OK);  // queued by the kernel
  std::unique_ptr<tokend_client, void (*)(tokend_client*)> guard(c, &tokend_close);
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_TIMEOUT);
  EXPECT_NE(std::string(tokend_last_error(c)).find("timeout"), std::string::npos);
  EXPECT_EQ(tokend_ping(c), TOKEND_ERR_TIMEOUT);
}

TEST_F(ClientTest, ServerThatNeverAnswersTimesOutThenTheNextCallReconnects) {
  server_->set_behavior(Behavior::kSilent);
  tokend_client* c = Connect(100);
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_TIMEOUT);
  EXPECT_EQ(r.internal_, nullptr);
  server_->set_behavior(Behavior::kAnswer);
  ASSERT_EQ(tokend_set_timeout(c, 5000), TOKEND_OK);
  ASSERT_EQ(Validate(c, "y", &r), TOKEND_OK) << tokend_last_error(c);
  EXPECT_STREQ(r.sub, "y");  // not the answer to the abandoned request
  tokend_result_clear(&r);
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(ClientTest, FullListenQueueTimesOutConnect) {
  const std::string path = dir_.File("full.sock");
  SilentListener listener(path, 0);
  ASSERT_TRUE(listener.ok());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    fds.push_back(fd);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EAGAIN) break;
  }
  ASSERT_LT(fds.size(), 64u) << "the listen queue never filled";
  tokend_client* c = nullptr;
  EXPECT_EQ(tokend_connect(path.c_str(), 50, &c), TOKEND_ERR_TIMEOUT);
  EXPECT_EQ(c, nullptr);
  for (int fd : fds) close(fd);
}

TEST_F(ClientTest, ProtocolErrorReplyIsReportedAndTheNextCallReconnects) {
  server_->set_behavior(Behavior::kProtocolError);
  tokend_client* c = Connect();
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_PROTOCOL);
  EXPECT_NE(std::string(tokend_last_error(c)).find("protocol error"), std::string::npos);
  server_->set_behavior(Behavior::kAnswer);
  ASSERT_EQ(Validate(c, "x", &r), TOKEND_OK);
  tokend_result_clear(&r);
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(ClientTest, AnswerToAnUnknownRequestIdIsAProtocolError) {
  server_->set_behavior(Behavior::kWrongId);
  tokend_client* c = Connect();
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_PROTOCOL);
  EXPECT_EQ(tokend_ping(c), TOKEND_ERR_PROTOCOL);
}

TEST_F(ClientTest, AnswerWithABadVersionIsAProtocolError) {
  server_->set_behavior(Behavior::kBadVersion);
  tokend_client* c = Connect();
  tokend_result r;
  EXPECT_EQ(Validate(c, "x", &r), TOKEND_ERR_PROTOCOL);
}

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

TEST_F(ClientTest, SignalsDuringAWaitNeitherEndNorBreakTheCall) {
  struct sigaction sa {};
  sa.sa_handler = &CountSignal;  // no SA_RESTART: poll() returns EINTR
  struct sigaction old;
  sigaction(SIGUSR1, &sa, &old);
  server_->set_behavior(Behavior::kHold);
  tokend_client* c = Connect();
  int rc = -100;
  tokend_result r;
  std::thread caller([&] { rc = Validate(c, "patient", &r); });
  ASSERT_TRUE(server_->WaitFor([](FakeServer& s) { return s.requests() >= 1; }));
  for (int i = 0; i < 20; ++i) pthread_kill(caller.native_handle(), SIGUSR1);
  server_->Release();
  caller.join();
  sigaction(SIGUSR1, &old, nullptr);
  ASSERT_EQ(rc, TOKEND_OK) << tokend_last_error(c);
  EXPECT_STREQ(r.sub, "patient");
  tokend_result_clear(&r);
  EXPECT_GE(g_signals.load(), 1);
}

TEST_F(ClientTest, TokenTooLongToFrameIsTooLargeWithoutARoundTrip) {
  tokend_client* c = Connect();
  tokend_result r;
  ASSERT_EQ(Validate(c, std::string(TOKEND_MAX_TOKEN_BYTES + 1, 'a'), &r), TOKEND_OK);
  EXPECT_EQ(r.status, TOKEND_STATUS_TOO_LARGE);
  EXPECT_STREQ(r.status_name, "TOO_LARGE");
  EXPECT_EQ(server_->requests(), 0u);

  // The largest token that fits a frame goes to the daemon.
  const std::string largest(TOKEND_MAX_TOKEN_BYTES, 'b');
  ASSERT_EQ(Validate(c, largest, &r), TOKEND_OK) << tokend_last_error(c);
  EXPECT_EQ(r.sub_len, largest.size());
  tokend_result_clear(&r);

  // A token that fits but whose audience does not is the caller's error.
  EXPECT_EQ(Validate(c, largest, &r, "aud"), TOKEND_ERR_INVALID);
  EXPECT_EQ(server_->requests(), 1u);
}

TEST_F(ClientTest, InvalidArgumentsAreRefusedBeforeAnythingIsSent) {
  tokend_client* c = nullptr;
  EXPECT_EQ(tokend_connect(path_.c_str(), 100, nullptr), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_connect(path_.c_str(), -1, &c), TOKEND_ERR_INVALID);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(tokend_connect(std::string(200, 'x').c_str(), 100, &c), TOKEND_ERR_INVALID);
  EXPECT_EQ(c, nullptr);
  tokend_result r;
  EXPECT_EQ(tokend_validate(nullptr, "x", 1, nullptr, 0, 0, &r), TOKEND_ERR_INVALID);
  c = Connect();
  EXPECT_EQ(tokend_validate(c, "x", 1, nullptr, 0, 0, nullptr), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_validate(c, nullptr, 1, nullptr, 0, 0, &r), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_validate(c, "x", 1, nullptr, 3, 0, &r), TOKEND_ERR_INVALID);
  EXPECT_NE(std::string(tokend_last_error(c)), "");
  EXPECT_EQ(tokend_validate_batch(c, nullptr, &r, 1), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_set_timeout(c, -5), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_set_timeout(nullptr, 5), TOKEND_ERR_INVALID);
  EXPECT_EQ(tokend_ping(nullptr), TOKEND_ERR_INVALID);
  EXPECT_EQ(server_->requests(), 0u);
  tokend_close(nullptr);  // allowed
}

TEST_F(ClientTest, MissingOrDeadSocketIsNoDaemon) {
  tokend_client* c = nullptr;
  EXPECT_EQ(tokend_connect(dir_.File("absent.sock").c_str(), 100, &c), TOKEND_ERR_NO_DAEMON);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(tokend_connect(dir_.File("no/such/dir.sock").c_str(), 100, &c), TOKEND_ERR_NO_DAEMON);

  // A socket file left behind by a dead daemon.
  const std::string stale = dir_.File("stale.sock");
  { SilentListener gone(stale, 1); }
  EXPECT_EQ(tokend_connect(stale.c_str(), 100, &c), TOKEND_ERR_NO_DAEMON);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST_F(ClientTest, SocketWithoutWritePermissionIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root bypasses file permissions";
  ASSERT_EQ(chmod(path_.c_str(), 0), 0);
  tokend_client* c = nullptr;
  EXPECT_EQ(tokend_connect(path_.c_str(), 100, &c), TOKEND_ERR_PERMISSION);
  EXPECT_EQ(errno, EACCES);
}

TEST_F(ClientTest, NoPathMeansTheTokendSocketEnvironmentVariable) {
  ASSERT_EQ(setenv("TOKEND_SOCKET", path_.c_str(), 1), 0);
  tokend_client* c = nullptr;
  const int rc = tokend_connect(nullptr, 10000, &c);
  unsetenv("TOKEND_SOCKET");
  ASSERT_EQ(rc, TOKEND_OK);
  EXPECT_EQ(tokend_ping(c), TOKEND_OK);
  tokend_close(c);
  ASSERT_EQ(setenv("TOKEND_SOCKET", dir_.File("elsewhere.sock").c_str(), 1), 0);
  EXPECT_EQ(tokend_connect("", 100, &c), TOKEND_ERR_NO_DAEMON);
  unsetenv("TOKEND_SOCKET");
}

TEST_F(ClientTest, PingIsOneRoundTrip) {
  tokend_client* c = Connect();
  EXPECT_EQ(tokend_ping(c), TOKEND_OK);
  EXPECT_EQ(tokend_ping(c), TOKEND_OK);
  EXPECT_EQ(server_->requests(), 2u);
}

TEST_F(ClientTest, CProgramsUseTheHeaderAsC) {
  int status = -1;
  char name[32], sub[32];
  int64_t exp = 0;
  ASSERT_EQ(CApiValidate(path_.c_str(), "carol", nullptr, &status, name, sizeof name, sub,
                         sizeof sub, &exp),
            TOKEND_OK);
  EXPECT_EQ(status, TOKEND_STATUS_OK);
  EXPECT_STREQ(name, "OK");
  EXPECT_STREQ(sub, "carol");
  EXPECT_EQ(exp, kFakeExp);
  ASSERT_EQ(CApiValidate(path_.c_str(), "status:7", "api", &status, name, sizeof name, sub,
                         sizeof sub, &exp),
            TOKEND_OK);
  EXPECT_STREQ(name, "AUDIENCE_MISMATCH");
  EXPECT_EQ(CApiPing(path_.c_str()), TOKEND_OK);

  const char* tokens[] = {"t0", "status:2", "t2"};
  int statuses[3], matches[3];
  ASSERT_EQ(CApiBatch(path_.c_str(), tokens, 3, statuses, matches), TOKEND_OK);
  EXPECT_EQ(statuses[0], TOKEND_STATUS_OK);
  EXPECT_EQ(statuses[1], TOKEND_STATUS_BAD_SIGNATURE);
  EXPECT_EQ(statuses[2], TOKEND_STATUS_OK);
  EXPECT_TRUE(matches[0]);
  EXPECT_TRUE(matches[2]);

  EXPECT_EQ(CApiConstant(0), TOKEND_STATUS_UNSUPPORTED_HEADER);
  EXPECT_EQ(CApiConstant(1), TOKEND_ERR_NOMEM);
  EXPECT_EQ(CApiConstant(2), TOKEND_WANT_CLAIMS);
  EXPECT_EQ(CApiConstant(3), TOKEND_MAX_TOKEN_BYTES);
  EXPECT_EQ(CApiConstant(4), TOKEND_DEFAULT_TIMEOUT_MS);
  EXPECT_EQ(CApiConstant(5), static_cast<int>(sizeof(tokend_result)));
  EXPECT_EQ(CApiValidate(dir_.File("absent").c_str(), "x", nullptr, &status, name, sizeof name, sub,
                         sizeof sub, &exp),
            TOKEND_ERR_NO_DAEMON);
}

TEST(ClientNamesTest, EveryErrorCodeHasItsOwnMessage) {
  std::set<std::string> messages;
  for (int e = TOKEND_OK; e >= TOKEND_ERR_REFUSED; --e) {
    const std::string m = tokend_strerror(e);
    EXPECT_FALSE(m.empty());
    EXPECT_NE(m, "unknown error") << e;
    messages.insert(m);
  }
  EXPECT_EQ(messages.size(), static_cast<size_t>(1 - TOKEND_ERR_REFUSED));
  EXPECT_STREQ(tokend_strerror(-1000), "unknown error");
  EXPECT_NE(std::string(tokend_strerror(TOKEND_ERR_NO_DAEMON)).find("TOKEND_SOCKET"),
            std::string::npos);
  EXPECT_STREQ(tokend_status_name(-1), "UNKNOWN");
  EXPECT_STREQ(tokend_status_name(13), "UNKNOWN_TOKEN");
  EXPECT_STREQ(tokend_status_name(14), "UNKNOWN");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_HS384), "HS384");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_HS512), "HS512");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_API_KEY), "apikey");
  EXPECT_EQ(TOKEND_ALG_API_KEY, 64);
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_RS256), "RS256");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_PS384), "PS384");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_ES512), "ES512");
  EXPECT_STREQ(tokend_alg_name(TOKEND_ALG_EDDSA), "EdDSA");
  EXPECT_STREQ(tokend_alg_name(14), "unknown");
  EXPECT_STREQ(tokend_alg_name(-1), "unknown");
  EXPECT_STREQ(tokend_last_error(nullptr), "");
}

TEST(ClientNamesTest, ClearingIsSafeOnNullAndOnClearedResults) {
  tokend_result_clear(nullptr);
  tokend_result r;
  std::memset(&r, 0, sizeof r);
  tokend_result_clear(&r);
  tokend_result_clear(&r);
  EXPECT_STREQ(r.sub, "");
  EXPECT_STREQ(r.claims, "");
  EXPECT_STREQ(r.status_name, "MALFORMED");
}

}  // namespace
}  // namespace tokend::testing

// SPDX-License-Identifier: Apache-2.0
// The event loops end to end, each test run against both the io_uring and
// the epoll loop, on a socket in a temporary directory, with the fake
// validator behind the Service.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/server/event_loop.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/require_io_uring.h"
#include "tests/server/loop_test_util.h"

namespace tokend::server::testing {
namespace {

class LoopTest : public ::testing::TestWithParam<LoopKind> {
 protected:
  void Start(LoopOptions o = {}) {
    std::string skip;
    loop_ = std::make_unique<RunningLoop>(GetParam(), sock_.fd(), std::move(o), &skip);
    if (!skip.empty()) TOKEND_SKIP_IO_URING(skip);
    ASSERT_NE(loop_->loop(), nullptr);
  }
  std::unique_ptr<Client> Connect() { return std::make_unique<Client>(sock_.path()); }

  TempSocket sock_;
  std::unique_ptr<RunningLoop> loop_;
};

#define START(...)                                \
  do {                                            \
    Start(__VA_ARGS__);                           \
    if (IsSkipped() || HasFatalFailure()) return; \
  } while (0)

TEST_P(LoopTest, PingGetsTheProtocolExampleBack) {
  START();
  Client c(sock_.path());
  const std::string ping("\x00\x00\x00\x00\x01\x02\x00\x00\x07\x00\x00\x00", 12);
  ASSERT_TRUE(c.Write(ping));
  auto rs = c.Read(1);
  ASSERT_EQ(rs.size(), 1u);
  std::string got;
  protocol::AppendHeader(&got, rs[0].header);
  EXPECT_EQ(got, ping);
  EXPECT_TRUE(rs[0].body.empty());
  EXPECT_STREQ(loop_->loop()->name(), GetParam() == LoopKind::kUring ? "io_uring" : "epoll");
}

TEST_P(LoopTest, EveryFrameKindIsAnswered) {
  START();
  Client c(sock_.path());
  std::string in;
  protocol::FrameHeader ping_with_body;
  ping_with_body.body_len = 3;
  ping_with_body.opcode = protocol::kOpPing;
  ping_with_body.request_id = 1;
  protocol::AppendHeader(&in, ping_with_body);
  in += "xyz";
  in += Validate(2, "ok:alice");
  in += Validate(3, "ok:bob", "svc", protocol::kFlagWantClaims);
  in += Validate(4, "forged", "", protocol::kFlagWantClaims);
  in += Validate(5, "exp");
  in += Validate(6, "status:12");
  ASSERT_TRUE(c.Write(in));
  auto rs = c.Read(6);
  ASSERT_EQ(rs.size(), 6u);
  for (uint32_t i = 0; i < 6; ++i) {
    EXPECT_EQ(rs[i].header.request_id, i + 1);
    EXPECT_EQ(rs[i].header.version, 1);
    EXPECT_EQ(rs[i].header.flags, 0);
  }
  EXPECT_EQ(rs[0].header.opcode, protocol::kOpPing);
  EXPECT_TRUE(rs[0].body.empty());
  auto v2 = DecodeValidate(rs[1]);
  EXPECT_EQ(v2.status, 0);
  EXPECT_EQ(v2.alg, 1);
  EXPECT_EQ(v2.exp, kFakeExp);
  EXPECT_EQ(v2.subject, "alice");
  EXPECT_TRUE(v2.claims.empty());
  auto v3 = DecodeValidate(rs[2]);
  EXPECT_EQ(v3.subject, "bob");
  EXPECT_EQ(v3.claims, R"({"sub":"bob","aud":"svc"})");
  auto v4 = DecodeValidate(rs[3]);
  EXPECT_EQ(v4.status, 2);
  EXPECT_TRUE(v4.subject.empty());
  EXPECT_TRUE(v4.claims.empty());
  EXPECT_EQ(DecodeValidate(rs[4]).status, 5);
  EXPECT_EQ(DecodeValidate(rs[5]).status, 12);
  const LoopStats s = loop_->stats();
  EXPECT_EQ(s.service.ping_requests, 1u);
  EXPECT_EQ(s.service.validate_requests, 5u);
  EXPECT_EQ(s.service.responses_by_status[0], 2u);
}

TEST_P(LoopTest, LargestFrameIsAnswered) {
  START();
  Client c(sock_.path());
  const std::string token = "ok:" + std::string(protocol::kMaxBodySize - 4 - 3, 'x');
  std::string in = Validate(1, token);
  ASSERT_EQ(in.size(), protocol::kHeaderSize + protocol::kMaxBodySize);
  ASSERT_TRUE(c.Write(in));
  auto rs = c.Read(1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(DecodeValidate(rs[0]).subject.size(), token.size() - 3);
}

TEST_P(LoopTest, ThousandPipelinedRequestsInOneWrite) {
  START();
  Client c(sock_.path());
  std::string in;
  for (uint32_t id = 0; id < 1000; ++id) {
    in += id % 3 == 0 ? Ping(id) : Validate(id, "ok:user" + std::to_string(id), "aud");
  }
  ASSERT_TRUE(c.Write(in));
  auto rs = c.Read(1000);
  ASSERT_EQ(rs.size(), 1000u);
  for (uint32_t id = 0; id < 1000; ++id) {
    ASSERT_EQ(rs[id].header.request_id, id);
    if (id % 3 == 0) {
      EXPECT_EQ(rs[id].header.opcode, protocol::kOpPing);
    } else {
      EXPECT_EQ(DecodeValidate(rs[id]).subject, "user" + std::to_string(id));
    }
  }
  EXPECT_TRUE(c.StaysQuiet(10ms)) << "exactly one response per request";
}

TEST_P(LoopTest, RequestInOneByteWrites) {
  START();
  Client c(sock_.path());
  const std::string in = Validate(77, "ok:trickle", "aud", protocol::kFlagWantClaims) + Ping(78);
  for (char ch : in) ASSERT_TRUE(c.Write(std::string_view(&ch, 1)));
  auto rs = c.Read(2);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].header.request_id, 77u);
  EXPECT_EQ(DecodeValidate(rs[0]).claims, R"({"sub":"trickle","aud":"aud"})");
  EXPECT_EQ(rs[1].header.request_id, 78u);
}

struct BadFrame {
  const char* name;
  std::string bytes;
  protocol::FrameHeader header;
};

std::vector<BadFrame> BadFrames() {
  std::vector<BadFrame> v;
  auto add = [&](const char* name, protocol::FrameHeader h, std::string body) {
    std::string b;
    protocol::AppendHeader(&b, h);
    v.push_back({name, b + body, h});
  };
  protocol::FrameHeader h;
  h.request_id = 0xfeedbeef;
  h.flags = 0x8001;
  h.opcode = protocol::kOpPing;
  h.version = 0;
  add("bad version", h, "");
  h.version = 1;
  h.opcode = 3;
  add("unknown opcode", h, "");
  h.opcode = protocol::kOpValidate;
  h.body_len = 65537;
  add("body 65537", h, "");
  h.body_len = 10;
  add("inconsistent VALIDATE lengths", h,
      std::string("\x02\x00\x02\x00"
                  "abcdef",
                  10));
  return v;
}

TEST_P(LoopTest, EachProtocolErrorIsAnsweredThenClosedWhileOthersKeepWorking) {
  START();
  Client bystander(sock_.path());
  ASSERT_TRUE(bystander.Write(Ping(1)));
  ASSERT_EQ(bystander.Read(1).size(), 1u);
  for (const BadFrame& bad : BadFrames()) {
    SCOPED_TRACE(bad.name);
    Client c(sock_.path());
    // One good frame before (answered), the bad one, and one after (never).
    ASSERT_TRUE(c.Write(Ping(10) + bad.bytes + Ping(12)));
    auto rs = c.Read(2);
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[0].header.request_id, 10u);
    protocol::FrameHeader echo = bad.header;
    echo.body_len = 1;
    std::string want;
    protocol::AppendHeader(&want, echo);
    std::string got;
    protocol::AppendHeader(&got, rs[1].header);
    EXPECT_EQ(got, want);
    EXPECT_TRUE(protocol::IsProtocolErrorBody(rs[1].body));
    EXPECT_TRUE(c.ExpectClosed());

    ASSERT_TRUE(bystander.Write(Validate(2, "ok:still-here")));
    auto b = bystander.Read(1);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(DecodeValidate(b[0]).subject, "still-here");
  }
  EXPECT_EQ(loop_->stats().service.protocol_errors, BadFrames().size());
}

TEST_P(LoopTest, ProtocolErrorInALaterWriteStillClosesAfterEarlierAnswers) {
  START();
  Client c(sock_.path());
  ASSERT_TRUE(c.Write(Ping(1)));
  ASSERT_EQ(c.Read(1).size(), 1u);
  ASSERT_TRUE(c.Write(BadFrames()[1].bytes));
  auto rs = c.Read(1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(protocol::IsProtocolErrorBody(rs[0].body));
  EXPECT_TRUE(c.ExpectClosed());
}

TEST_P(LoopTest, ClientDyingMidFrameDoesNotDisturbOthers) {
  START();
  Client b(sock_.path());
  ASSERT_TRUE(b.Write(Ping(1)));
  ASSERT_EQ(b.Read(1).size(), 1u);
  for (int round = 0; round < 20; ++round) {
    Client dying(sock_.path());
    const std::string frame = Validate(5, "ok:half");
    ASSERT_TRUE(dying.Write(std::string_view(frame).substr(0, 1 + round % (frame.size() - 1))));
    dying.Close();
    ASSERT_TRUE(b.Write(Ping(100 + round)));
    auto rs = b.Read(1);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].header.request_id, 100u + round);
  }
  EXPECT_TRUE(WaitFor([&] { return loop_->stats().connections_open == 1; }))
      << "the dead clients' connections are closed";
  EXPECT_EQ(loop_->stats().service.validate_requests, 0u);
}

TEST_P(LoopTest, ClientThatHalfClosesGetsItsAnswersThenEndOfStream) {
  START();
  Client c(sock_.path());
  std::string in;
  for (uint32_t i = 0; i < 10; ++i) in += Ping(i);
  in += Ping(10).substr(0, 5);  // an incomplete frame: dropped at end of stream
  ASSERT_TRUE(c.Write(in));
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  EXPECT_EQ(c.Read(10).size(), 10u);
  EXPECT_TRUE(c.ExpectClosed());
}

void RaiseFdLimit(rlim_t want) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur >= want) return;
  if (rl.rlim_max < want) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max;
  rl.rlim_cur = want;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
}

TEST_P(LoopTest, ThousandConcurrentConnections) {
  RaiseFdLimit(4096);
  if (IsSkipped() || HasFatalFailure()) return;
  LoopOptions o;
  o.threads = 2;
  START(o);
  constexpr int kClients = 1000;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back()->ok()) << i;
  }
  // Every client writes before any reads, so all are open at once.
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(clients[i]->Write(Ping(i) + Validate(i, "ok:c" + std::to_string(i))));
  }
  for (int i = 0; i < kClients; ++i) {
    auto rs = clients[i]->Read(2);
    ASSERT_EQ(rs.size(), 2u) << i;
    EXPECT_EQ(rs[0].header.request_id, static_cast<uint32_t>(i));
    EXPECT_EQ(DecodeValidate(rs[1]).subject, "c" + std::to_string(i));
  }
  EXPECT_EQ(loop_->stats().connections_open, static_cast<uint64_t>(kClients));
  clients.clear();
  EXPECT_TRUE(WaitFor([&] { return loop_->stats().connections_open == 0; }));
}

// Writes pings with consecutive ids from *next_id without reading, until
// the server stops taking them (no progress for `stall`) or `limit` bytes
// were written. One frame per send: a Unix stream socket takes a 12-byte
// send whole or not at all, so no frame is ever cut. Returns the bytes
// written.
size_t WriteUntilStalled(Client& c, uint32_t* next_id, size_t limit,
                         std::chrono::milliseconds stall) {
  size_t written = 0;
  while (written < limit) {
    const std::string p = Ping(*next_id);
    const ssize_t n = ::send(c.fd(), p.data(), p.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      EXPECT_EQ(static_cast<size_t>(n), p.size());
      written += static_cast<size_t>(n);
      ++*next_id;
      continue;
    }
    if (n < 0 && errno != EAGAIN) break;
    pollfd pf{c.fd(), POLLOUT, 0};
    if (::poll(&pf, 1, static_cast<int>(stall.count())) == 0) break;
  }
  return written;
}

TEST_P(LoopTest, SlowReaderHitsTheUnsentCapWithoutBlockingOthers) {
  LoopOptions o;
  o.max_unsent_bytes = 64 * 1024;
  START(o);
  Client slow(sock_.path());
  Client other(sock_.path());
  uint32_t next_id = 0;
  constexpr size_t kLimit = 16 << 20;
  const size_t written = WriteUntilStalled(slow, &next_id, kLimit, 300ms);
  ASSERT_LT(written, kLimit) << "the server kept reading a client that does not read";
  ASSERT_EQ(written % protocol::kHeaderSize, 0u);
  EXPECT_GE(loop_->stats().read_pauses, 1u);

  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(other.Write(Validate(i, "ok:other")));
    auto rs = other.Read(1);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].header.request_id, i);
  }

  // Once the slow reader reads, it gets every answer, in order.
  const size_t n = written / protocol::kHeaderSize;
  std::vector<Response> rs;
  ASSERT_TRUE(slow.Read(n, &rs)) << rs.size() << " of " << n;
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(rs[i].header.request_id, i);
  EXPECT_TRUE(slow.StaysQuiet(10ms));
  ASSERT_TRUE(slow.Write(Ping(next_id)));
  EXPECT_EQ(slow.Read(1).size(), 1u);
}

TEST_P(LoopTest, AGlobalBufferBudgetBoundsWhatSlowReadersHoldTogether) {
  LoopOptions o;
  o.max_unsent_bytes = 1 << 20;
  o.max_buffered_bytes = 256 * 1024;
  START(o);
  constexpr int kSlow = 8;
  std::vector<std::unique_ptr<Client>> slow;
  std::vector<uint32_t> next(kSlow, 0);
  std::vector<size_t> written(kSlow, 0);
  for (int i = 0; i < kSlow; ++i) slow.push_back(Connect());
  for (int i = 0; i < kSlow; ++i) {
    written[i] = WriteUntilStalled(*slow[i], &next[i], 16 << 20, 300ms);
  }
  // Each alone may hold up to 1 MiB of responses; together they stay near
  // the budget (each past it holds at most the tight cap plus one read's
  // answers).
  const LoopStats st = loop_->stats();
  EXPECT_LE(st.buffered_bytes, 768u * 1024) << "buffered " << st.buffered_bytes;
  EXPECT_GE(st.read_pauses, static_cast<uint64_t>(kSlow));

  Client other(sock_.path());
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(other.Write(Validate(i, "ok:other")));
    auto rs = other.Read(1);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].header.request_id, i);
  }
  // Nothing is lost: each slow reader, once it reads, gets every answer.
  for (int i = 0; i < kSlow; ++i) {
    const size_t n = written[i] / protocol::kHeaderSize;
    std::vector<Response> rs;
    ASSERT_TRUE(slow[i]->Read(n, &rs)) << i << ": " << rs.size() << " of " << n;
    for (size_t k = 0; k < n; ++k) ASSERT_EQ(rs[k].header.request_id, k);
  }
}

TEST_P(LoopTest, WriteStallClosesAClientThatNeverReads) {
  LoopOptions o;
  o.max_unsent_bytes = 16 * 1024;
  o.write_stall_timeout = 200ms;
  START(o);
  Client slow(sock_.path());
  Client other(sock_.path());
  uint32_t next_id = 0;
  WriteUntilStalled(slow, &next_id, 16 << 20, 100ms);
  ASSERT_TRUE(WaitFor([&] { return loop_->stats().write_stall_timeouts == 1; }))
      << loop_->stats().write_stall_timeouts;
  EXPECT_TRUE(WaitFor([&] { return loop_->stats().connections_open == 1; }));
  // A client that reads its answers is never stalled, however long it idles.
  ASSERT_TRUE(other.Write(Ping(1)));
  ASSERT_EQ(other.Read(1).size(), 1u);
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(other.Write(Ping(2)));
  EXPECT_EQ(other.Read(1).size(), 1u);
  EXPECT_EQ(loop_->stats().write_stall_timeouts, 1u);
}

TEST_P(LoopTest, MaxConnectionsPerUidRefusesBeyondTheCapForThatUid) {
  LoopOptions o;
  o.max_connections = 100;
  o.max_connections_per_uid = 2;
  START(o);
  std::vector<std::unique_ptr<Client>> in;
  for (uint32_t i = 0; i < 2; ++i) {
    in.push_back(Connect());
    ASSERT_TRUE(in.back()->Write(Ping(i)));
    ASSERT_EQ(in.back()->Read(1).size(), 1u);
  }
  Client refused(sock_.path());
  ASSERT_TRUE(refused.ok());
  refused.Write(Ping(9));  // may fail once the server has closed it
  EXPECT_TRUE(refused.ExpectClosed());
  EXPECT_EQ(loop_->stats().refused_per_uid, 1u);
  EXPECT_EQ(loop_->stats().refused_max_connections, 0u);

  in[0].reset();
  ASSERT_TRUE(WaitFor([&] { return loop_->stats().connections_open == 1; }));
  Client again(sock_.path());
  ASSERT_TRUE(again.Write(Ping(10)));
  EXPECT_EQ(again.Read(1).size(), 1u);
}

TEST_P(LoopTest, FrameTimeoutClosesAnIncompleteFrameOnly) {
  LoopOptions o;
  o.frame_timeout = 150ms;
  START(o);
  Client idle(sock_.path());
  ASSERT_TRUE(idle.Write(Ping(1)));
  ASSERT_EQ(idle.Read(1).size(), 1u);

  Client c(sock_.path());
  ASSERT_TRUE(c.Write(Ping(2) + Ping(3).substr(0, 5)));
  auto rs = c.Read(1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].header.request_id, 2u);
  EXPECT_TRUE(c.ExpectClosed());
  EXPECT_EQ(loop_->stats().frame_timeouts, 1u);

  // The idle connection, with no frame begun, outlived the timeout.
  ASSERT_TRUE(idle.Write(Ping(4)));
  EXPECT_EQ(idle.Read(1).size(), 1u);
}

TEST_P(LoopTest, MaxConnectionsRefusesBeyondTheLimit) {
  LoopOptions o;
  o.max_connections = 3;
  START(o);
  std::vector<std::unique_ptr<Client>> in;
  for (uint32_t i = 0; i < 3; ++i) {
    in.push_back(Connect());
    ASSERT_TRUE(in.back()->Write(Ping(i)));
    ASSERT_EQ(in.back()->Read(1).size(), 1u);
  }
  Client refused(sock_.path());
  ASSERT_TRUE(refused.ok());
  refused.Write(Ping(9));  // may fail once the server has closed it
  EXPECT_TRUE(refused.ExpectClosed());
  EXPECT_EQ(loop_->stats().refused_max_connections, 1u);

  in[0].reset();
  ASSERT_TRUE(WaitFor([&] { return loop_->stats().connections_open == 2; }));
  Client again(sock_.path());
  ASSERT_TRUE(again.Write(Ping(10)));
  EXPECT_EQ(again.Read(1).size(), 1u);
}

TEST_P(LoopTest, PeerOutsideTheAllowListsGetsTheRefusalFrameAndIsClosed) {
  LoopOptions o;
  o.allow_uids = {::getuid() + 1};
  o.allow_gids = {0x7ffffff0};
  START(o);
  Client c(sock_.path());
  c.Write(Ping(1));
  // docs/protocol.md "Refused peers": a protocol error with opcode 0 and
  // request id 0, then the connection closes.
  std::vector<Response> rs;
  ASSERT_TRUE(c.Read(1, &rs));
  EXPECT_EQ(rs[0].header.opcode, 0);
  EXPECT_EQ(rs[0].header.request_id, 0u);
  EXPECT_EQ(rs[0].header.version, 1);
  EXPECT_EQ(rs[0].header.flags, 0);
  EXPECT_EQ(rs[0].body, std::string(1, '\xff'));
  EXPECT_TRUE(c.ExpectClosed());
  EXPECT_EQ(loop_->stats().refused_peer, 1u);
  EXPECT_EQ(loop_->stats().connections_accepted, 0u);
}

TEST_P(LoopTest, PeerOnTheAllowListIsServed) {
  LoopOptions o;
  o.allow_uids = {::getuid()};
  START(o);
  Client c(sock_.path());
  ASSERT_TRUE(c.Write(Ping(1)));
  EXPECT_EQ(c.Read(1).size(), 1u);
}

TEST_P(LoopTest, StopAnswersRequestsAlreadySentThenCloses) {
  START();
  Client c(sock_.path());
  Client partial(sock_.path());
  // Both connections are accepted before the stop.
  ASSERT_TRUE(c.Write(Ping(0)));
  ASSERT_EQ(c.Read(1).size(), 1u);
  ASSERT_TRUE(partial.Write(Ping(0)));
  ASSERT_EQ(partial.Read(1).size(), 1u);

  std::string in;
  for (uint32_t i = 1; i <= 500; ++i) in += Ping(i);
  ASSERT_TRUE(c.Write(in));
  ASSERT_TRUE(partial.Write(Ping(1).substr(0, 6)));
  loop_->loop()->Stop();
  auto rs = c.Read(500);
  ASSERT_EQ(rs.size(), 500u);
  for (uint32_t i = 0; i < 500; ++i) EXPECT_EQ(rs[i].header.request_id, i + 1);
  EXPECT_TRUE(c.ExpectClosed());
  EXPECT_TRUE(partial.ExpectClosed());
  EXPECT_TRUE(loop_->StopAndJoin().ok());
}

TEST_P(LoopTest, StopGivesUpOnAClientThatDoesNotReadAfterTheDrainTimeout) {
  LoopOptions o;
  o.max_unsent_bytes = 16 * 1024;
  o.drain_timeout = 200ms;
  START(o);
  Client slow(sock_.path());
  uint32_t next_id = 0;
  WriteUntilStalled(slow, &next_id, 16 << 20, 300ms);
  // Run() returns although the client never reads.
  EXPECT_TRUE(loop_->StopAndJoin().ok());
  EXPECT_GE(loop_->stats().drain_timeouts, 1u);
  EXPECT_EQ(loop_->stats().connections_open, 0u);
}

TEST_P(LoopTest, TinyBuffersStillAnswerEveryone) {
  LoopOptions o;
  o.recv_buffers = 2;
  o.recv_buffer_size = 64;
  START(o);
  constexpr int kClients = 40;
  std::vector<std::unique_ptr<Client>> clients;
  std::string batch;
  for (uint32_t id = 0; id < 100; ++id) batch += Validate(id, "ok:tiny", "aud");
  for (int i = 0; i < kClients; ++i) clients.push_back(Connect());
  for (auto& c : clients) ASSERT_TRUE(c->Write(batch));
  for (auto& c : clients) {
    auto rs = c->Read(100);
    ASSERT_EQ(rs.size(), 100u);
    for (uint32_t id = 0; id < 100; ++id) ASSERT_EQ(rs[id].header.request_id, id);
  }
}

TEST_P(LoopTest, StopBeforeRunMakesRunReturnAtOnce) {
  ServiceFactory factory = [](int) {
    return std::make_unique<Service>(std::make_unique<FakeValidator>());
  };
  auto loop = MakeLoop(GetParam(), sock_.fd(), {}, factory);
  if (!loop.ok() && loop.status().code() == absl::StatusCode::kUnavailable) {
    TOKEND_SKIP_IO_URING(loop.status());
  }
  ASSERT_TRUE(loop.ok()) << loop.status();
  (*loop)->Stop();
  EXPECT_TRUE((*loop)->Run().ok());
  EXPECT_EQ((*loop)->Run().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(LoopTest, BadOptionsAreRefused) {
  ServiceFactory factory = [](int) {
    return std::make_unique<Service>(std::make_unique<FakeValidator>());
  };
  LoopOptions o;
  o.threads = 0;
  auto loop = MakeLoop(GetParam(), sock_.fd(), o, factory);
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(LoopTest, NullServiceFromTheFactoryFailsRun) {
  ServiceFactory factory = [](int) { return std::unique_ptr<Service>(); };
  auto loop = MakeLoop(GetParam(), sock_.fd(), {}, factory);
  if (!loop.ok() && loop.status().code() == absl::StatusCode::kUnavailable) {
    TOKEND_SKIP_IO_URING(loop.status());
  }
  ASSERT_TRUE(loop.ok()) << loop.status();
  EXPECT_FALSE((*loop)->Run().ok());
}

INSTANTIATE_TEST_SUITE_P(BothLoops, LoopTest, ::testing::Values(LoopKind::kUring, LoopKind::kEpoll),
                         KindName);

}  // namespace
}  // namespace tokend::server::testing

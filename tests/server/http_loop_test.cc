// SPDX-License-Identifier: Apache-2.0
// One loop serving two endpoints: the binary protocol and the HTTP front,
// each connection answered by the handler of the socket it came in on.
// Runs once per loop kind.
#include <poll.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/server/event_loop.h"
#include "daemon/server/http/http_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/require_io_uring.h"
#include "tests/server/fake_validator.h"
#include "tests/server/loop_test_util.h"

namespace tokend::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Reads from `c` until `pred(bytes)` holds or the peer closes; returns the
// bytes. *closed tells whether the peer closed.
std::string ReadUntil(Client& c, const std::function<bool(const std::string&)>& pred,
                      bool* closed = nullptr) {
  std::string got;
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  if (closed != nullptr) *closed = false;
  while (!pred(got)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[65536];
    const ssize_t n = ::recv(c.fd(), buf, sizeof(buf), 0);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

size_t Count(const std::string& s, std::string_view needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

class HttpLoopTest : public ::testing::TestWithParam<LoopKind> {
 protected:
  void SetUp() override {
    std::vector<Endpoint> endpoints;
    endpoints.push_back(ServiceEndpoint(binary_.fd(), [this](int) {
      return std::make_unique<Service>(std::make_unique<FakeValidator>(&calls_));
    }));
    Endpoint http;
    http.listen_fd = http_.fd();
    http.factory = [this](int) -> std::unique_ptr<ProtocolHandler> {
      return std::make_unique<http::HttpService>(std::make_unique<FakeValidator>(&calls_),
                                                 http::HttpServiceOptions{});
    };
    endpoints.push_back(std::move(http));
    LoopOptions o;
    o.threads = 2;
    Configure(&o);
    auto loop =
        GetParam() == LoopKind::kUring ? MakeUringLoop(endpoints, o) : MakeEpollLoop(endpoints, o);
    if (!loop.ok()) {
      if (GetParam() == LoopKind::kUring && absl::IsUnavailable(loop.status())) {
        TOKEND_SKIP_IO_URING("io_uring unavailable here: " << loop.status());
      }
      FAIL() << loop.status();
    }
    loop_ = *std::move(loop);
    thread_ = std::thread([this] { run_ = loop_->Run(); });
  }
  virtual void Configure(LoopOptions*) {}
  void TearDown() override {
    if (loop_ != nullptr) loop_->Stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(run_.ok()) << run_;
  }

  TempSocket binary_;
  TempSocket http_;
  std::atomic<uint64_t> calls_{0};
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  absl::Status run_;
};

TEST_P(HttpLoopTest, EachSocketSpeaksItsOwnProtocol) {
  Client bin(binary_.path());
  Client web(http_.path());
  ASSERT_TRUE(bin.ok() && web.ok());
  ASSERT_TRUE(bin.Write(Validate(1, "ok:alice")));
  ASSERT_TRUE(web.Write("GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ok:bob\r\n\r\n"));
  std::vector<Response> r = bin.Read(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(DecodeValidate(r[0]).subject, "alice");
  const std::string out =
      ReadUntil(web, [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(out, HasSubstr("X-Auth-Subject: bob\r\n"));

  // Bytes of one protocol on the other's socket are that socket's error.
  Client wrong(http_.path());
  ASSERT_TRUE(wrong.Write(Ping(9)));
  bool closed = false;
  const std::string refused = ReadUntil(
      wrong, [](const std::string&) { return false; }, &closed);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(closed);

  const LoopStats s = loop_->stats();
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[0].validate_requests, 1u);
  EXPECT_EQ(s.endpoints[1].validate_requests, 1u);
  EXPECT_EQ(s.endpoints[1].protocol_errors, 1u);
  EXPECT_EQ(s.service.validate_requests, 2u);
  EXPECT_EQ(s.endpoints[0].latency.count, 1u);
}

TEST_P(HttpLoopTest, PipelinedHttpRequestsAreAllAnsweredOnOneConnection) {
  Client web(http_.path());
  ASSERT_TRUE(web.ok());
  std::string batch;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    batch += "GET /a HTTP/1.1\r\nHost: h\r\ndapr-api-token: ok:u" + std::to_string(i) + "\r\n\r\n";
  }
  ASSERT_TRUE(web.Write(batch));
  const std::string out = ReadUntil(web, [&](const std::string& s) {
    return Count(s, "HTTP/1.1 200 OK") == kRequests && s.size() >= 4 &&
           s.compare(s.size() - 4, 4, "\r\n\r\n") == 0;
  });
  EXPECT_EQ(Count(out, "HTTP/1.1 200 OK"), static_cast<size_t>(kRequests));
  // In order.
  size_t pos = 0;
  for (int i = 0; i < kRequests; ++i) {
    const size_t at = out.find("X-Auth-Subject: u" + std::to_string(i) + "\r\n", pos);
    ASSERT_NE(at, std::string::npos) << i;
    pos = at;
  }
  EXPECT_TRUE(web.StaysQuiet(std::chrono::milliseconds(20)));  // keep-alive: still open
}

TEST_P(HttpLoopTest, ConnectionCloseIsHonouredAfterTheAnswer) {
  Client web(http_.path());
  ASSERT_TRUE(web.ok());
  ASSERT_TRUE(
      web.Write("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\ndapr-api-token: exp\r\n\r\n"
                "GET / HTTP/1.1\r\nHost: h\r\ndapr-api-token: ok:never\r\n\r\n"));
  bool closed = false;
  const std::string out = ReadUntil(
      web, [](const std::string&) { return false; }, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u);
  EXPECT_THAT(out, HasSubstr("x-ext-auth-reason: EXPIRED"));
}

TEST_P(HttpLoopTest, RequestSplitAcrossWritesIsAnsweredOnceWhole) {
  Client web(http_.path());
  ASSERT_TRUE(web.ok());
  const std::string req = "GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ok:slow\r\n\r\n";
  for (size_t i = 0; i < req.size(); i += 7) {
    ASSERT_TRUE(web.Write(req.substr(i, 7)));
    if (i + 7 < req.size()) {
      EXPECT_TRUE(web.StaysQuiet(std::chrono::milliseconds(2)));
    }
  }
  const std::string out =
      ReadUntil(web, [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_THAT(out, HasSubstr("X-Auth-Subject: slow"));
}

INSTANTIATE_TEST_SUITE_P(BothLoops, HttpLoopTest,
                         ::testing::Values(LoopKind::kUring, LoopKind::kEpoll), KindName);

// The same loop with an allow list that leaves this process out.
class HttpLoopRefusalTest : public HttpLoopTest {
 protected:
  void Configure(LoopOptions* o) override { o->allow_uids = {::getuid() + 1}; }
};

// A refused peer of the HTTP front gets a 403 saying why (nginx passes a 403
// from auth_request on); one of the binary socket the refusal frame.
TEST_P(HttpLoopRefusalTest, RefusedPeersAreToldWhyOnEachSocket) {
  Client web(http_.path());
  ASSERT_TRUE(web.ok());
  web.Write("GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ok:bob\r\n\r\n");
  bool closed = false;
  const std::string out = ReadUntil(
      web, [](const std::string&) { return false; }, &closed);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  const size_t body = out.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(out.substr(body + 4), "refused by the daemon's peer allow-list\r\n");
  EXPECT_THAT(out, HasSubstr("Content-Length: 41\r\n"));
  EXPECT_TRUE(closed);

  Client bin(binary_.path());
  bin.Write(Ping(3));
  std::vector<Response> r;
  ASSERT_TRUE(bin.Read(1, &r));
  EXPECT_EQ(r[0].header.opcode, 0);
  EXPECT_EQ(r[0].body, std::string(1, '\xff'));
  EXPECT_EQ(calls_.load(), 0u);
  EXPECT_EQ(loop_->stats().refused_peer, 2u);
}

INSTANTIATE_TEST_SUITE_P(BothLoops, HttpLoopRefusalTest,
                         ::testing::Values(LoopKind::kUring, LoopKind::kEpoll), KindName);

TEST(EndpointsTest, BadEndpointListsAreRefused) {
  TempSocket a;
  auto factory = [](int) -> std::unique_ptr<ProtocolHandler> {
    return std::make_unique<Service>(std::make_unique<FakeValidator>());
  };
  EXPECT_TRUE(absl::IsInvalidArgument(MakeEpollLoop(std::vector<Endpoint>{}, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      MakeEpollLoop(std::vector<Endpoint>{{a.fd(), factory}, {a.fd(), factory}}, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      MakeEpollLoop(std::vector<Endpoint>{{a.fd(), nullptr}}, {}).status()));
  std::vector<Endpoint> many(kMaxEndpoints + 1, Endpoint{a.fd(), factory});
  EXPECT_TRUE(absl::IsInvalidArgument(MakeEpollLoop(many, {}).status()));
}

}  // namespace
}  // namespace tokend::server::testing

// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/http/http_service.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/fake_validator.h"

namespace tokend::server::http {
namespace {

using testing::FakeValidator;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

uint64_t fake_now_ns = 0;
uint64_t FakeNanos() { return fake_now_ns += 1000; }  // each reading 1 µs later
int64_t FakeWall() { return 784111777; }

struct Fixture {
  explicit Fixture(HttpServiceOptions options = {}) {
    options.clock = &FakeNanos;
    options.wall_clock = &FakeWall;
    service = std::make_unique<HttpService>(std::make_unique<FakeValidator>(&calls), options);
  }
  // One Handle() call; returns the output.
  std::string Handle(std::string_view in, size_t* consumed = nullptr, bool* close = nullptr) {
    std::string out;
    bool c = false;
    const size_t n = service->Handle(in, &out, &c);
    if (consumed != nullptr) *consumed = n;
    if (close != nullptr) *close = c;
    return out;
  }
  std::atomic<uint64_t> calls{0};
  std::unique_ptr<HttpService> service;
};

// Splits concatenated responses (each with Content-Length) into a list.
std::vector<std::string> Split(std::string_view out) {
  std::vector<std::string> rs;
  while (!out.empty()) {
    const size_t end = out.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "truncated response: " << out;
      break;
    }
    size_t len = 0;
    const size_t cl = out.substr(0, end).find("Content-Length: ");
    if (cl != std::string_view::npos) len = std::stoul(std::string(out.substr(cl + 16, 12)));
    rs.emplace_back(out.substr(0, end + 4 + len));
    out.remove_prefix(end + 4 + len);
  }
  return rs;
}

std::string Get(std::string_view headers, std::string_view target = "/auth") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: h\r\n" + std::string(headers) + "\r\n";
}

TEST(HttpServiceTest, ValidTokenIsAllowedWithSubjectAndExpiry) {
  Fixture f;
  bool close = true;
  size_t n = 0;
  const std::string req = Get("Authorization: Bearer ok:alice\r\n");
  const std::string out = f.Handle(req, &n, &close);
  EXPECT_EQ(n, req.size());
  EXPECT_FALSE(close);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Subject: alice\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Expires: 1700000000\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("X-Auth-Claims")));
  EXPECT_THAT(out, Not(HasSubstr("Connection:")));
}

TEST(HttpServiceTest, ClaimsAreSentWhenAskedWithTheRequestAudience) {
  Fixture f;
  const std::string out =
      f.Handle(Get("dapr-api-token: ok:bob\r\nX-Tokend-Claims: 1\r\nX-Tokend-Audience: api\r\n"));
  std::string want;
  Base64UrlEncode(R"({"sub":"bob","aud":"api"})", &want);
  EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Claims: " + want + "\r\n"));
}

TEST(HttpServiceTest, RefusedTokenGets401WithTheStatusName) {
  Fixture f;
  const std::string out = f.Handle(Get("", "/x?accessToken=exp"));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 401 Unauthorized\r\n"));
  EXPECT_THAT(out, HasSubstr("error=\"invalid_token\", error_description=\"EXPIRED\""));
  EXPECT_THAT(out, HasSubstr("\r\nx-ext-auth-reason: EXPIRED\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("X-Auth-Subject")));
  EXPECT_EQ(f.service->stats().responses_by_status[5], 1u);
}

TEST(HttpServiceTest, ApiKeyFromEveryTokenSourceIsAllowedAndCountedByKind) {
  Fixture f;
  for (const std::string& req :
       {Get("dapr-api-token: apikey:orders\r\n"), Get("Authorization: Bearer apikey:orders\r\n"),
        Get("", "/x?accessToken=apikey:orders")}) {
    const std::string out = f.Handle(req);
    EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Subject: orders\r\nX-Auth-Expires: 0\r\n"));
  }
  const std::string refused = f.Handle(Get("dapr-api-token: status:13\r\n"));
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 401 Unauthorized\r\n"));
  EXPECT_THAT(refused, HasSubstr("\r\nx-ext-auth-reason: UNKNOWN_TOKEN\r\n"));
  f.Handle(Get("dapr-api-token: ok:jwt-user\r\n"));
  const ServiceStats s = f.service->stats();
  EXPECT_EQ(s.validate_requests, 5u);
  EXPECT_EQ(s.api_key_requests, 4u);
  EXPECT_EQ(s.responses_by_status[13], 1u);
}

TEST(HttpServiceTest, MissingTokenIsNotValidated) {
  Fixture f;
  const std::string out = f.Handle(Get("Authorization: Basic abc\r\n"));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 401 Unauthorized\r\n"));
  EXPECT_THAT(out, HasSubstr("WWW-Authenticate: Bearer realm=\"tokend\"\r\n"));
  EXPECT_EQ(f.calls.load(), 0u);
  const ServiceStats s = f.service->stats();
  EXPECT_EQ(s.missing_token, 1u);
  EXPECT_EQ(s.validate_requests, 0u);
}

TEST(HttpServiceTest, UnsafeSubjectIsRefusedAsMalformed) {
  Fixture f;
  const std::string out = f.Handle(Get("Authorization: Bearer ok:al ice \r\n"));
  // The header value trims to "ok:al ice": subject "al ice" is safe.
  EXPECT_THAT(out, HasSubstr("X-Auth-Subject: al ice\r\n"));
  const std::string bad = f.Handle(Get("", "/x?accessToken=ok:a%0D%0AX-Evil:%201"));
  EXPECT_THAT(bad, StartsWith("HTTP/1.1 401"));
  EXPECT_THAT(bad, HasSubstr("x-ext-auth-reason: MALFORMED"));
  EXPECT_THAT(bad, Not(HasSubstr("X-Evil")));
  EXPECT_EQ(f.service->stats().responses_by_status[1], 1u);
}

TEST(HttpServiceTest, PipelinedRequestsAreAnsweredInOrderInOneCall) {
  Fixture f;
  std::string in;
  in += Get("Authorization: Bearer ok:one\r\n");
  in += "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\ndapr-api-token: bad\r\n\r\nbody";
  in += Get("", "/healthz");
  in += Get("Authorization: Bearer ok:four\r\n");
  size_t n = 0;
  bool close = true;
  const std::vector<std::string> rs = Split(f.Handle(in, &n, &close));
  EXPECT_EQ(n, in.size());
  EXPECT_FALSE(close);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_THAT(rs[0], HasSubstr("X-Auth-Subject: one"));
  EXPECT_THAT(rs[1], HasSubstr("BAD_SIGNATURE"));
  // On the auth socket /healthz is an auth check like any other path.
  EXPECT_THAT(rs[2], StartsWith("HTTP/1.1 401"));
  EXPECT_THAT(rs[2], HasSubstr("x-ext-auth-reason: MISSING_TOKEN"));
  EXPECT_THAT(rs[3], HasSubstr("X-Auth-Subject: four"));
  // One Handle() call: each of its 4 requests is counted with the call's
  // duration (two readings of the fake clock, 1 µs apart).
  const ServiceStats s = f.service->stats();
  EXPECT_EQ(s.latency.count, 4u);
  EXPECT_EQ(s.latency.sum_ns, 4000u);
  EXPECT_EQ(s.validate_requests, 3u);
  EXPECT_EQ(s.missing_token, 1u);
  EXPECT_EQ(s.ping_requests, 0u);
}

TEST(HttpServiceTest, IncompleteRequestIsLeftUnconsumed) {
  Fixture f;
  const std::string whole = Get("Authorization: Bearer ok:a\r\n");
  std::string in = whole + whole.substr(0, 20);
  size_t n = 0;
  const std::vector<std::string> rs = Split(f.Handle(in, &n));
  EXPECT_EQ(rs.size(), 1u);
  EXPECT_EQ(n, whole.size());
  EXPECT_EQ(f.Handle(whole.substr(0, 20), &n), "");
  EXPECT_EQ(n, 0u);
}

TEST(HttpServiceTest, ConnectionCloseIsAnsweredThenCloses) {
  Fixture f;
  const std::string first = Get("Connection: close\r\nAuthorization: Bearer ok:a\r\n");
  const std::string in = first + Get("Authorization: Bearer ok:b\r\n");
  size_t n = 0;
  bool close = false;
  const std::vector<std::string> rs = Split(f.Handle(in, &n, &close));
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_THAT(rs[0], HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(close);
  EXPECT_EQ(n, first.size());
}

TEST(HttpServiceTest, Http10KeepAliveIsConfirmedAndPlainHttp10Closes) {
  Fixture f;
  bool close = true;
  std::string out = f.Handle(
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\ndapr-api-token: ok:a\r\n\r\n", nullptr, &close);
  EXPECT_FALSE(close);
  EXPECT_THAT(out, HasSubstr("Connection: keep-alive\r\n"));
  out = f.Handle("GET / HTTP/1.0\r\ndapr-api-token: ok:a\r\n\r\n", nullptr, &close);
  EXPECT_TRUE(close);
  EXPECT_THAT(out, HasSubstr("Connection: close\r\n"));
}

TEST(HttpServiceTest, MalformedRequestGets400AndCloses) {
  Fixture f;
  const std::string in = Get("Authorization: Bearer ok:a\r\n") + "BAD REQUEST\r\n\r\n" +
                         Get("Authorization: Bearer ok:c\r\n");
  size_t n = 0;
  bool close = false;
  const std::vector<std::string> rs = Split(f.Handle(in, &n, &close));
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_THAT(rs[0], StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(rs[1], StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(rs[1], HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(close);
  EXPECT_EQ(f.service->stats().protocol_errors, 1u);
}

TEST(HttpServiceTest, BadClaimsHeaderOrQueryIs400) {
  for (const std::string& req :
       {Get("X-Tokend-Claims: maybe\r\ndapr-api-token: ok:a\r\n"), Get("", "/x?accessToken=%zz")}) {
    Fixture f;
    bool close = false;
    EXPECT_THAT(f.Handle(req, nullptr, &close), StartsWith("HTTP/1.1 400"));
    EXPECT_TRUE(close);
    EXPECT_EQ(f.calls.load(), 0u);
  }
}

TEST(HttpServiceTest, BodyOverTheLimitIs413) {
  HttpServiceOptions o;
  o.limits.max_body_bytes = 16;
  Fixture f(o);
  bool close = false;
  EXPECT_THAT(f.Handle("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n", nullptr, &close),
              StartsWith("HTTP/1.1 413"));
  EXPECT_TRUE(close);
}

TEST(HttpServiceTest, ExpectContinueIsAnsweredOnceWhenTheHeadersArrive) {
  Fixture f;
  const std::string head =
      "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
      "dapr-api-token: ok:a\r\n\r\n";
  size_t n = 1;
  EXPECT_EQ(f.Handle(head, &n), std::string(kContinueResponse));
  EXPECT_EQ(n, 0u);
  // The body arrives (partly, then all): no second 100, then the answer.
  EXPECT_EQ(f.Handle(head + "ab", &n), "");
  EXPECT_THAT(f.Handle(head + "abc", &n), StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(n, head.size() + 3);
}

TEST(HttpServiceTest, AudienceHeaderMayOnlyChooseAmongTheConfiguredOnes) {
  HttpServiceOptions o;
  o.audiences = {"api", "billing"};
  Fixture f(o);
  // A configured one narrows the check to it (the validator sees it).
  std::string out = f.Handle(
      Get("dapr-api-token: ok:bob\r\nX-Tokend-Claims: 1\r\nX-Tokend-Audience: billing\r\n"));
  std::string want;
  Base64UrlEncode(R"({"sub":"bob","aud":"billing"})", &want);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(out, HasSubstr("X-Auth-Claims: " + want + "\r\n"));
  EXPECT_EQ(f.calls.load(), 1u);
  // Any other is refused without validating: a client's own header must
  // not widen what the relying party accepts.
  for (const char* aud : {"admin", "API", "api ,billing", "apix"}) {
    out =
        f.Handle(Get(std::string("dapr-api-token: ok:bob\r\nX-Tokend-Audience: ") + aud + "\r\n"));
    EXPECT_THAT(out, StartsWith("HTTP/1.1 401 Unauthorized\r\n")) << aud;
    EXPECT_THAT(out, HasSubstr("x-ext-auth-reason: AUDIENCE_MISMATCH\r\n")) << aud;
    EXPECT_THAT(out, Not(HasSubstr("X-Auth-Subject"))) << aud;
  }
  EXPECT_EQ(f.calls.load(), 1u);
  EXPECT_EQ(f.service->stats().responses_by_status[7], 4u);
  // No header (or an empty one): the configured audiences.
  EXPECT_THAT(f.Handle(Get("dapr-api-token: ok:bob\r\nX-Tokend-Audience:\r\n")),
              StartsWith("HTTP/1.1 200"));
}

TEST(HttpServiceTest, AudienceHeaderAddsACheckWhenNoneIsConfigured) {
  Fixture f;
  const std::string out =
      f.Handle(Get("dapr-api-token: ok:bob\r\nX-Tokend-Claims: 1\r\nX-Tokend-Audience: any\r\n"));
  std::string want;
  Base64UrlEncode(R"({"sub":"bob","aud":"any"})", &want);
  EXPECT_THAT(out, HasSubstr("X-Auth-Claims: " + want + "\r\n"));
}

TEST(HttpServiceTest, AuthSocketAnswersEveryPathWithAnAuthDecision) {
  HttpServiceOptions o;
  o.health = [](std::string* body) {
    body->append("{}\n");
    return 200;
  };
  o.metrics = [](std::string* out) { out->append("tokend_x 1\n"); };
  Fixture f(o);
  for (const std::string target : {"/healthz", "/metrics", "/metrics?x", "/healthz?", "/"}) {
    for (const std::string method : {"GET", "HEAD"}) {
      const std::string out = f.Handle(method + " " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
      EXPECT_THAT(out, StartsWith("HTTP/1.1 401 Unauthorized\r\n")) << method << " " << target;
      EXPECT_THAT(out, HasSubstr("x-ext-auth-reason: MISSING_TOKEN")) << method << " " << target;
      EXPECT_THAT(out, Not(HasSubstr("tokend_x")));
    }
    EXPECT_THAT(f.Handle("GET " + target + " HTTP/1.1\r\nHost: h\r\ndapr-api-token: bad\r\n\r\n"),
                StartsWith("HTTP/1.1 401"));
    EXPECT_THAT(f.Handle("GET " + target + " HTTP/1.1\r\nHost: h\r\ndapr-api-token: ok:a\r\n\r\n"),
                HasSubstr("X-Auth-Subject: a\r\n"));
  }
  EXPECT_EQ(f.service->stats().ping_requests, 0u);
}

HttpServiceOptions Admin() {
  HttpServiceOptions o;
  o.role = HttpRole::kAdmin;
  return o;
}

struct AdminFixture {
  explicit AdminFixture(HttpServiceOptions options = Admin()) {
    options.clock = &FakeNanos;
    options.wall_clock = &FakeWall;
    service = std::make_unique<HttpService>(nullptr, options);
  }
  std::string Handle(std::string_view in) {
    std::string out;
    bool close = false;
    service->Handle(in, &out, &close);
    return out;
  }
  std::unique_ptr<HttpService> service;
};

TEST(HttpServiceTest, AdminHealthzBodyAndCodeComeFromTheHealthCallback) {
  int code = 503;
  HttpServiceOptions o = Admin();
  o.health = [&code](std::string* body) {
    body->append(code == 200 ? "{\"status\":\"degraded\"}\n" : "{\"status\":\"unavailable\"}\n");
    return code;
  };
  AdminFixture f(o);
  std::string out = f.Handle(Get("", "/healthz"));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 503 Service Unavailable"));
  EXPECT_THAT(out, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(out, ::testing::EndsWith("\r\n\r\n{\"status\":\"unavailable\"}\n"));
  code = 200;
  out = f.Handle(Get("", "/healthz"));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(out, ::testing::EndsWith("\r\n\r\n{\"status\":\"degraded\"}\n"));
  const std::string head = f.Handle("HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_THAT(head, HasSubstr("Content-Length: 22\r\n"));
  EXPECT_THAT(head, ::testing::EndsWith("\r\n\r\n"));
  // No callback: ok.
  AdminFixture plain;
  EXPECT_THAT(plain.Handle(Get("", "/healthz")), ::testing::EndsWith("\r\n\r\nok\n"));
  EXPECT_EQ(f.service->stats().ping_requests, 3u);
}

TEST(HttpServiceTest, AdminMetricsComeFromTheCallback) {
  HttpServiceOptions o = Admin();
  o.metrics = [](std::string* out) { out->append("tokend_x 1\n"); };
  AdminFixture f(o);
  const std::string out = f.Handle(Get("", "/metrics?x=1"));
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(out, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(out, ::testing::EndsWith("\r\n\r\ntokend_x 1\n"));
  AdminFixture none;
  EXPECT_THAT(none.Handle(Get("", "/metrics")), StartsWith("HTTP/1.1 404"));
}

TEST(HttpServiceTest, AdminServesNothingElseAndNeverValidates) {
  AdminFixture f;
  EXPECT_THAT(f.Handle(Get("Authorization: Bearer ok:a\r\n", "/auth")),
              StartsWith("HTTP/1.1 404 Not Found"));
  EXPECT_THAT(f.Handle("POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
              StartsWith("HTTP/1.1 405 Method Not Allowed"));
  EXPECT_EQ(f.service->stats().validate_requests, 0u);
}

}  // namespace
}  // namespace tokend::server::http

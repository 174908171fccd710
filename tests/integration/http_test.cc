// SPDX-License-Identifier: Apache-2.0
// The real tokend binary with --http-socket and --admin-socket, spoken to
// with curl --unix-socket: the auth answers, the token sources, keep-alive,
// and /healthz and /metrics on the admin socket only. Runs once per event
// loop.
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "daemon/server/http/auth_mapping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_util.h"
#include "tests/require_io_uring.h"

namespace tokend::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr const char* kCurl = "/usr/bin/curl";

std::string Claims(int64_t exp_offset, const std::string& sub = "alice",
                   const std::string& aud = "api") {
  return "{\"sub\":\"" + sub + "\",\"aud\":\"" + aud +
         "\",\"exp\":" + std::to_string(Now() + exp_offset) + "}";
}

class HttpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!Executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (scripts/setup)";
    key_ = RandomKey();
  }

  std::string http_socket() const { return daemon_.path("http.sock"); }
  std::string admin_socket() const { return daemon_.path("admin.sock"); }

  void StartDaemon(bool write_key = true, const std::vector<std::string>& extra = {}) {
    if (write_key) daemon_.WriteKey("k1", key_);
    std::vector<std::string> args = {
        "--event-loop",  GetParam(),    "--audience",     "api",         "--audience", "billing",
        "--http-socket", http_socket(), "--admin-socket", admin_socket()};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(daemon_.Start(args));
    if (!daemon_.WaitReady()) {
      const std::string log = daemon_.Log();
      if (GetParam() == "io_uring" && log.find("unavailable") != std::string::npos) {
        TOKEND_SKIP_IO_URING("io_uring refused by this kernel: " << log);
      }
      FAIL() << "tokend did not become ready; log:\n" << log;
    }
  }

  // curl -i against the HTTP socket; `args` go before the URL(s).
  std::vector<HttpResponse> Curl(const std::vector<std::string>& args,
                                 const std::vector<std::string>& paths = {"/auth"},
                                 const std::string& socket = "") {
    std::vector<std::string> argv = {kCurl,
                                     "-s",
                                     "-i",
                                     "--max-time",
                                     "10",
                                     "--unix-socket",
                                     socket.empty() ? http_socket() : socket};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& p : paths) argv.push_back("http://tokend" + p);
    last_ = RunProgram(argv);
    EXPECT_EQ(last_.exit_code, 0) << last_.out;
    return ParseResponses(last_.out);
  }
  HttpResponse CurlOne(const std::vector<std::string>& args, const std::string& path = "/auth") {
    std::vector<HttpResponse> rs = Curl(args, {path});
    EXPECT_EQ(rs.size(), 1u) << last_.out;
    return rs.empty() ? HttpResponse{} : rs[0];
  }
  HttpResponse AdminOne(const std::string& path) {
    std::vector<HttpResponse> rs = Curl({}, {path}, admin_socket());
    EXPECT_EQ(rs.size(), 1u) << last_.out;
    return rs.empty() ? HttpResponse{} : rs[0];
  }

  std::string Token(int64_t exp_offset = 600, const std::string& sub = "alice") {
    return Mint(key_, "k1", Claims(exp_offset, sub));
  }

  std::string key_;
  TokendProcess daemon_;
  ProgramResult last_;
};

#define START_DAEMON(...)                         \
  do {                                            \
    StartDaemon(__VA_ARGS__);                     \
    if (IsSkipped() || HasFatalFailure()) return; \
  } while (0)

TEST_P(HttpTest, ValidTokenIsAllowedWithSubjectAndExpiry) {
  START_DAEMON();
  const int64_t now = Now();
  HttpResponse r = CurlOne({"-H", "Authorization: Bearer " + Token()});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("x-auth-subject"), "alice");
  ASSERT_TRUE(r.Header("x-auth-expires").has_value());
  EXPECT_GE(std::stoll(*r.Header("x-auth-expires")), now + 590);
  EXPECT_FALSE(r.Header("x-auth-claims").has_value());
  EXPECT_TRUE(r.Header("date").has_value());
}

TEST_P(HttpTest, RefusalsNameTheStatus) {
  START_DAEMON();
  std::string tampered = Token();
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const struct {
    std::string token;
    std::string reason;
  } cases[] = {
      {Token(-600), "EXPIRED"},
      {tampered, "BAD_SIGNATURE"},
      {"not-a-jwt", "MALFORMED"},
      {Mint(RandomKey(), "k2", Claims(600)), "UNKNOWN_KEY"},
  };
  for (const auto& c : cases) {
    HttpResponse r = CurlOne({"-H", "Authorization: Bearer " + c.token});
    EXPECT_EQ(r.status, 401) << c.reason;
    EXPECT_EQ(
        r.Header("www-authenticate"),
        "Bearer realm=\"tokend\", error=\"invalid_token\", error_description=\"" + c.reason + "\"");
    EXPECT_EQ(r.Header("x-ext-auth-reason"), c.reason);
    EXPECT_FALSE(r.Header("x-auth-subject").has_value());
  }
}

// --algorithms applies to the HTTP front as to the binary protocol.
TEST_P(HttpTest, AlgorithmOutsideTheAlgorithmsFlagIs401AlgNotAllowed) {
  START_DAEMON(true, {"--algorithms", "HS384,HS512"});
  HttpResponse r = CurlOne({"-H", "Authorization: Bearer " + Token()});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("x-ext-auth-reason"), "ALG_NOT_ALLOWED");
}

TEST_P(HttpTest, MissingTokenIs401WithoutAnErrorAttribute) {
  START_DAEMON();
  HttpResponse r = CurlOne({"-H", "Authorization: Basic YTpi"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"tokend\"");
}

TEST_P(HttpTest, DaprAndNacosHeadersQueryAndOriginalUriCarryTokens) {
  START_DAEMON();
  EXPECT_EQ(CurlOne({"-H", "dapr-api-token: " + Token(600, "dapr")}).Header("x-auth-subject"),
            "dapr");
  EXPECT_EQ(CurlOne({}, "/v1/ns?accessToken=" + Token(600, "nacos")).Header("x-auth-subject"),
            "nacos");
  EXPECT_EQ(CurlOne({"-H", "accessToken: " + Token(600, "nacos-h")}).Header("x-auth-subject"),
            "nacos-h");
  // nginx's auth_request subrequest: the client's query is in X-Original-URI.
  EXPECT_EQ(CurlOne({"-H", "X-Original-URI: /v1/ns?a=b&access%54oken=" + Token(600, "orig")})
                .Header("x-auth-subject"),
            "orig");
  EXPECT_EQ(CurlOne({"-H", "X-Original-URI: /v1/ns?accessToken=%zz"}).status, 400);
  // Authorization first: a bad bearer token is not rescued by a good header.
  HttpResponse r =
      CurlOne({"-H", "Authorization: bearer nope", "-H", "dapr-api-token: " + Token()});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("x-ext-auth-reason"), "MALFORMED");
}

TEST_P(HttpTest, UnconfiguredAudienceHeaderIsRefusedAndClaimsAreSentWhenAsked) {
  START_DAEMON();
  const std::string payload = Claims(600);
  const std::string token = Mint(key_, "k1", payload);
  HttpResponse r = CurlOne({"-H", "Authorization: Bearer " + token, "-H", "X-Tokend-Audience: db"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("x-ext-auth-reason"), "AUDIENCE_MISMATCH");
  r = CurlOne({"-H", "Authorization: Bearer " + token, "-H", "X-Tokend-Claims: 1"});
  EXPECT_EQ(r.status, 200);
  std::string want;
  server::http::Base64UrlEncode(payload, &want);
  EXPECT_EQ(r.Header("x-auth-claims"), want);
}

TEST_P(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  START_DAEMON();
  std::vector<std::string> argv = {kCurl,
                                   "-s",
                                   "-o",
                                   "/dev/null",
                                   "-w",
                                   "%{http_code} %{num_connects}\\n",
                                   "--unix-socket",
                                   http_socket(),
                                   "-H",
                                   "Authorization: Bearer " + Token()};
  for (int i = 0; i < 3; ++i) argv.push_back("http://tokend/r" + std::to_string(i));
  const ProgramResult r = RunProgram(argv);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "200 1\n200 0\n200 0\n");  // one connect, reused twice
}

TEST_P(HttpTest, RequestBodiesAreReadAndIgnored) {
  START_DAEMON();
  const std::string body(20000, 'b');
  std::vector<HttpResponse> rs = Curl({"-H", "Authorization: Bearer " + Token(), "-X", "POST",
                                       "--data-binary", body, "-H", "Expect: 100-continue"},
                                      {"/upload", "/again"});
  ASSERT_EQ(rs.size(), 2u) << last_.out;
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[1].status, 200);
}

TEST_P(HttpTest, MalformedRequestIs400) {
  START_DAEMON();
  HttpResponse r = CurlOne({"-H", "Transfer-Encoding: gzip", "-X", "POST", "-d", "x"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("connection"), "close");
}

TEST_P(HttpTest, HealthzAndMetricsOnTheAdminSocket) {
  START_DAEMON();
  HttpResponse h = AdminOne("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.Header("content-type"), "application/json");
  EXPECT_THAT(h.body, ::testing::StartsWith(
                          R"({"status":"ok","keys":1,"keys_reload":"ok","last_good_load":)"));
  EXPECT_THAT(h.body, ::testing::EndsWith("}\n"));
  // One token, sent twice: minted twice, the copies could straddle a second
  // and differ in exp.
  const std::string token = Token();
  CurlOne({"-H", "Authorization: Bearer " + token});
  CurlOne({"-H", "Authorization: Bearer " + token});  // a cache hit
  CurlOne({});
  HttpResponse m = AdminOne("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.Header("content-type").value_or(""), HasSubstr("version=0.0.4"));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_requests_total{protocol=\"http\",status=\"OK\"} 2\n"));
  EXPECT_THAT(m.body,
              HasSubstr("\ntokend_requests_total{protocol=\"http\",status=\"MISSING_TOKEN\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_cache_hits_total 1\n"));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_keys_loaded 1\n"));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_ping_requests_total{protocol=\"admin\"} 2\n"));
  EXPECT_THAT(m.body, HasSubstr("tokend_request_duration_seconds_count{protocol=\"http\"} "));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_connections_open 1\n"));  // this one
  EXPECT_EQ(AdminOne("/auth").status, 404);
}

TEST_P(HttpTest, AuthSocketAnswersHealthzAndMetricsWithAnAuthDecision) {
  START_DAEMON();
  // What Envoy's ext_authz forwards for a client's GET /metrics to the app.
  for (const std::string path : {"/healthz", "/metrics", "/metrics?x", "/healthz?"}) {
    HttpResponse r = CurlOne({}, path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.Header("x-ext-auth-reason"), "MISSING_TOKEN") << path;
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr("tokend_"))) << path;
    EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + Token()}, path).status, 200) << path;
  }
}

TEST_P(HttpTest, AudienceHeaderChoosesOnlyAmongTheConfiguredOnes) {
  START_DAEMON();
  const std::string billing = Mint(key_, "k1", Claims(600, "alice", "billing"));
  const std::string other = Mint(key_, "k1", Claims(600, "alice", "other"));
  EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + billing}).status, 200);
  // Narrowing to a configured audience checks that one.
  EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + billing, "-H", "X-Tokend-Audience: billing"})
                .status,
            200);
  HttpResponse r =
      CurlOne({"-H", "Authorization: Bearer " + billing, "-H", "X-Tokend-Audience: api"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("x-ext-auth-reason"), "AUDIENCE_MISMATCH");
  // A client naming its token's own audience cannot widen the configured set.
  r = CurlOne({"-H", "Authorization: Bearer " + other, "-H", "X-Tokend-Audience: other"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("x-ext-auth-reason"), "AUDIENCE_MISMATCH");
  EXPECT_FALSE(r.Header("x-auth-subject").has_value());
}

// A broken key file keeps the old keys in force: /healthz stays 200 but
// says so, with the file, and the metrics count it, until the file is fixed.
TEST_P(HttpTest, FailedKeyReloadShowsOnHealthzAndMetricsUntilFixed) {
  START_DAEMON();
  daemon_.WriteKey("short", "sixteen-bytes-xx");
  HttpResponse h;
  for (int i = 0; i < 200; ++i) {
    h = AdminOne("/healthz");
    if (h.body.find("\"keys_reload\":\"failed\"") != std::string::npos) break;
    usleep(50 * 1000);
  }
  EXPECT_EQ(h.status, 200) << h.body;
  EXPECT_THAT(h.body, HasSubstr(R"("status":"degraded","keys":1,"keys_reload":"failed",)"));
  EXPECT_THAT(h.body, HasSubstr(daemon_.keys_dir() + "/short"));
  EXPECT_THAT(h.body, ::testing::Not(HasSubstr("sixteen-bytes-xx")));
  EXPECT_THAT(h.body, HasSubstr("\"failing_since\":"));
  HttpResponse m = AdminOne("/metrics");
  EXPECT_THAT(m.body, HasSubstr("\ntokend_keys_reload_failed 1\n"));
  EXPECT_THAT(m.body, HasSubstr("\ntokend_keys_reload_failures_total 1\n"));
  EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + Token()}).status, 200);

  ASSERT_EQ(::unlink((daemon_.keys_dir() + "/short").c_str()), 0);
  for (int i = 0; i < 200; ++i) {
    h = AdminOne("/healthz");
    if (h.body.find("\"keys_reload\":\"ok\"") != std::string::npos) break;
    usleep(50 * 1000);
  }
  EXPECT_THAT(h.body, HasSubstr(R"({"status":"ok","keys":1,"keys_reload":"ok",)")) << daemon_.Log();
  m = AdminOne("/metrics");
  EXPECT_THAT(m.body, HasSubstr("\ntokend_keys_reload_failed 0\n"));
}

TEST_P(HttpTest, HealthzIs503UntilKeysAppear) {
  START_DAEMON(/*write_key=*/false);
  // The keys directory exists and is empty: no keys loaded yet.
  HttpResponse h = AdminOne("/healthz");
  EXPECT_EQ(h.status, 503);
  daemon_.WriteKey("k1", key_);
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    ready = AdminOne("/healthz").status == 200;
    if (!ready) usleep(50 * 1000);
  }
  EXPECT_TRUE(ready) << daemon_.Log();
  EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + Token()}).status, 200);
}

TEST_P(HttpTest, ProtocolSocketStillServesTheBinaryProtocol) {
  START_DAEMON();
  Client c;
  ASSERT_TRUE(c.Connect(daemon_.socket_path()));
  EXPECT_EQ(c.Validate(Token()).subject, "alice");
  EXPECT_EQ(CurlOne({"-H", "Authorization: Bearer " + Token()}).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Loops, HttpTest, ::testing::Values("io_uring", "epoll"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           return p.param == "io_uring" ? std::string("IoUring")
                                                        : std::string("Epoll");
                         });

}  // namespace
}  // namespace tokend::integration

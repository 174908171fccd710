// SPDX-License-Identifier: Apache-2.0
// Opaque API keys against the real tokend: keys made with tokenctl, looked
// up over the binary protocol and the HTTP front (curl --unix-socket, every
// token source), rotated without downtime, refused at startup when a line is
// bad.
#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_util.h"

namespace tokend::integration {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr const char* kCurl = "/usr/bin/curl";
constexpr uint8_t kOk = 0, kMalformed = 1, kUnknownToken = 13, kAlgApiKey = 64;

class ApiKeyTest : public ::testing::Test {
 protected:
  // `tokenctl apikey new --sub SUB`: the token printed; its line goes to
  // the scratch file, whose contents are returned through *line.
  std::string NewKey(const std::string& sub, std::string* line) {
    const std::string scratch = daemon_.path(sub + ".apikeys");
    const ProgramResult r = RunProgram({TOKENCTL_PATH, "apikey", "new", "--sub", sub, scratch});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    // stdout and stderr arrive interleaved: the token is the line that is
    // not tokenctl's note.
    std::string token;
    for (size_t pos = 0; pos < r.out.size();) {
      const size_t eol = r.out.find('\n', pos);
      const std::string l = r.out.substr(pos, eol - pos);
      if (!l.starts_with("tokenctl")) token = l;
      pos = eol == std::string::npos ? r.out.size() : eol + 1;
    }
    EXPECT_EQ(token.size(), 43u) << r.out;
    const ProgramResult cat = RunProgram({"/bin/cat", scratch});
    *line = cat.out;
    return token;
  }

  void StartDaemon(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--http-socket", daemon_.path("http.sock"), "--admin-socket",
                                     daemon_.path("admin.sock")};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(daemon_.Start(args));
    ASSERT_TRUE(daemon_.WaitReady()) << daemon_.Log();
    ASSERT_TRUE(client_.Connect(daemon_.socket_path()));
  }

  HttpResponse Curl(const std::vector<std::string>& args, const std::string& path = "/auth",
                    const std::string& socket = "http.sock") {
    std::vector<std::string> argv = {
        kCurl, "-s", "-i", "--max-time", "10", "--unix-socket", daemon_.path(socket)};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("http://tokend" + path);
    const ProgramResult r = RunProgram(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<HttpResponse> rs = ParseResponses(r.out);
    EXPECT_EQ(rs.size(), 1u) << r.out;
    return rs.empty() ? HttpResponse{} : rs[0];
  }

  TokendProcess daemon_;
  Client client_;
};

TEST_F(ApiKeyTest, KeyFromTokenctlIsAnsweredOverBothProtocolsAndEveryHttpSource) {
  if (!Executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (scripts/setup)";
  std::string line;
  const std::string token = NewKey("checkout", &line);
  daemon_.WriteKey("dapr.apikeys", line);
  const std::string hmac_key = RandomKey();
  daemon_.WriteKey("k1", hmac_key);
  StartDaemon();

  Response r = client_.Validate(token);
  EXPECT_EQ(r.status, kOk);
  EXPECT_EQ(r.alg, kAlgApiKey);
  EXPECT_EQ(r.subject, "checkout");
  EXPECT_EQ(r.exp, 0);
  std::string changed = token;
  changed[10] = changed[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(client_.Validate(changed).status, kUnknownToken);
  // A JWT from the same keys directory is still a JWT.
  const std::string jwt =
      Mint(hmac_key, "k1", "{\"sub\":\"jwt-app\",\"exp\":" + std::to_string(Now() + 600) + "}");
  EXPECT_EQ(client_.Validate(jwt).subject, "jwt-app");

  for (const std::vector<std::string>& source :
       {std::vector<std::string>{"-H", "dapr-api-token: " + token},
        std::vector<std::string>{"-H", "Authorization: Bearer " + token}}) {
    HttpResponse h = Curl(source);
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.Header("x-auth-subject"), "checkout");
    EXPECT_EQ(h.Header("x-auth-expires"), "0");
  }
  EXPECT_EQ(Curl({}, "/v1/x?accessToken=" + token).Header("x-auth-subject"), "checkout");
  HttpResponse bad = Curl({"-H", "dapr-api-token: " + changed});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.Header("x-ext-auth-reason"), "UNKNOWN_TOKEN");

  HttpResponse m = Curl({}, "/metrics", "admin.sock");
  EXPECT_THAT(m.body,
              HasSubstr("\ntokend_validations_total{protocol=\"http\",kind=\"api_key\"} 4\n"));
  EXPECT_THAT(m.body,
              HasSubstr("\ntokend_validations_total{protocol=\"binary\",kind=\"api_key\"} 2\n"));
  EXPECT_THAT(m.body,
              HasSubstr("\ntokend_validations_total{protocol=\"binary\",kind=\"jwt\"} 1\n"));
  EXPECT_THAT(m.body,
              HasSubstr("\ntokend_requests_total{protocol=\"http\",status=\"UNKNOWN_TOKEN\"} 1\n"));
}

// The procedure of the README: add the new line, roll the clients, remove the
// old line. No request with a listed token fails at any point, and the old
// token fails within the reload latency once its line is gone.
TEST_F(ApiKeyTest, RotationWithoutDowntime) {
  std::string old_line, new_line;
  const std::string old_token = NewKey("old", &old_line);
  const std::string new_token = NewKey("new", &new_line);
  daemon_.WriteKey("app.apikeys", old_line);
  StartDaemon();
  ASSERT_EQ(client_.Validate(old_token).status, kOk);
  EXPECT_EQ(client_.Validate(new_token).status, kUnknownToken);

  // 1. The new line joins the file (renamed into place, as a deployment
  //    writes it). The old token must answer OK on every request meanwhile.
  daemon_.WriteKey("app.apikeys", old_line + new_line);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  bool new_works = false;
  int requests = 0;
  while (!new_works && Clock::now() < deadline) {
    ASSERT_EQ(client_.Validate(old_token).status, kOk) << "after " << requests << " requests";
    const uint8_t s = client_.Validate(new_token).status;
    ASSERT_TRUE(s == kOk || s == kUnknownToken) << int{s};
    new_works = s == kOk;
    requests += 2;
  }
  ASSERT_TRUE(new_works) << daemon_.Log();
  EXPECT_EQ(client_.Validate(new_token).subject, "new");

  // 2. Clients now send the new token. 3. The old line goes: the new token
  //    keeps answering OK on every request, the old one stops.
  daemon_.WriteKey("app.apikeys", new_line);
  const auto removed = Clock::now();
  bool old_fails = false;
  while (!old_fails && Clock::now() < removed + std::chrono::seconds(10)) {
    ASSERT_EQ(client_.Validate(new_token).status, kOk);
    const uint8_t s = client_.Validate(old_token).status;
    ASSERT_TRUE(s == kOk || s == kUnknownToken) << int{s};
    old_fails = s == kUnknownToken;
  }
  const auto latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - removed);
  ASSERT_TRUE(old_fails) << daemon_.Log();
  // inotify and a 30 ms coalescing delay: well under the 10 s backstop poll.
  EXPECT_LT(latency.count(), 5000)
      << "the old token failed only after " << latency.count() << " ms";
  RecordProperty("old_token_failed_after_ms", static_cast<int>(latency.count()));

  // 4. With the last line gone no API key is loaded: opaque tokens are
  //    malformed again, as before any .apikeys file existed.
  daemon_.WriteKey("app.apikeys", "# no keys\n");
  bool malformed = false;
  while (!malformed && Clock::now() < removed + std::chrono::seconds(20)) {
    malformed = client_.Validate(new_token).status == kMalformed;
  }
  EXPECT_TRUE(malformed);
}

TEST_F(ApiKeyTest, ApiKeysAloneMakeTheDaemonReady) {
  if (!Executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (scripts/setup)";
  std::string line;
  const std::string token = NewKey("only", &line);
  daemon_.WriteKey("only.apikeys", line);
  StartDaemon();
  EXPECT_EQ(Curl({}, "/healthz", "admin.sock").status, 200);
  EXPECT_EQ(Curl({"-H", "dapr-api-token: " + token}).Header("x-auth-subject"), "only");
}

TEST_F(ApiKeyTest, ABadLineRefusesStartupAndAReloadKeepsTheKeysInForce) {
  std::string line;
  const std::string token = NewKey("svc", &line);
  daemon_.WriteKey("svc.apikeys", line + "sha256:abc svc\n");
  ASSERT_TRUE(daemon_.Start({}));
  EXPECT_FALSE(daemon_.WaitReady(std::chrono::milliseconds(3000)));
  const std::optional<int> code = daemon_.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(daemon_.Log(), HasSubstr("svc.apikeys:2: "));
  EXPECT_THAT(daemon_.Log(), ::testing::Not(HasSubstr(token)));
}

TEST_F(ApiKeyTest, ASubjectThatCouldForgeAHeaderIsRefusedOnReload) {
  std::string line;
  const std::string token = NewKey("svc", &line);
  daemon_.WriteKey("svc.apikeys", line);
  StartDaemon();
  ASSERT_EQ(client_.Validate(token).subject, "svc");
  // The same digest with the subject "svc\rX-Auth-Subject: admin".
  const std::string digest = line.substr(0, line.find(' '));
  daemon_.WriteKey("svc.apikeys", digest + " svc\rX-Auth-Subject:admin\n");
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (daemon_.Log().find("svc.apikeys:1: ") == std::string::npos && Clock::now() < deadline) {
    ASSERT_EQ(client_.Validate(token).subject, "svc");
  }
  EXPECT_THAT(daemon_.Log(), HasSubstr("svc.apikeys:1: the subject must be"));
  EXPECT_EQ(client_.Validate(token).subject, "svc");  // the set in force is kept
}

}  // namespace
}  // namespace tokend::integration

// SPDX-License-Identifier: Apache-2.0
// End to end with a real nginx (Debian's nginx-light, installed by
// scripts/setup): a protected location whose auth_request subrequest is
// proxied to tokend's HTTP socket; the subject tokend returns is passed
// upstream with auth_request_set. The upstream is a second nginx server
// that echoes the X-Subject header it receives, so the test sees exactly
// what a protected application would. Skips when nginx, or its
// auth_request module, is not installed.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_util.h"

namespace tokend::integration {
namespace {

using ::testing::HasSubstr;

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kCurl = "/usr/bin/curl";

bool Connectable(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// nginx in the foreground, in one process (master_process off: no worker
// that drops privileges and could not reach the sockets in a 0700 directory).
class Nginx {
 public:
  ~Nginx() { Stop(); }

  bool Start(const std::string& dir, const std::string& conf) {
    dir_ = dir;
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const std::string log = dir + "/nginx.out";
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string error_log = dir + "/error.log";
      ::execl(kNginx, kNginx, "-p", (dir + "/").c_str(), "-c", conf.c_str(), "-e",
              error_log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return true;
  }

  // Waits until `socket` accepts; false if nginx exits first.
  bool WaitListening(const std::string& socket) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
      if (Connectable(socket)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  std::string Logs() const {
    std::string all;
    for (const char* name : {"/nginx.out", "/error.log"}) {
      std::ifstream in(dir_ + name);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

std::string Config(const std::string& dir, const std::string& tokend_http) {
  return "daemon off;\n"
         "master_process off;\n"
         "pid " +
         dir +
         "/nginx.pid;\n"
         "error_log " +
         dir +
         "/error.log info;\n"
         "events { worker_connections 64; }\n"
         "http {\n"
         "  access_log " +
         dir +
         "/access.log;\n"
         "  client_body_temp_path " +
         dir +
         "/client_body;\n"
         "  proxy_temp_path " +
         dir +
         "/proxy;\n"
         "  fastcgi_temp_path " +
         dir +
         "/fastcgi;\n"
         "  uwsgi_temp_path " +
         dir +
         "/uwsgi;\n"
         "  scgi_temp_path " +
         dir +
         "/scgi;\n"
         "  server {\n"
         "    listen unix:" +
         dir +
         "/front.sock;\n"
         "    location = /_auth {\n"
         "      internal;\n"
         "      proxy_pass http://unix:" +
         tokend_http +
         ":;\n"
         "      proxy_pass_request_body off;\n"
         "      proxy_set_header Content-Length \"\";\n"
         "      proxy_set_header X-Original-URI $request_uri;\n"
         "      proxy_set_header X-Tokend-Audience \"\";\n"
         "    }\n"
         "    location /protected/ {\n"
         "      auth_request /_auth;\n"
         "      auth_request_set $sub $upstream_http_x_auth_subject;\n"
         "      proxy_set_header X-Subject $sub;\n"
         "      proxy_pass http://unix:" +
         dir +
         "/app.sock:;\n"
         "    }\n"
         "  }\n"
         "  server {\n"
         "    listen unix:" +
         dir +
         "/app.sock;\n"
         "    location / { return 200 \"hello $http_x_subject\\n\"; }\n"
         "  }\n"
         "}\n";
}

class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable(kNginx)) GTEST_SKIP() << kNginx << " is not installed (scripts/setup)";
    if (!Executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (scripts/setup)";
    const ProgramResult v = RunProgram({kNginx, "-V"});
    if (v.out.find("--with-http_auth_request_module") == std::string::npos) {
      GTEST_SKIP() << "this nginx has no auth_request module: " << v.out;
    }
    key_ = RandomKey();
    daemon_.WriteKey("k1", key_);
    const std::string http = daemon_.path("http.sock");
    ASSERT_TRUE(daemon_.Start({"--audience", "api", "--http-socket", http}));
    ASSERT_TRUE(daemon_.WaitReady()) << daemon_.Log();
    const std::string dir = daemon_.path("nginx");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    const std::string conf = dir + "/nginx.conf";
    daemon_.WriteFile(conf, Config(dir, http));
    const ProgramResult check =
        RunProgram({kNginx, "-t", "-p", dir + "/", "-c", conf, "-e", dir + "/error.log"});
    ASSERT_EQ(check.exit_code, 0) << check.out;
    ASSERT_TRUE(nginx_.Start(dir, conf));
    front_ = dir + "/front.sock";
    ASSERT_TRUE(nginx_.WaitListening(front_)) << nginx_.Logs();
  }

  // GET /protected/page`query` through nginx, with `headers`.
  HttpResponse Get(const std::vector<std::string>& headers, const std::string& query = "") {
    std::vector<std::string> argv = {kCurl,           "-s",  "-i", "--max-time", "10",
                                     "--unix-socket", front_};
    for (const std::string& h : headers) {
      argv.push_back("-H");
      argv.push_back(h);
    }
    argv.push_back("http://localhost/protected/page" + query);
    const ProgramResult r = RunProgram(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<HttpResponse> rs = ParseResponses(r.out);
    EXPECT_EQ(rs.size(), 1u) << r.out << "\n" << nginx_.Logs();
    return rs.empty() ? HttpResponse{} : rs[0];
  }

  std::string Token(int64_t exp_offset, const std::string& aud = "api") {
    return Mint(key_, "k1",
                "{\"sub\":\"alice\",\"aud\":\"" + aud +
                    "\",\"exp\":" + std::to_string(Now() + exp_offset) + "}");
  }

  std::string key_;
  TokendProcess daemon_;
  Nginx nginx_;
  std::string front_;
};

TEST_F(NginxTest, ValidTokenPassesWithTheSubjectUpstream) {
  HttpResponse r = Get({"Authorization: Bearer " + Token(600)});
  EXPECT_EQ(r.status, 200) << nginx_.Logs();
  EXPECT_EQ(r.body, "hello alice\n");
}

TEST_F(NginxTest, ExpiredTamperedAndMissingTokensAreRefused) {
  std::string tampered = Token(600);
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  HttpResponse expired = Get({"Authorization: Bearer " + Token(-600)});
  HttpResponse bad = Get({"Authorization: Bearer " + tampered});
  HttpResponse missing = Get({});
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(missing.status, 401);
  // nginx passes the subrequest's WWW-Authenticate on to the client.
  EXPECT_THAT(expired.Header("www-authenticate").value_or(""),
              HasSubstr("error_description=\"EXPIRED\""));
  EXPECT_THAT(bad.Header("www-authenticate").value_or(""),
              HasSubstr("error_description=\"BAD_SIGNATURE\""));
  EXPECT_EQ(missing.Header("www-authenticate"), "Bearer realm=\"tokend\"");
  EXPECT_THAT(expired.body, ::testing::Not(HasSubstr("hello")));
}

TEST_F(NginxTest, AccessTokenFromTheOriginalQueryAndFromItsHeader) {
  // The subrequest carries no query: tokend reads it from X-Original-URI.
  HttpResponse r = Get({}, "?x=1&accessToken=" + Token(600));
  EXPECT_EQ(r.status, 200) << nginx_.Logs();
  EXPECT_EQ(r.body, "hello alice\n");
  EXPECT_EQ(Get({}, "?accessToken=" + Token(-600)).status, 401);
  EXPECT_EQ(Get({}, "?accessToken=%zz").status, 500);  // tokend's 400: nginx answers 500
  r = Get({"accessToken: " + Token(600)});
  EXPECT_EQ(r.status, 200) << nginx_.Logs();
  EXPECT_EQ(r.body, "hello alice\n");
}

TEST_F(NginxTest, ClientCannotChooseTheAudience) {
  // tokend runs with --audience api; the client names its token's audience.
  const std::string billing = Token(600, "billing");
  EXPECT_EQ(Get({"Authorization: Bearer " + billing, "X-Tokend-Audience: billing"}).status, 401);
  EXPECT_EQ(Get({"Authorization: Bearer " + billing}).status, 401);
  EXPECT_EQ(Get({"Authorization: Bearer " + Token(600), "X-Tokend-Audience: billing"}).status, 200);
}

TEST_F(NginxTest, ManyRequestsThroughNginxAllAnswered) {
  const std::string good = "Authorization: Bearer " + Token(600);
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = Get({good});
    ASSERT_EQ(r.status, 200) << i;
    ASSERT_EQ(r.body, "hello alice\n");
  }
}

// Dapr end to end (README "Dapr"): daprd sends its APP_API_TOKEN in the
// dapr-api-token header, and the app's nginx asks tokend. The token is an
// API key from `tokenctl apikey new`, written straight into the watched keys
// directory, or a JWT from `tokenctl mint`.
TEST_F(NginxTest, DaprApiTokenPassesAsAnApiKeyOrAJwtFromTokenctl) {
  auto printed = [](const ProgramResult& r) {  // the line that is not tokenctl's note
    std::string token;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty() && !l.starts_with("tokenctl")) token = l;
    }
    return token;
  };
  const ProgramResult made = RunProgram({TOKENCTL_PATH, "apikey", "new", "--sub", "daprd-checkout",
                                         daemon_.keys_dir() + "/dapr.apikeys"});
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string app_api_token = printed(made);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  HttpResponse r;
  do {
    r = Get({"dapr-api-token: " + app_api_token});
  } while (r.status != 200 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(r.status, 200) << daemon_.Log();
  EXPECT_EQ(r.body, "hello daprd-checkout\n");
  std::string wrong = app_api_token;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  HttpResponse refused = Get({"dapr-api-token: " + wrong});
  EXPECT_EQ(refused.status, 401);
  EXPECT_THAT(refused.Header("www-authenticate").value_or(""),
              HasSubstr("error_description=\"UNKNOWN_TOKEN\""));

  const ProgramResult minted =
      RunProgram({TOKENCTL_PATH, "mint", "--key", daemon_.keys_dir() + "/k1", "--sub",
                  "daprd-orders", "--aud", "api", "--ttl", "600"});
  ASSERT_EQ(minted.exit_code, 0) << minted.out;
  HttpResponse jwt = Get({"dapr-api-token: " + printed(minted)});
  EXPECT_EQ(jwt.status, 200);
  EXPECT_EQ(jwt.body, "hello daprd-orders\n");
}

}  // namespace
}  // namespace tokend::integration

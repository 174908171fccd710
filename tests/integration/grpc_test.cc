// SPDX-License-Identifier: Apache-2.0
// The real tokend binary with --grpc-socket: Envoy's ext_authz
// Authorization/Check through a grpc++ client generated from the same
// protos, /metrics counting the gRPC front, and tests/grpc/ext_authz_test.mjs
// (Node's @grpc/grpc-js and @grpc/proto-loader, a client tokend did not
// write) against the daemon.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_util.h"

namespace tokend::integration {
namespace {

using envoy::service::auth::v3::Authorization;
using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;
using ::testing::HasSubstr;

constexpr const char* kCurl = "/usr/bin/curl";

std::string Claims(int64_t exp_offset, const std::string& sub = "alice",
                   const std::string& aud = "api") {
  return "{\"sub\":\"" + sub + "\",\"aud\":\"" + aud +
         "\",\"exp\":" + std::to_string(Now() + exp_offset) + "}";
}

class GrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = RandomKey(64);  // long enough for HS512, which --algorithms leaves out
    daemon_.WriteKey("k1", key_);
    ASSERT_TRUE(daemon_.Start({"--audience", "api", "--audience", "billing", "--grpc-socket",
                               grpc_socket(), "--admin-socket", admin_socket(), "--socket-mode",
                               "0600", "--algorithms", "HS256"}));
    ASSERT_TRUE(daemon_.WaitReady()) << daemon_.Log();
    channel_ = grpc::CreateChannel("unix:" + grpc_socket(), grpc::InsecureChannelCredentials());
    stub_ = Authorization::NewStub(channel_);
  }

  std::string grpc_socket() const { return daemon_.path("grpc.sock"); }
  std::string admin_socket() const { return daemon_.path("admin.sock"); }
  std::string Token(int64_t exp_offset = 600, const std::string& sub = "alice",
                    const std::string& aud = "api") {
    return Mint(key_, "k1", Claims(exp_offset, sub, aud));
  }

  CheckResponse Check(const std::string& authorization, const std::string& audience = "") {
    CheckRequest req;
    auto* http = req.mutable_attributes()->mutable_request()->mutable_http();
    http->set_path("/orders");
    if (!authorization.empty()) (*http->mutable_headers())["authorization"] = authorization;
    if (!audience.empty()) {
      (*req.mutable_attributes()->mutable_context_extensions())["audience"] = audience;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    CheckResponse res;
    grpc::Status st = stub_->Check(&ctx, req, &res);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return res;
  }

  static std::string Header(
      const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& headers,
      const std::string& key) {
    for (const auto& h : headers) {
      if (h.header().key() == key) return h.header().value();
    }
    return "<absent>";
  }

  std::string key_;
  TokendProcess daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Authorization::Stub> stub_;
};

TEST_F(GrpcTest, ValidTokenIsAllowedWithSubjectAndMetadata) {
  const CheckResponse res = Check("Bearer " + Token());
  EXPECT_EQ(res.status().code(), 0);
  ASSERT_TRUE(res.has_ok_response());
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-subject"), "alice");
  EXPECT_GE(std::stoll(Header(res.ok_response().headers(), "x-auth-expires")), Now() + 590);
  EXPECT_EQ(res.dynamic_metadata().fields().at("subject").string_value(), "alice");
}

TEST_F(GrpcTest, RefusedAndMissingTokensAreUnauthenticated401) {
  const CheckResponse expired = Check("Bearer " + Token(-600));
  EXPECT_EQ(expired.status().code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(expired.has_denied_response());
  EXPECT_EQ(expired.denied_response().status().code(), envoy::type::v3::Unauthorized);
  EXPECT_EQ(Header(expired.denied_response().headers(), "x-ext-auth-reason"), "EXPIRED");

  const CheckResponse none = Check("");
  EXPECT_EQ(none.status().code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Header(none.denied_response().headers(), "x-ext-auth-reason"), "MISSING_TOKEN");
  EXPECT_EQ(Header(none.denied_response().headers(), "www-authenticate"),
            "Bearer realm=\"tokend\"");

  // An audience outside --audience is refused before validation.
  const CheckResponse widened = Check("Bearer " + Token(600, "alice", "other"), "other");
  EXPECT_EQ(Header(widened.denied_response().headers(), "x-ext-auth-reason"), "AUDIENCE_MISMATCH");

  // The key serves HS512, but --algorithms allows HS256 only.
  const CheckResponse hs512 = Check("Bearer " + Mint(key_, "k1", Claims(600), "HS512"));
  EXPECT_EQ(hs512.status().code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Header(hs512.denied_response().headers(), "x-ext-auth-reason"), "ALG_NOT_ALLOWED");
}

TEST_F(GrpcTest, SocketHasTheConfiguredMode) {
  struct stat st;
  ASSERT_EQ(::stat(grpc_socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(GrpcTest, MetricsCountTheGrpcFront) {
  if (!Executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (scripts/setup)";
  Check("Bearer " + Token());
  Check("Bearer " + Token(-600));
  Check("");
  ProgramResult r = RunProgram(
      {kCurl, "-s", "--max-time", "10", "--unix-socket", admin_socket(), "http://tokend/metrics"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("tokend_requests_total{protocol=\"grpc\",status=\"OK\"} 1\n"));
  EXPECT_THAT(r.out, HasSubstr("tokend_requests_total{protocol=\"grpc\",status=\"EXPIRED\"} 1\n"));
  EXPECT_THAT(r.out,
              HasSubstr("tokend_requests_total{protocol=\"grpc\",status=\"MISSING_TOKEN\"} 1\n"));
  EXPECT_THAT(r.out, HasSubstr("tokend_requests_total{protocol=\"binary\",status=\"OK\"} 0\n"));
  EXPECT_THAT(r.out, HasSubstr("tokend_request_duration_seconds_count{protocol=\"grpc\"} 3\n"));
}

TEST_F(GrpcTest, StopsCleanlyOnSigterm) {
  Check("Bearer " + Token());
  daemon_.Signal(SIGTERM);
  EXPECT_EQ(daemon_.WaitExit(), 0) << daemon_.Log();
  struct stat st;
  EXPECT_NE(::stat(grpc_socket().c_str(), &st), 0) << "the socket file is left behind";
}

bool NodeModulesPresent() {
  const std::string dir = std::string(TOKEND_SOURCE_DIR) + "/tests/grpc/node_modules/@grpc/";
  struct stat st;
  return ::stat((dir + "grpc-js").c_str(), &st) == 0 &&
         ::stat((dir + "proto-loader").c_str(), &st) == 0 &&
         RunProgram({"node", "--version"}).exit_code == 0;
}

// Health follows the keys: NOT_SERVING while the daemon has none, SERVING
// once they appear (the front polls every second).
TEST(GrpcHealthTest, NotServingWithoutKeysThenServing) {
  if (!NodeModulesPresent())
    GTEST_SKIP() << "node or tests/grpc/node_modules missing (scripts/setup)";
  TokendProcess daemon;
  const std::string keys = daemon.path("later-keys");
  const std::string sock = daemon.path("grpc.sock");
  ASSERT_TRUE(daemon.Spawn({"--socket", daemon.socket_path(), "--keys", keys, "--threads", "1",
                            "--grpc-socket", sock, "--poll-interval", "1"}));
  ASSERT_TRUE(daemon.WaitReady()) << daemon.Log();
  const std::string dir = std::string(TOKEND_SOURCE_DIR) + "/tests/grpc";
  auto status = [&](const std::string& service) {
    ProgramResult r = RunProgram({"node", dir + "/health_check.mjs", "--socket", sock, "--health",
                                  dir + "/proto", "--service", service});
    return r.out;
  };
  EXPECT_EQ(status(""), "NOT_SERVING\n");
  ::mkdir(keys.c_str(), 0700);
  daemon.WriteFile(keys + "/k1", RandomKey());
  std::string now;
  for (int i = 0; i < 40 && now != "SERVING\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    now = status("");
  }
  EXPECT_EQ(now, "SERVING\n") << daemon.Log();
  EXPECT_EQ(status("envoy.service.auth.v3.Authorization"), "SERVING\n");
  EXPECT_THAT(status("no.such.Service"), ::testing::StartsWith("error 5 "));  // NOT_FOUND
}

// tests/grpc/ext_authz_test.mjs: the cases of the HTTP front's tests, from
// Node.
TEST_F(GrpcTest, NodeGrpcJsClient) {
  if (!NodeModulesPresent())
    GTEST_SKIP() << "node or tests/grpc/node_modules missing (scripts/setup)";
  const std::string dir = std::string(TOKEND_SOURCE_DIR) + "/tests/grpc";
  std::string tampered = Token();
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const std::string tokens =
      "{\"valid\":\"" + Token() + "\",\"expired\":\"" + Token(-600) + "\",\"tampered\":\"" +
      tampered + "\",\"billing\":\"" + Token(600, "alice", "billing") + "\",\"other_aud\":\"" +
      Token(600, "alice", "other") + "\",\"bad_subject\":\"" + Token(600, "al\\nice") + "\"}";
  const std::string tokens_file = daemon_.path("tokens.json");
  daemon_.WriteFile(tokens_file, tokens);
  ProgramResult r =
      RunProgram({"node", dir + "/ext_authz_test.mjs", "--socket", grpc_socket(), "--tokens",
                  tokens_file, "--api", std::string(TOKEND_SOURCE_DIR) + "/third_party/envoy-api",
                  "--health", dir + "/proto"},
                 std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.out << "\ndaemon log:\n" << daemon_.Log();
  EXPECT_THAT(r.out, HasSubstr("# fail 0"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("# pass 0\n")));
}

}  // namespace
}  // namespace tokend::integration

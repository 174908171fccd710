// SPDX-License-Identifier: Apache-2.0
// The header-only C++ wrapper (tokend/client.hpp) over the shared library,
// against the fake daemon: RAII, string_view in, StatusOr out, and the
// mapping of every C error to an absl status code.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/client/client_test_util.h"
#include "tests/client/fake_server.h"
#include "tokend/client.hpp"

namespace tokend::testing {
namespace {

using std::chrono::milliseconds;

class ClientCppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("tokend.sock");
    server_ = std::make_unique<FakeServer>(path_);
    ASSERT_TRUE(server_->Start()) << server_->error();
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<FakeServer> server_;
};

TEST_F(ClientCppTest, ValidTokenGivesAValidValidation) {
  absl::StatusOr<Client> client = Client::Connect(path_);
  ASSERT_TRUE(client.ok()) << client.status();
  std::string token = "alice";  // a view of it is all the call takes
  absl::StatusOr<Validation> v = client->Validate(std::string_view(token), "api", true);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->valid());
  EXPECT_EQ(v->status_name, "OK");
  EXPECT_EQ(v->alg_name, "HS256");
  EXPECT_EQ(v->subject, "alice");
  EXPECT_EQ(v->exp, kFakeExp);
  EXPECT_EQ(v->claims, R"({"tok":"alice","aud":"api"})");
}

TEST_F(ClientCppTest, InvalidTokenIsAnAnswerNotAnError) {
  absl::StatusOr<Client> client = Client::Connect(path_);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Validation> v = client->Validate("status:9");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->valid());
  EXPECT_EQ(v->status, TOKEND_STATUS_REVOKED);
  EXPECT_EQ(v->status_name, "REVOKED");
  EXPECT_EQ(v->subject, "");
}

TEST_F(ClientCppTest, BatchAnswersInRequestOrder) {
  server_->set_behavior(Behavior::kReverse);
  server_->set_group(4);
  std::vector<std::string> tokens;
  for (int i = 0; i < 400; ++i) tokens.push_back(i % 3 == 0 ? "status:5" : "t" + std::to_string(i));
  std::vector<ValidateRequest> reqs;
  for (const std::string& t : tokens) reqs.push_back({t, "", false});
  absl::StatusOr<Client> client = Client::Connect(path_);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::vector<Validation>> vs = client->ValidateBatch(reqs);
  ASSERT_TRUE(vs.ok()) << vs.status();
  ASSERT_EQ(vs->size(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i % 3 == 0) {
      EXPECT_EQ((*vs)[i].status, TOKEND_STATUS_EXPIRED);
    } else {
      EXPECT_EQ((*vs)[i].subject, tokens[i]);
    }
  }
}

TEST_F(ClientCppTest, PingAndTimeout) {
  absl::StatusOr<Client> client = Client::Connect(path_, milliseconds(10000));
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(client->Ping().ok());
  server_->set_behavior(Behavior::kSilent);
  ASSERT_TRUE(client->SetTimeout(milliseconds(100)).ok());
  const absl::Status s = client->Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_EQ(client->SetTimeout(milliseconds(-1)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientCppTest, NoDaemonIsUnavailableAndSaysWhatToDo) {
  const std::string absent = dir_.File("absent.sock");
  absl::StatusOr<Client> client = Client::Connect(absent);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  const std::string msg(client.status().message());
  EXPECT_NE(msg.find(absent), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is tokend running"), std::string::npos) << msg;
}

TEST_F(ClientCppTest, ProtocolTroubleIsDataLoss) {
  server_->set_behavior(Behavior::kWrongId);
  absl::StatusOr<Client> client = Client::Connect(path_);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->Validate("x").status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ClientCppTest, MovingAClientMovesItsConnection) {
  absl::StatusOr<Client> client = Client::Connect(path_);
  ASSERT_TRUE(client.ok());
  tokend_client* handle = client->get();
  Client moved = *std::move(client);
  EXPECT_EQ(moved.get(), handle);
  EXPECT_TRUE(moved.Ping().ok());
  absl::StatusOr<Client> other = Client::Connect(path_);
  ASSERT_TRUE(other.ok());
  moved = *std::move(other);  // closes the first connection
  EXPECT_TRUE(moved.Ping().ok());
  ASSERT_TRUE(server_->WaitFor([](FakeServer& s) { return s.closed_connections() >= 1; }));
}

TEST(ClientCppStatusTest, EveryErrorCodeMapsToAStatusCode) {
  const std::pair<int, absl::StatusCode> cases[] = {
      {TOKEND_ERR_INVALID, absl::StatusCode::kInvalidArgument},
      {TOKEND_ERR_NO_DAEMON, absl::StatusCode::kUnavailable},
      {TOKEND_ERR_PERMISSION, absl::StatusCode::kPermissionDenied},
      {TOKEND_ERR_CONNECT, absl::StatusCode::kUnavailable},
      {TOKEND_ERR_TIMEOUT, absl::StatusCode::kDeadlineExceeded},
      {TOKEND_ERR_DISCONNECTED, absl::StatusCode::kUnavailable},
      {TOKEND_ERR_IO, absl::StatusCode::kUnavailable},
      {TOKEND_ERR_PROTOCOL, absl::StatusCode::kDataLoss},
      {TOKEND_ERR_NOMEM, absl::StatusCode::kResourceExhausted},
  };
  for (const auto& [rc, code] : cases) {
    const absl::Status s = Client::ToStatus(rc, "op", nullptr);
    EXPECT_EQ(s.code(), code) << rc;
    EXPECT_NE(std::string(s.message()).find(tokend_strerror(rc)), std::string::npos);
  }
}

}  // namespace
}  // namespace tokend::testing

// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/service.h"

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/server/fake_validator.h"

namespace tokend::server {
namespace {

using protocol::FrameStatus;
using protocol::RequestFrame;
using protocol::ValidateResponse;
using testing::FakeValidator;

struct Response {
  protocol::FrameHeader header;
  std::string body;
};

// Splits `out` into response frames; fails the test on trailing bytes.
std::vector<Response> Parse(std::string_view out) {
  std::vector<Response> rs;
  while (!out.empty()) {
    if (out.size() < protocol::kHeaderSize) {
      ADD_FAILURE() << "trailing bytes";
      break;
    }
    Response r;
    r.header = protocol::DecodeHeader(out.data());
    const size_t n = protocol::kHeaderSize + r.header.body_len;
    if (out.size() < n) {
      ADD_FAILURE() << "truncated response";
      break;
    }
    r.body = std::string(out.substr(protocol::kHeaderSize, r.header.body_len));
    rs.push_back(r);
    out.remove_prefix(n);
  }
  return rs;
}

ValidateResponse DecodeValidate(const Response& r) {
  ValidateResponse v;
  EXPECT_TRUE(protocol::DecodeValidateResponse(r.body, &v));
  return v;
}

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() {
    auto v = std::make_unique<FakeValidator>(&calls_);
    validator_ = v.get();
    service_ = std::make_unique<Service>(std::move(v));
  }

  std::atomic<uint64_t> calls_{0};
  FakeValidator* validator_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, PingIsAnsweredWithTheProtocolExample) {
  std::string in;
  protocol::AppendPingRequest(&in, 7);
  std::string out;
  bool close = true;
  EXPECT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  EXPECT_FALSE(close);
  EXPECT_EQ(out, in);
  EXPECT_EQ(calls_.load(), 0u) << "PING does no validation work";
}

TEST_F(ServiceTest, PingBodyIsIgnored) {
  protocol::FrameHeader h;
  h.body_len = 5;
  h.opcode = protocol::kOpPing;
  h.flags = 0x1234;
  h.request_id = 99;
  std::string in;
  protocol::AppendHeader(&in, h);
  in += "hello";
  std::string out;
  bool close = true;
  EXPECT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  EXPECT_FALSE(close);
  std::string want;
  protocol::AppendPingResponse(&want, 99);
  EXPECT_EQ(out, want);
}

TEST_F(ServiceTest, ValidateOkWithoutWantClaimsCarriesSubjectButNoClaims) {
  std::string in;
  protocol::AppendValidateRequest(&in, 5, 0, "ok:alice", "svc");
  std::string out;
  bool close = false;
  ASSERT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  auto rs = Parse(out);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].header.opcode, protocol::kOpValidate);
  EXPECT_EQ(rs[0].header.request_id, 5u);
  EXPECT_EQ(rs[0].header.flags, 0);
  ValidateResponse v = DecodeValidate(rs[0]);
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.alg, 1);
  EXPECT_EQ(v.exp, testing::kFakeExp);
  EXPECT_EQ(v.subject, "alice");
  EXPECT_TRUE(v.claims.empty());
  EXPECT_FALSE(validator_->last_want_claims);
}

TEST_F(ServiceTest, ValidateOkWithWantClaimsCarriesClaimsAndPassesAudience) {
  std::string in;
  protocol::AppendValidateRequest(&in, 6, protocol::kFlagWantClaims, "ok:bob", "api");
  std::string out;
  bool close = false;
  ASSERT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  auto rs = Parse(out);
  ASSERT_EQ(rs.size(), 1u);
  ValidateResponse v = DecodeValidate(rs[0]);
  EXPECT_EQ(v.subject, "bob");
  EXPECT_EQ(v.claims, R"({"sub":"bob","aud":"api"})");
  EXPECT_TRUE(validator_->last_want_claims);
}

TEST_F(ServiceTest, UnknownFlagBitsAreIgnored) {
  std::string in;
  protocol::AppendValidateRequest(&in, 6, 0xfffe, "ok:bob", "");
  std::string out;
  bool close = false;
  ASSERT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  auto rs = Parse(out);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(DecodeValidate(rs[0]).claims.empty());
  EXPECT_FALSE(close);
}

TEST_F(ServiceTest, NonOkStatusCarriesNoSubject) {
  std::string in;
  protocol::AppendValidateRequest(&in, 8, protocol::kFlagWantClaims, "forged", "");
  protocol::AppendValidateRequest(&in, 9, 0, "exp", "");
  std::string out;
  bool close = false;
  ASSERT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  auto rs = Parse(out);
  ASSERT_EQ(rs.size(), 2u);
  ValidateResponse a = DecodeValidate(rs[0]);
  EXPECT_EQ(a.status, 2);
  EXPECT_TRUE(a.subject.empty());
  EXPECT_TRUE(a.claims.empty());
  ValidateResponse b = DecodeValidate(rs[1]);
  EXPECT_EQ(b.status, 5);
  EXPECT_EQ(b.alg, 2);
  EXPECT_EQ(b.exp, 1);
}

TEST_F(ServiceTest, PipelinedFramesAreAnsweredInOrderAndAPartialOneIsLeft) {
  std::string in;
  for (uint32_t id = 1; id <= 50; ++id) {
    if (id % 2) {
      protocol::AppendPingRequest(&in, id);
    } else {
      protocol::AppendValidateRequest(&in, id, 0, "ok:u" + std::to_string(id), "");
    }
  }
  const size_t whole = in.size();
  std::string next;
  protocol::AppendValidateRequest(&next, 51, 0, "ok:last", "");
  in += next.substr(0, 20);
  std::string out;
  bool close = false;
  EXPECT_EQ(service_->HandleFrames(in, &out, &close), whole);
  EXPECT_FALSE(close);
  auto rs = Parse(out);
  ASSERT_EQ(rs.size(), 50u);
  for (uint32_t id = 1; id <= 50; ++id) {
    EXPECT_EQ(rs[id - 1].header.request_id, id);
    EXPECT_EQ(rs[id - 1].header.opcode, id % 2 ? protocol::kOpPing : protocol::kOpValidate);
  }
}

// Tokens reach Prepare() in groups of at most kMaxPrepared, each group
// before its own Validate() calls and in the order of the frames (PINGs
// between them take no part), and every prepared token is validated next.
TEST_F(ServiceTest, PreparedGroupsPrecedeTheirValidationsInOrder) {
  validator_->record = true;
  std::string in;
  std::vector<std::string> tokens;
  for (uint32_t id = 1; id <= 30; ++id) {
    if (id % 5 == 0) {
      protocol::AppendPingRequest(&in, id);
    } else {
      tokens.push_back("ok:t" + std::to_string(id));
      protocol::AppendValidateRequest(&in, id, 0, tokens.back(), "");
    }
  }
  std::string out;
  bool close = false;
  EXPECT_EQ(service_->HandleFrames(in, &out, &close), in.size());
  ASSERT_EQ(Parse(out).size(), 30u);
  std::vector<std::string> pending;  // prepared, not yet validated
  std::vector<std::string> validated;
  size_t groups = 0;
  for (const std::string& e : validator_->events) {
    if (e[0] == 'P') {
      EXPECT_TRUE(pending.empty()) << "a Prepare() before the last group was validated";
      std::vector<std::string> group = absl::StrSplit(e.substr(2), ' ');
      EXPECT_LE(group.size(), RequestValidator::kMaxPrepared);
      pending.assign(group.rbegin(), group.rend());
      ++groups;
    } else {
      const std::string token = e.substr(2);
      ASSERT_FALSE(pending.empty()) << token << " was not prepared";
      EXPECT_EQ(pending.back(), token);
      pending.pop_back();
      validated.push_back(token);
    }
  }
  EXPECT_EQ(validated, tokens);
  EXPECT_GE(groups,
            (tokens.size() + RequestValidator::kMaxPrepared - 1) / RequestValidator::kMaxPrepared);
}

TEST_F(ServiceTest, IncompleteHeaderConsumesNothing) {
  std::string out;
  bool close = true;
  EXPECT_EQ(service_->HandleFrames(std::string_view("\x00\x00\x00", 3), &out, &close), 0u);
  EXPECT_FALSE(close);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(service_->HandleFrames("", &out, &close), 0u);
}

struct BadFrameCase {
  const char* name;
  std::string frame;  // a whole bad frame (or just its header)
  protocol::FrameHeader header;
};

std::vector<BadFrameCase> BadFrames() {
  std::vector<BadFrameCase> cases;
  auto add = [&](const char* name, protocol::FrameHeader h, std::string body) {
    std::string f;
    protocol::AppendHeader(&f, h);
    f += body;
    cases.push_back({name, f, h});
  };
  protocol::FrameHeader h;
  h.request_id = 0x0badf00d;
  h.flags = 0x0101;

  h.version = 2;
  h.opcode = protocol::kOpPing;
  add("bad version", h, "");
  h.version = 1;
  h.opcode = 9;
  add("unknown opcode", h, "");
  h.opcode = protocol::kOpValidate;
  h.body_len = 65537;
  add("body 65537", h, "");  // the body is never awaited
  h.body_len = 8;
  add("inconsistent VALIDATE lengths", h,
      std::string("\x03\x00\x00\x00"
                  "abcd",
                  8));
  h.body_len = 2;
  add("VALIDATE body shorter than its lengths", h, std::string("\x00\x00", 2));
  return cases;
}

// Sends `good` (whole frames), then the bad frame of `c`, then a PING that
// must not be answered; checks that the call closes and consumes past the
// good frames but not past the bad one. Returns the responses.
std::vector<Response> AnswerAroundBadFrame(Service& service, std::string in, const BadFrameCase& c,
                                           std::string* out) {
  const size_t before = in.size();
  in += c.frame;
  const size_t bad_end = in.size();
  protocol::AppendPingRequest(&in, 0x7fffffff);  // must not be answered
  bool close = false;
  const size_t used = service.HandleFrames(in, out, &close);
  EXPECT_TRUE(close);
  EXPECT_GT(used, before);
  EXPECT_LE(used, bad_end);
  return Parse(*out);
}

TEST_F(ServiceTest, EachProtocolErrorEchoesTheHeaderWith255AndStops) {
  for (const BadFrameCase& c : BadFrames()) {
    SCOPED_TRACE(c.name);
    std::string in;
    protocol::AppendPingRequest(&in, 1);
    std::string out;
    auto rs = AnswerAroundBadFrame(*service_, in, c, &out);
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[0].header.request_id, 1u);
    protocol::FrameHeader echo = c.header;
    echo.body_len = 1;
    std::string want;
    protocol::AppendHeader(&want, echo);
    want.push_back('\xff');
    EXPECT_EQ(out.substr(protocol::kHeaderSize), want);
  }
}

// A protocol error deep in a pipeline, past the first group: every frame
// before it is answered, then the error, and nothing after it.
TEST_F(ServiceTest, AProtocolErrorAfterSeveralGroupsStopsThere) {
  for (const BadFrameCase& c : BadFrames()) {
    SCOPED_TRACE(c.name);
    std::string in;
    for (uint32_t id = 1; id <= 19; ++id) {
      protocol::AppendValidateRequest(&in, id, 0, "ok:u" + std::to_string(id), "");
    }
    std::string out;
    auto rs = AnswerAroundBadFrame(*service_, in, c, &out);
    ASSERT_EQ(rs.size(), 20u);
    for (uint32_t id = 1; id <= 19; ++id) EXPECT_EQ(rs[id - 1].header.request_id, id);
    EXPECT_EQ(rs[19].header.request_id, c.header.request_id);
    EXPECT_EQ(rs[19].body, std::string(1, '\xff'));
  }
}

TEST_F(ServiceTest, CloseIsResetOnTheNextCall) {
  std::string out;
  bool close = true;
  std::string in;
  protocol::AppendPingRequest(&in, 1);
  service_->HandleFrames(in, &out, &close);
  EXPECT_FALSE(close);
}

TEST_F(ServiceTest, StatsCountRequestsStatusesAndProtocolErrors) {
  std::string in;
  protocol::AppendPingRequest(&in, 1);
  protocol::AppendPingRequest(&in, 2);
  protocol::AppendValidateRequest(&in, 3, 0, "ok:a", "");
  protocol::AppendValidateRequest(&in, 4, 0, "exp", "");
  protocol::AppendValidateRequest(&in, 5, 0, "exp", "");
  protocol::AppendValidateRequest(&in, 6, 0, "status:200", "");
  std::string out;
  bool close = false;
  service_->HandleFrames(in, &out, &close);
  std::string bad = BadFrames()[0].frame;
  service_->HandleFrames(bad, &out, &close);
  const ServiceStats s = service_->stats();
  EXPECT_EQ(s.ping_requests, 2u);
  EXPECT_EQ(s.validate_requests, 4u);
  EXPECT_EQ(s.responses_by_status[0], 1u);
  EXPECT_EQ(s.responses_by_status[5], 2u);
  EXPECT_EQ(s.responses_other_status, 1u);
  EXPECT_EQ(s.protocol_errors, 1u);
  ServiceStats sum = s;
  sum += s;
  EXPECT_EQ(sum.ping_requests, 4u);
  EXPECT_EQ(sum.responses_by_status[5], 4u);
}

TEST_F(ServiceTest, ApiKeyValidationsAreCountedByKind) {
  std::string in;
  protocol::AppendValidateRequest(&in, 1, 0, "ok:a", "");
  protocol::AppendValidateRequest(&in, 2, 0, "apikey:orders", "");
  protocol::AppendValidateRequest(&in, 3, 0, "status:13", "");
  protocol::AppendValidateRequest(&in, 4, 0, "status:1", "");
  std::string out;
  bool close = false;
  service_->HandleFrames(in, &out, &close);
  const std::vector<Response> rs = Parse(out);
  ASSERT_EQ(rs.size(), 4u);
  const ValidateResponse api = DecodeValidate(rs[1]);
  EXPECT_EQ(api.alg, 64);
  EXPECT_EQ(api.subject, "orders");
  const ServiceStats s = service_->stats();
  EXPECT_EQ(s.validate_requests, 4u);
  EXPECT_EQ(s.api_key_requests, 2u);
  EXPECT_EQ(s.responses_by_status[13], 1u);
  ServiceStats sum = s;
  sum += s;
  EXPECT_EQ(sum.api_key_requests, 4u);
}

TEST_F(ServiceTest, StatsAreReadableWhileTheWorkerRuns) {
  std::atomic<bool> done{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      const uint64_t now = service_->stats().ping_requests;
      EXPECT_GE(now, last) << "a single writer's counter never goes back";
      last = now;
    }
  });
  std::string in;
  for (uint32_t i = 0; i < 100; ++i) protocol::AppendPingRequest(&in, i);
  std::string out;
  bool close = false;
  for (int round = 0; round < 100; ++round) {
    out.clear();
    service_->HandleFrames(in, &out, &close);
  }
  done = true;
  reader.join();
  EXPECT_EQ(service_->stats().ping_requests, 10000u);
}

}  // namespace
}  // namespace tokend::server

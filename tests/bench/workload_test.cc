// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/workload.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/auth/base64url.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"

namespace tokend::bench {
namespace {

namespace protocol = tokend::protocol;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "tokend-bench-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string path_;
};

TEST(WorkloadTest, TamperedSignatureStaysCanonicalAndDiffers) {
  const std::string token = "eyJhIjoxfQ.eyJiIjoyfQ.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE";
  const std::string bad = TamperSignature(token);
  ASSERT_EQ(bad.size(), token.size());
  EXPECT_NE(bad, token);
  const size_t sig = token.rfind('.') + 1;
  EXPECT_EQ(bad.substr(0, sig), token.substr(0, sig));  // header and payload untouched
  std::string decoded_good, decoded_bad;
  EXPECT_EQ(auth::Base64UrlDecode(token.substr(sig), decoded_good),
            auth::Base64UrlDecode(bad.substr(sig), decoded_bad));
  EXPECT_NE(decoded_good, decoded_bad);
}

TEST(WorkloadTest, LoadTokensSkipsBlanksCommentsAndBearer) {
  TempDir dir;
  const std::string path = dir.Write("t", "# tokens\n\n  a.b.c  \nBearer d.e.f\r\n");
  absl::StatusOr<std::vector<std::string>> tokens = LoadTokens(path);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a.b.c", "d.e.f"}));
  EXPECT_FALSE(LoadTokens(dir.Write("empty", "\n# none\n")).ok());
  EXPECT_FALSE(LoadTokens("/nonexistent/tokens").ok());
}

TEST(WorkloadTest, MintedTokensAreDistinctAndCarryTheAudienceAndKid) {
  TempDir dir;
  const std::string key = dir.Write("k1", std::string(32, 'x') + "0123456789");
  MintOptions m;
  m.key_file = key;
  m.count = 50;
  m.audience = "api.example";
  m.now = 1800000000;
  absl::StatusOr<std::vector<std::string>> tokens = MintTokens(m);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 50u);
  std::vector<std::string> sorted = *tokens;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string header, payload;
  const std::string& t = tokens->front();
  ASSERT_TRUE(auth::Base64UrlDecode(t.substr(0, t.find('.')), header));
  const size_t p0 = t.find('.') + 1;
  ASSERT_TRUE(auth::Base64UrlDecode(t.substr(p0, t.rfind('.') - p0), payload));
  EXPECT_THAT(header, HasSubstr("\"kid\":\"k1\""));
  EXPECT_THAT(payload, HasSubstr("\"aud\":\"api.example\""));
  EXPECT_THAT(payload, HasSubstr("\"exp\":1800086400"));
}

TEST(WorkloadTest, MintingWithAMissingKeyFails) {
  MintOptions m;
  m.key_file = "/nonexistent/key";
  EXPECT_FALSE(MintTokens(m).ok());
}

TEST(WorkloadTest, InvalidRatioTampersExactlyThatShareAndExpectsBadSignature) {
  RunSpec spec;
  spec.op = Op::kValidate;
  spec.invalid_ratio = 0.25;
  spec.audience = "aud";
  const std::vector<std::string> tokens = {"a.b.AAAA", "c.d.BBBB", "e.f.CCCC"};
  std::unique_ptr<Workload> w = Workload::Build(spec, tokens);
  int tampered = 0;
  for (uint64_t seq = 0; seq < 1000; ++seq) {
    std::string out;
    const Outcome expected = w->AppendRequest(seq, static_cast<uint32_t>(seq + 7), &out);
    protocol::RequestFrame frame;
    size_t consumed = 0;
    ASSERT_EQ(protocol::NextRequestFrame(out, &frame, &consumed), protocol::FrameStatus::kFrame);
    ASSERT_EQ(consumed, out.size());
    EXPECT_EQ(frame.header.request_id, seq + 7);
    EXPECT_EQ(frame.header.opcode, protocol::kOpValidate);
    protocol::ValidateRequest req;
    ASSERT_TRUE(protocol::DecodeValidateRequest(frame.body, &req));
    EXPECT_EQ(req.audience, "aud");
    const std::string& original = tokens[seq % tokens.size()];
    if (expected == Outcome::kBadSignature) {
      ++tampered;
      EXPECT_EQ(req.token, TamperSignature(original));
    } else {
      EXPECT_EQ(expected, Outcome::kOk);
      EXPECT_EQ(req.token, original);
    }
  }
  EXPECT_EQ(tampered, 250);
}

TEST(WorkloadTest, PingRequestsExpectOk) {
  RunSpec spec;
  std::unique_ptr<Workload> w = Workload::Build(spec, {});
  std::string out;
  EXPECT_EQ(w->AppendRequest(0, 42, &out), Outcome::kOk);
  ASSERT_EQ(out.size(), protocol::kHeaderSize);
  EXPECT_EQ(protocol::DecodeHeader(out.data()).opcode, protocol::kOpPing);
  EXPECT_EQ(protocol::DecodeHeader(out.data()).request_id, 42u);
}

TEST(WorkloadTest, OutcomeNamesFollowTheProtocol) {
  EXPECT_EQ(OutcomeName(0), "OK");
  EXPECT_EQ(OutcomeName(2), "BAD_SIGNATURE");
  EXPECT_EQ(OutcomeName(12), "UNSUPPORTED_HEADER");
  EXPECT_EQ(OutcomeName(static_cast<int>(Outcome::kNoAnswer)), "NO_ANSWER");
}

}  // namespace
}  // namespace tokend::bench

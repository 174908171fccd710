// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokend::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kToken = "aaa.bbb.ccc";

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    policy_.leeway_seconds = 30;
    claims_.present = kClaimExp;
    claims_.exp = kNow + 3600;
  }

  Status Check(std::string_view request_audience = "", const RevocationList* revoked = nullptr,
               int64_t now = kNow) {
    claims_.aud = std::span<const std::string_view>(aud_.data(), aud_.size());
    return CheckClaims(policy_, claims_, kToken, request_audience, revoked, now);
  }
  void SetAud(std::vector<std::string_view> aud) {
    aud_ = std::move(aud);
    claims_.present |= kClaimAud;
  }

  Policy policy_;
  ClaimsView claims_;
  std::vector<std::string_view> aud_;
};

TEST_F(PolicyTest, DefaultPolicyAcceptsAnUnexpiredToken) { EXPECT_EQ(Check(), Status::kOk); }

TEST_F(PolicyTest, RequiredClaimsMustBePresent) {
  claims_.present = 0;
  EXPECT_EQ(Check(), Status::kMissingClaim);  // exp is required by default
  policy_.required_claims = 0;
  EXPECT_EQ(Check(), Status::kOk);
  policy_.required_claims = kClaimExp | kClaimSub | kClaimJti;
  claims_.present = kClaimExp | kClaimSub;
  EXPECT_EQ(Check(), Status::kMissingClaim);
  claims_.present |= kClaimJti;
  EXPECT_EQ(Check(), Status::kOk);
}

TEST_F(PolicyTest, MissingClaimComesBeforeExpiry) {
  policy_.required_claims = kClaimExp | kClaimSub;
  claims_.exp = 0;
  EXPECT_EQ(Check(), Status::kMissingClaim);
}

// exp <= now - leeway is expired; one second later is not.
TEST_F(PolicyTest, ExpiryEdgeWithLeeway) {
  claims_.exp = kNow - 30;
  EXPECT_EQ(Check(), Status::kExpired);
  claims_.exp = kNow - 31;
  EXPECT_EQ(Check(), Status::kExpired);
  claims_.exp = kNow - 29;
  EXPECT_EQ(Check(), Status::kOk);
  policy_.leeway_seconds = 0;
  claims_.exp = kNow;
  EXPECT_EQ(Check(), Status::kExpired);
  claims_.exp = kNow + 1;
  EXPECT_EQ(Check(), Status::kOk);
}

// nbf > now + leeway is not yet valid; nbf == now + leeway is valid.
TEST_F(PolicyTest, NotBeforeEdgeWithLeeway) {
  claims_.present |= kClaimNbf;
  claims_.nbf = kNow + 30;
  EXPECT_EQ(Check(), Status::kOk);
  claims_.nbf = kNow + 31;
  EXPECT_EQ(Check(), Status::kNotYetValid);
  policy_.leeway_seconds = 0;
  claims_.nbf = kNow;
  EXPECT_EQ(Check(), Status::kOk);
  claims_.nbf = kNow + 1;
  EXPECT_EQ(Check(), Status::kNotYetValid);
}

TEST_F(PolicyTest, IssuedAtCheckedOnlyWhenEnabled) {
  claims_.present |= kClaimIat;
  claims_.iat = kNow + 31;
  EXPECT_EQ(Check(), Status::kOk);
  policy_.check_iat = true;
  EXPECT_EQ(Check(), Status::kNotYetValid);
  claims_.iat = kNow + 30;
  EXPECT_EQ(Check(), Status::kOk);
  claims_.present &= ~kClaimIat;
  claims_.iat = kNow + 1000;  // absent: ignored
  EXPECT_EQ(Check(), Status::kOk);
}

TEST_F(PolicyTest, AbsentTimesAreNotChecked) {
  policy_.required_claims = 0;
  claims_.present = 0;
  claims_.exp = 0;
  claims_.nbf = kNow + 100000;
  EXPECT_EQ(Check(), Status::kOk);
}

TEST_F(PolicyTest, ExtremeTimesDoNotOverflow) {
  policy_.leeway_seconds = INT64_MAX;
  claims_.exp = INT64_MIN + 1;
  EXPECT_EQ(Check("", nullptr, INT64_MIN + 5), Status::kOk);
  claims_.present |= kClaimNbf;
  claims_.nbf = INT64_MAX;
  claims_.exp = INT64_MAX;
  EXPECT_EQ(Check("", nullptr, INT64_MAX - 5), Status::kOk);
  policy_.leeway_seconds = 0;
  claims_.exp = INT64_MIN;
  EXPECT_EQ(Check("", nullptr, INT64_MIN), Status::kExpired);
  claims_.exp = INT64_MAX;
  EXPECT_EQ(Check("", nullptr, INT64_MAX), Status::kExpired);
}

TEST_F(PolicyTest, IssuerCheckedWhenConfigured) {
  claims_.present |= kClaimIss;
  claims_.iss = "https://evil.example";
  EXPECT_EQ(Check(), Status::kOk);
  policy_.issuers = {"https://idp.example", "https://idp2.example"};
  EXPECT_EQ(Check(), Status::kIssuerMismatch);
  claims_.iss = "https://idp2.example";
  EXPECT_EQ(Check(), Status::kOk);
  claims_.iss = "https://idp.example/";
  EXPECT_EQ(Check(), Status::kIssuerMismatch);
  claims_.present &= ~kClaimIss;
  claims_.iss = "";
  EXPECT_EQ(Check(), Status::kIssuerMismatch);
}

TEST_F(PolicyTest, NoAudienceConfiguredSkipsTheCheck) {
  EXPECT_EQ(Check(), Status::kOk);
  SetAud({"anything"});
  EXPECT_EQ(Check(), Status::kOk);
}

TEST_F(PolicyTest, ConfiguredAudienceMustAppearInAud) {
  policy_.audiences = {"api", "admin"};
  EXPECT_EQ(Check(), Status::kAudienceMismatch);  // no aud at all
  SetAud({});
  EXPECT_EQ(Check(), Status::kAudienceMismatch);  // empty array
  SetAud({"other"});
  EXPECT_EQ(Check(), Status::kAudienceMismatch);
  SetAud({"other", "admin"});
  EXPECT_EQ(Check(), Status::kOk);
  SetAud({"api"});
  EXPECT_EQ(Check(), Status::kOk);
  SetAud({"API", "ap", "api "});
  EXPECT_EQ(Check(), Status::kAudienceMismatch);
}

TEST_F(PolicyTest, RequestAudienceReplacesConfiguredAudiences) {
  policy_.audiences = {"api"};
  SetAud({"api"});
  EXPECT_EQ(Check("billing"), Status::kAudienceMismatch);
  SetAud({"api", "billing"});
  EXPECT_EQ(Check("billing"), Status::kOk);
  policy_.audiences.clear();
  SetAud({"api"});
  EXPECT_EQ(Check("billing"), Status::kAudienceMismatch);
  claims_.present &= ~kClaimAud;
  aud_.clear();
  EXPECT_EQ(Check("billing"), Status::kAudienceMismatch);
}

TEST_F(PolicyTest, RevokedTokenOrJti) {
  const auto revoked = RevocationList::Parse("jti-bad\naaa.bbb.ccc\n");
  EXPECT_EQ(Check("", revoked.get()), Status::kRevoked);  // the token itself
  const auto by_jti = RevocationList::Parse("jti-bad\n");
  EXPECT_EQ(Check("", by_jti.get()), Status::kOk);
  claims_.present |= kClaimJti;
  claims_.jti = "jti-bad";
  EXPECT_EQ(Check("", by_jti.get()), Status::kRevoked);
  claims_.jti = "jti-good";
  EXPECT_EQ(Check("", by_jti.get()), Status::kOk);
  EXPECT_EQ(Check("", nullptr), Status::kOk);
  EXPECT_EQ(Check("", RevocationList::Empty().get()), Status::kOk);
}

TEST_F(PolicyTest, ChecksInDocumentedOrder) {
  policy_.issuers = {"i"};
  policy_.audiences = {"a"};
  const auto revoked = RevocationList::Parse("aaa.bbb.ccc");
  claims_.exp = kNow - 1000;
  claims_.present |= kClaimNbf;
  claims_.nbf = kNow + 1000;
  EXPECT_EQ(Check("", revoked.get()), Status::kExpired);
  claims_.exp = kNow + 1000;
  EXPECT_EQ(Check("", revoked.get()), Status::kNotYetValid);
  claims_.nbf = kNow;
  EXPECT_EQ(Check("", revoked.get()), Status::kIssuerMismatch);
  claims_.present |= kClaimIss;
  claims_.iss = "i";
  EXPECT_EQ(Check("", revoked.get()), Status::kAudienceMismatch);
  SetAud({"a"});
  EXPECT_EQ(Check("", revoked.get()), Status::kRevoked);
  EXPECT_EQ(Check("", nullptr), Status::kOk);
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// ExtAuthz (daemon/server/grpc): CheckRequest in, CheckResponse out, over
// the fake validator.
#include <atomic>
#include <string>

#include "daemon/server/grpc/ext_authz_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/fake_validator.h"

namespace tokend::server::grpcfront {
namespace {

using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;
using testing::FakeValidator;

CheckRequest Request(const std::string& authorization, const std::string& audience = "",
                     const std::string& path = "/orders") {
  CheckRequest req;
  auto* http = req.mutable_attributes()->mutable_request()->mutable_http();
  http->set_path(path);
  if (!authorization.empty()) (*http->mutable_headers())["authorization"] = authorization;
  if (!audience.empty()) {
    (*req.mutable_attributes()->mutable_context_extensions())["audience"] = audience;
  }
  return req;
}

std::string Header(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& hs,
    const std::string& key) {
  for (const auto& h : hs) {
    if (h.header().key() == key) return h.header().value();
  }
  return "<absent>";
}

class ExtAuthzTest : public ::testing::Test {
 protected:
  ExtAuthz authz_{[this] { return std::make_unique<FakeValidator>(&calls_); },
                  ExtAuthzOptions{{"api", "billing"}}};
  std::atomic<uint64_t> calls_{0};
};

TEST_F(ExtAuthzTest, AllowedSetsHeadersAndMetadata) {
  CheckResponse res;
  authz_.Check(Request("Bearer ok:alice"), &res);
  EXPECT_EQ(res.status().code(), 0);
  ASSERT_TRUE(res.has_ok_response());
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-subject"), "alice");
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-expires"),
            std::to_string(testing::kFakeExp));
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-claims"), "<absent>");
  ASSERT_EQ(res.ok_response().headers_to_remove_size(), 1);
  EXPECT_EQ(res.ok_response().headers_to_remove(0), "x-auth-claims");
  for (const auto& h : res.ok_response().headers()) {
    EXPECT_EQ(h.append_action(),
              envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
  EXPECT_EQ(res.dynamic_metadata().fields().at("subject").string_value(), "alice");
  EXPECT_EQ(res.dynamic_metadata().fields().at("expires").number_value(),
            static_cast<double>(testing::kFakeExp));
  const ServiceStats s = authz_.stats();
  EXPECT_EQ(s.validate_requests, 1u);
  EXPECT_EQ(s.responses_by_status[0], 1u);
  EXPECT_EQ(s.latency.count, 1u);
}

TEST_F(ExtAuthzTest, RefusedIsUnauthenticated401WithReason) {
  CheckResponse res;
  authz_.Check(Request("Bearer exp"), &res);
  EXPECT_EQ(res.status().code(), 16);
  EXPECT_EQ(res.status().message(), "EXPIRED");
  ASSERT_TRUE(res.has_denied_response());
  EXPECT_EQ(res.denied_response().status().code(), envoy::type::v3::Unauthorized);
  EXPECT_EQ(Header(res.denied_response().headers(), "x-ext-auth-reason"), "EXPIRED");
  EXPECT_EQ(Header(res.denied_response().headers(), "www-authenticate"),
            "Bearer realm=\"tokend\", error=\"invalid_token\", error_description=\"EXPIRED\"");
  EXPECT_FALSE(res.has_dynamic_metadata());
}

TEST_F(ExtAuthzTest, NoTokenIsMissingTokenWithoutValidating) {
  CheckResponse res;
  authz_.Check(Request(""), &res);
  EXPECT_EQ(res.status().code(), 16);
  EXPECT_EQ(Header(res.denied_response().headers(), "x-ext-auth-reason"), "MISSING_TOKEN");
  EXPECT_EQ(Header(res.denied_response().headers(), "www-authenticate"), "Bearer realm=\"tokend\"");
  EXPECT_EQ(calls_.load(), 0u);
  EXPECT_EQ(authz_.stats().missing_token, 1u);
}

TEST_F(ExtAuthzTest, RawHeaderMapAndPathQueryAreSources) {
  CheckRequest req = Request("");
  auto* raw = req.mutable_attributes()->mutable_request()->mutable_http()->mutable_header_map();
  auto* h = raw->add_headers();
  h->set_key("dapr-api-token");
  h->set_raw_value("ok:raw");
  CheckResponse res;
  authz_.Check(req, &res);
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-subject"), "raw");

  CheckResponse q;
  authz_.Check(Request("", "", "/x?accessToken=ok%3Aq"), &q);
  EXPECT_EQ(Header(q.ok_response().headers(), "x-auth-subject"), "q");

  CheckResponse bad;
  authz_.Check(Request("", "", "/x?accessToken=%zz"), &bad);
  EXPECT_EQ(bad.status().code(), 3);
  EXPECT_EQ(bad.denied_response().status().code(), envoy::type::v3::BadRequest);
  EXPECT_EQ(authz_.stats().protocol_errors, 1u);
}

TEST_F(ExtAuthzTest, AudienceExtensionOnlyNarrowsToConfiguredOnes) {
  CheckResponse ok;
  authz_.Check(Request("Bearer ok:a", "billing"), &ok);
  EXPECT_EQ(ok.status().code(), 0);
  const uint64_t before = calls_.load();
  CheckResponse widened;
  authz_.Check(Request("Bearer ok:a", "other"), &widened);
  EXPECT_EQ(widened.status().code(), 16);
  EXPECT_EQ(Header(widened.denied_response().headers(), "x-ext-auth-reason"), "AUDIENCE_MISMATCH");
  EXPECT_EQ(calls_.load(), before) << "validated an audience outside the configured ones";
}

TEST_F(ExtAuthzTest, ClaimsExtension) {
  CheckRequest req = Request("Bearer ok:alice", "api");
  (*req.mutable_attributes()->mutable_context_extensions())["claims"] = "true";
  CheckResponse res;
  authz_.Check(req, &res);
  // base64url of {"sub":"alice","aud":"api"}
  EXPECT_EQ(Header(res.ok_response().headers(), "x-auth-claims"),
            "eyJzdWIiOiJhbGljZSIsImF1ZCI6ImFwaSJ9");
  EXPECT_EQ(res.ok_response().headers_to_remove_size(), 0);
  (*req.mutable_attributes()->mutable_context_extensions())["claims"] = "maybe";
  CheckResponse bad;
  authz_.Check(req, &bad);
  EXPECT_EQ(bad.status().code(), 3);
}

TEST_F(ExtAuthzTest, UnsafeSubjectIsRefusedAsMalformed) {
  CheckResponse res;
  authz_.Check(Request("Bearer ok:a\x01"), &res);
  EXPECT_EQ(Header(res.denied_response().headers(), "x-ext-auth-reason"), "MALFORMED");
}

}  // namespace
}  // namespace tokend::server::grpcfront

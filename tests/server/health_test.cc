// SPDX-License-Identifier: Apache-2.0
// Tests for the /healthz body: the status code rules, the exact shape a
// probe reads, and that any reason still gives valid JSON.
#include "daemon/server/health.h"

#include <gtest/gtest.h>

#include <string>

#include "simdjson.h"

namespace tokend::server {
namespace {

// Parses `body` as JSON (the DOM parser validates all of it).
simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element root;
  const auto err = parser.parse(body).get(root);
  EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err) << ": " << body;
  return root;
}

TEST(HealthTest, KeysLoadedAndReloadOkIs200) {
  HealthSnapshot h;
  h.keys_loaded = 2;
  h.last_good_load_unix = 1700000000;
  std::string body;
  EXPECT_EQ(AppendHealthJson(h, &body), 200);
  EXPECT_EQ(body, R"({"status":"ok","keys":2,"keys_reload":"ok","last_good_load":1700000000})"
                  "\n");
}

// The keys in force still validate: a failed reload is reported, not a 503.
TEST(HealthTest, FailedReloadWithKeysIsDegradedYet200) {
  HealthSnapshot h;
  h.keys_loaded = 3;
  h.reload_failed = true;
  h.reload_failure = "/etc/tokend/keys/k3: 16 bytes; HS256 needs 32";
  h.failing_since_unix = 1700000600;
  h.last_good_load_unix = 1700000000;
  std::string body;
  EXPECT_EQ(AppendHealthJson(h, &body), 200);
  EXPECT_EQ(body, R"({"status":"degraded","keys":3,"keys_reload":"failed","reason":")"
                  R"(/etc/tokend/keys/k3: 16 bytes; HS256 needs 32","failing_since":1700000600,)"
                  R"("last_good_load":1700000000})"
                  "\n");
}

TEST(HealthTest, NoKeysIs503WhateverTheReload) {
  HealthSnapshot h;
  std::string body;
  EXPECT_EQ(AppendHealthJson(h, &body), 503);
  EXPECT_EQ(body, R"({"status":"unavailable","keys":0,"keys_reload":"ok","last_good_load":0})"
                  "\n");
  h.reload_failed = true;
  h.reload_failure = "keys path /k is unavailable: No such file or directory";
  body.clear();
  EXPECT_EQ(AppendHealthJson(h, &body), 503);
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, body);
  EXPECT_EQ(std::string_view(root["status"].get_string().value_unsafe()), "unavailable");
  EXPECT_EQ(std::string_view(root["keys_reload"].get_string().value_unsafe()), "failed");
}

// A file name may hold any byte: quotes, backslashes, control characters
// and bytes that are not UTF-8 still give valid JSON that says the same.
TEST(HealthTest, AnyReasonGivesValidJson) {
  std::string reason = "/k/a\"b\\c\nd\te\x01";
  reason += "\xff\xc3";
  reason += "/k/\xc3\xa9: bad";
  HealthSnapshot h;
  h.keys_loaded = 1;
  h.reload_failed = true;
  h.reload_failure = reason;
  std::string body;
  AppendHealthJson(h, &body);
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, body);
  std::string expect = "/k/a\"b\\c\nd\te\x01";
  expect += "\xc3\xbf\xc3\x83/k/\xc3\x83\xc2\xa9: bad";  // each byte as U+00XX
  EXPECT_EQ(std::string_view(root["reason"].get_string().value_unsafe()), expect);
  EXPECT_EQ(body.find('\n'), body.size() - 1) << "one line";
}

TEST(HealthTest, LongReasonIsCut) {
  const std::string reason(5000, 'r');
  HealthSnapshot h;
  h.keys_loaded = 1;
  h.reload_failed = true;
  h.reload_failure = reason;
  std::string body;
  AppendHealthJson(h, &body);
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, body);
  EXPECT_EQ(std::string_view(root["reason"].get_string().value_unsafe()),
            std::string(kMaxHealthReasonBytes, 'r') + "...");
}

}  // namespace
}  // namespace tokend::server

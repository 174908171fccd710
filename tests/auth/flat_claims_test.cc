// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/flat_claims.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "daemon/auth/claims.h"
#include "daemon/auth/json_dup.h"
#include "tests/auth/claims_compare.h"

namespace tokend::auth {
namespace {

// Runs ScanFlatClaims on a padded copy of `json`, with fresh scratch. The
// padding is filled with bytes that would end a string ('"') so that a scan
// which ran past the end would find a plausible terminator there.
struct Scan {
  explicit Scan(std::string_view json) : buf(json) {
    buf.append(kJsonPadding, '"');
    result = ScanFlatClaims(std::string_view(buf.data(), json.size()), dups, audiences, &view);
  }
  std::string buf;
  DuplicateMemberChecker dups;
  std::vector<std::string_view> audiences;
  ClaimsView view;
  FlatScan result;
};

TEST(FlatClaimsTest, ScansTheUsualShape) {
  const Scan s(R"({"iss":"https://idp.example","sub":"user-1234567890","aud":"api.example",)"
               R"("iat":1700000000,"exp":4102444800,"jti":"a1b2c3d4e5"})");
  ASSERT_EQ(s.result, FlatScan::kScanned);
  EXPECT_EQ(s.view.present, kClaimIss | kClaimSub | kClaimAud | kClaimIat | kClaimExp | kClaimJti);
  EXPECT_EQ(s.view.iss, "https://idp.example");
  EXPECT_EQ(s.view.sub, "user-1234567890");
  ASSERT_EQ(s.view.aud.size(), 1u);
  EXPECT_EQ(s.view.aud[0], "api.example");
  EXPECT_EQ(s.view.iat, 1700000000);
  EXPECT_EQ(s.view.exp, 4102444800);
  EXPECT_EQ(s.view.jti, "a1b2c3d4e5");
  // Views point into the input itself.
  EXPECT_GE(s.view.iss.data(), s.buf.data());
  EXPECT_LT(s.view.iss.data(), s.buf.data() + s.buf.size());
}

TEST(FlatClaimsTest, ScansWhitespaceArraysLiteralsAndOtherMembers) {
  const Scan s(
      " {\n \"aud\" : [ \"a\" , \"b\" ] ,\t\"nbf\":-5,\"scope\":\"read write\","
      "\"admin\":false,\"x\":null,\"y\":true,\"roles\":[1,\"r\",null,-0],\"e\":[],"
      "\"n\":0,\"long\":\"" +
      std::string(100, 'z') + "\",\"del\":\"\x7f\"}\r\n");
  ASSERT_EQ(s.result, FlatScan::kScanned);
  EXPECT_EQ(s.view.present, kClaimAud | kClaimNbf);
  ASSERT_EQ(s.view.aud.size(), 2u);
  EXPECT_EQ(s.view.aud[1], "b");
  EXPECT_EQ(s.view.nbf, -5);
  EXPECT_TRUE(Scan("{}").result == FlatScan::kScanned);
  EXPECT_TRUE(Scan(R"({"aud":[]})").result == FlatScan::kScanned);
  EXPECT_EQ(Scan(R"({"exp":999999999999999999})").view.exp, 999999999999999999);
}

// Everything outside the flat shape is left to the DOM parser, valid or not:
// the scanner never refuses, it declines.
TEST(FlatClaimsTest, DeclinesEverythingElse) {
  for (std::string_view json : {
           // Valid JSON the DOM path must judge (and type, round or unescape).
           R"({"sub":"a\"b"})",
           R"({"s\u0075b":"x"})",
           "{\"sub\":\"\xc3\xa9\"}",
           R"({"exp":1.5})",
           R"({"exp":1e9})",
           R"({"exp":1E9})",
           R"({"exp":9223372036854775807})",
           R"({"exp":1000000000000000000})",
           R"({"x":{"a":1}})",
           R"({"x":[[1]]})",
           R"({"x":[{}]})",
           R"({"aud":[1]})",
           // Invalid JSON or wrong types: the DOM path refuses these.
           "",
           "[]",
           R"({"exp":"1"})",
           R"({"sub":1})",
           R"({"aud":null})",
           R"({"exp":01})",
           R"({"exp":-})",
           R"({"exp":1,"exp":1})",
           R"({"x":1,"x":2})",
           R"({"a":1,})",
           R"({"a":tru})",
           R"({"a":truex})",
           R"({"a":1 2})",
           R"({"a":1}{})",
           R"({"a":1})"
           "\"",
           R"({"a":"unterminated})",
           "{\"a\":\"\t\"}",
           "{\"a\":\"\x01\"}",
           R"({"a":1)",
           R"({"a")",
       }) {
    EXPECT_EQ(Scan(json).result, FlatScan::kDeclined) << json;
  }
  EXPECT_EQ(Scan(std::string(R"({"a":1})") + '\0').result, FlatScan::kDeclined);
  EXPECT_EQ(Scan(std::string(R"({"a":"x)") + '\0' + "\"}").result, FlatScan::kDeclined);
}

// A string that reaches the end of the input is unterminated, whatever the
// padding after the end holds, at every length around the 16-byte chunks.
TEST(FlatClaimsTest, NeverReadsAStringPastTheEnd) {
  for (size_t n = 0; n < 140; ++n) {
    const std::string json = "{\"sub\":\"" + std::string(n, 'a');
    EXPECT_EQ(Scan(json).result, FlatScan::kDeclined) << n;
    const Scan whole(json + "\"}");
    ASSERT_EQ(whole.result, FlatScan::kScanned) << n;
    EXPECT_EQ(whole.view.sub.size(), n);
  }
}

// Random documents built from both shapes: whatever the scanner does with
// them, ClaimsParser must answer exactly as the DOM parser alone does.
TEST(FlatClaimsTest, AgreesWithTheDomParserOnRandomDocuments) {
  std::mt19937 rng(20261123);
  const std::vector<std::string> names = {"exp", "nbf", "iat", "iss", "sub", "aud", "jti", "x", "y",
                                          "", "\\u0065xp", "sc\\\"ope",
                                          // Three raw bytes, as registered names have, that
                                          // are not plain: the short-name path must decline.
                                          "abc", "e\x01p", "\\\\x", "\xc3\xa9x"};
  const std::vector<std::string> values = {
      "1",
      "-7",
      "1700000000",
      "0",
      "01",
      "1.5",
      "-0",
      "1e3",
      "true",
      "false",
      "null",
      "\"s\"",
      "\"\"",
      "\"a\\nb\"",
      "[]",
      "[\"a\",\"b\"]",
      "[1,2]",
      "[\"a\",1]",
      "{}",
      "{\"a\":1}",
      "[[]]",
      "tru",
      "\"\xc3\xa9\"",
      "\"\xff\"",
      "99999999999999999999",
      "-",
  };
  const std::vector<std::string> glue = {",", ",", ",", ", ", " ,", ",\n", ",,", ""};
  ClaimsParser flat;
  ClaimsParser dom(ClaimsParser::Path::kDomOnly);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string json = rng() % 20 == 0 ? " {" : "{";
    const int members = static_cast<int>(rng() % 6);
    for (int m = 0; m < members; ++m) {
      if (m > 0) json += glue[rng() % glue.size()];
      json += "\"" + names[rng() % names.size()] + "\":" + values[rng() % values.size()];
    }
    json += rng() % 30 == 0 ? "" : "}";
    if (rng() % 30 == 0) json += rng() % 2 ? " " : "x";
    ClaimsView a, b;
    const Status sa = flat.ParseUnpadded(json, &a);
    const Status sb = dom.ParseUnpadded(json, &b);
    ASSERT_EQ(sa, sb) << json;
    ExpectSameClaims(a, b, json);
    if (HasFailure()) return;
    if (sa == Status::kOk) ++accepted;
  }
  // The generator must reach accepted documents, or it tests only refusals.
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace tokend::auth

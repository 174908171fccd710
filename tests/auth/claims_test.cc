// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/claims.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/auth/claims_compare.h"

namespace tokend::auth {
namespace {

// Parses through ParseUnpadded (which copies), through Parse on a padded
// buffer, and through the DOM parser alone (no flat fast path); all three
// must agree, status and every claim.
class ClaimsTest : public ::testing::Test {
 protected:
  Status Parse(std::string_view json) {
    const Status unpadded = parser_.ParseUnpadded(json, &view_);
    buf_.assign(json);
    buf_.append(kJsonPadding, '\0');
    ClaimsParser other;
    ClaimsView padded_view;
    const Status padded = other.Parse(std::string_view(buf_.data(), json.size()), &padded_view);
    EXPECT_EQ(unpadded, padded) << json;
    ExpectSameClaims(view_, padded_view, json);
    ClaimsParser dom(ClaimsParser::Path::kDomOnly);
    ClaimsView dom_view;
    const Status dom_status = dom.ParseUnpadded(json, &dom_view);
    EXPECT_EQ(unpadded, dom_status) << json;
    ExpectSameClaims(view_, dom_view, json);
    return unpadded;
  }

  ClaimsParser parser_;
  ClaimsView view_;
  std::string buf_;
};

std::vector<std::string> Aud(const ClaimsView& v) { return {v.aud.begin(), v.aud.end()}; }

TEST_F(ClaimsTest, ParsesRegisteredClaims) {
  ASSERT_EQ(Parse(R"({"iss":"https://idp.example","sub":"user-1","aud":"api","iat":1700000000,)"
                  R"("nbf":1700000001,"exp":4102444800,"jti":"j1","extra":{"a":[1,2]}})"),
            Status::kOk);
  EXPECT_EQ(view_.present,
            kClaimExp | kClaimNbf | kClaimIat | kClaimIss | kClaimSub | kClaimAud | kClaimJti);
  EXPECT_EQ(view_.iss, "https://idp.example");
  EXPECT_EQ(view_.sub, "user-1");
  EXPECT_EQ(Aud(view_), std::vector<std::string>{"api"});
  EXPECT_EQ(view_.iat, 1700000000);
  EXPECT_EQ(view_.nbf, 1700000001);
  EXPECT_EQ(view_.exp, 4102444800);
  EXPECT_EQ(view_.jti, "j1");
}

TEST_F(ClaimsTest, EmptyObjectHasNoClaims) {
  ASSERT_EQ(Parse("{}"), Status::kOk);
  EXPECT_EQ(view_.present, 0u);
  EXPECT_TRUE(view_.aud.empty());
  ASSERT_EQ(Parse(" \t\r\n{ }\n"), Status::kOk);
}

TEST_F(ClaimsTest, ResetsBetweenParses) {
  ASSERT_EQ(Parse(R"({"exp":5,"aud":["a","b"],"iss":"i"})"), Status::kOk);
  ASSERT_EQ(Parse(R"({"sub":"s"})"), Status::kOk);
  EXPECT_EQ(view_.present, kClaimSub);
  EXPECT_TRUE(view_.aud.empty());
  EXPECT_TRUE(view_.iss.empty());
  EXPECT_EQ(view_.exp, 0);
}

TEST_F(ClaimsTest, FailedParseLeavesAnEmptyView) {
  ASSERT_EQ(Parse(R"({"exp":5,"aud":"a","iss":1})"), Status::kMalformed);
  EXPECT_EQ(view_.present, 0u);
  EXPECT_TRUE(view_.aud.empty());
}

TEST_F(ClaimsTest, UnescapesStrings) {
  ASSERT_EQ(Parse(R"({"sub":"a\"b\\c\u00e9\ud83d\ude00","iss":"\/x"})"), Status::kOk);
  EXPECT_EQ(view_.sub, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(view_.iss, "/x");
}

TEST_F(ClaimsTest, AudienceStringOrArrayOfStrings) {
  ASSERT_EQ(Parse(R"({"aud":"one"})"), Status::kOk);
  EXPECT_EQ(Aud(view_), std::vector<std::string>{"one"});
  ASSERT_EQ(Parse(R"({"aud":["one","two","three"]})"), Status::kOk);
  EXPECT_EQ(Aud(view_), (std::vector<std::string>{"one", "two", "three"}));
  ASSERT_EQ(Parse(R"({"aud":[]})"), Status::kOk);
  EXPECT_TRUE(view_.has(kClaimAud));
  EXPECT_TRUE(view_.aud.empty());
  ASSERT_EQ(Parse(R"({"aud":""})"), Status::kOk);
  EXPECT_EQ(Aud(view_), std::vector<std::string>{""});
  std::string many = R"({"aud":[)";
  for (int i = 0; i < 100; ++i) many += (i ? ",\"a" : "\"a") + std::to_string(i) + "\"";
  many += "]}";
  ASSERT_EQ(Parse(many), Status::kOk);
  ASSERT_EQ(view_.aud.size(), 100u);
  EXPECT_EQ(view_.aud[99], "a99");
}

TEST_F(ClaimsTest, AudienceOfAnyOtherTypeIsMalformed) {
  for (std::string_view json :
       {R"({"aud":1})", R"({"aud":null})", R"({"aud":true})", R"({"aud":{"a":"b"}})",
        R"({"aud":["a",1]})", R"({"aud":["a",null]})", R"({"aud":[["a"]]})",
        R"({"aud":[{"a":"b"}]})", R"({"aud":[false]})"}) {
    EXPECT_EQ(Parse(json), Status::kMalformed) << json;
  }
}

TEST_F(ClaimsTest, StringClaimsOfAnyOtherTypeAreMalformed) {
  for (std::string_view name : {"iss", "sub", "jti"}) {
    for (std::string_view value : {"1", "null", "true", "false", "[]", "[\"a\"]", "{}", "1.5"}) {
      const std::string json = "{\"" + std::string(name) + "\":" + std::string(value) + "}";
      EXPECT_EQ(Parse(json), Status::kMalformed) << json;
    }
  }
}

TEST_F(ClaimsTest, NumericDatesAcceptIntegersAndFiniteFloats) {
  ASSERT_EQ(Parse(R"({"exp":0,"nbf":-5,"iat":9223372036854775807})"), Status::kOk);
  EXPECT_EQ(view_.exp, 0);
  EXPECT_EQ(view_.nbf, -5);
  EXPECT_EQ(view_.iat, INT64_MAX);
  ASSERT_EQ(Parse(R"({"exp":-9223372036854775808})"), Status::kOk);
  EXPECT_EQ(view_.exp, INT64_MIN);
  ASSERT_EQ(Parse(R"({"exp":-0,"nbf":-0.0,"iat":0.0})"), Status::kOk);
  EXPECT_EQ(view_.exp, 0);
  EXPECT_EQ(view_.nbf, 0);
  EXPECT_EQ(view_.iat, 0);
  ASSERT_EQ(Parse(R"({"exp":1.7e9,"nbf":1E2,"iat":2e+0})"), Status::kOk);
  EXPECT_EQ(view_.exp, 1700000000);
  EXPECT_EQ(view_.nbf, 100);
  EXPECT_EQ(view_.iat, 2);
  ASSERT_EQ(Parse(R"({"exp":1e-400})"), Status::kOk);  // underflows to 0
  EXPECT_EQ(view_.exp, 0);
}

// exp rounds down, nbf and iat round up: rounding never lengthens a life.
TEST_F(ClaimsTest, NumericDateRoundingIsConservative) {
  ASSERT_EQ(Parse(R"({"exp":100.9,"nbf":100.1,"iat":100.5})"), Status::kOk);
  EXPECT_EQ(view_.exp, 100);
  EXPECT_EQ(view_.nbf, 101);
  EXPECT_EQ(view_.iat, 101);
  ASSERT_EQ(Parse(R"({"exp":-100.1,"nbf":-100.9,"iat":-0.5})"), Status::kOk);
  EXPECT_EQ(view_.exp, -101);
  EXPECT_EQ(view_.nbf, -100);
  EXPECT_EQ(view_.iat, 0);
  ASSERT_EQ(Parse(R"({"exp":1e0,"nbf":12.0e-1})"), Status::kOk);
  EXPECT_EQ(view_.exp, 1);
  EXPECT_EQ(view_.nbf, 2);
}

TEST_F(ClaimsTest, NumericDatesOfAnyOtherTypeOrOutOfRangeAreMalformed) {
  for (std::string_view name : {"exp", "nbf", "iat"}) {
    for (std::string_view value : {
             "\"1700000000\"",
             "null",
             "true",
             "false",
             "[]",
             "[1]",
             "{}",
             "9223372036854775808",   // INT64_MAX + 1
             "18446744073709551615",  // UINT64_MAX
             "-9223372036854775809",  // INT64_MIN - 1
             "1e19",
             "-1e19",
             "9.3e18",
             "1e300",
             "-1.5e308",
             "1e400",
             "-1e400",  // beyond double
             "123456789012345678901234567890",
             "NaN",
             "Infinity",
             "-Infinity",
             "01",
             "1.",
             ".5",
             "+1",
             "0x10",
             "1e",
             "--1",
         }) {
      const std::string json = "{\"" + std::string(name) + "\":" + std::string(value) + "}";
      EXPECT_EQ(Parse(json), Status::kMalformed) << json;
    }
  }
}

TEST_F(ClaimsTest, DuplicateMembersAreMalformedAtAnyDepth) {
  for (std::string_view json : {
           R"({"exp":1,"exp":1})",
           R"({"exp":1,"exp":2})",
           R"({"sub":"a","sub":"b"})",
           R"({"x":1,"x":1})",
           R"({"\u0065xp":1,"exp":2})",
           R"({"e\u0078p":1,"ex\u0070":2})",
           R"({"a":{"b":1,"b":2}})",
           R"({"a":[{"b":1},{"c":1,"c":1}]})",
           R"({"a":{"b":{"c":{"d":{"e":1,"\u0065":2}}}}})",
           R"({"":1,"":2})",
           R"({"a\u0000":1,"a\u0000":2})",
       }) {
    EXPECT_EQ(Parse(json), Status::kMalformed) << json;
  }
  // Every registered claim, repeated plainly, with an unknown member between
  // the two, or with its first letter escaped.
  for (std::string_view name : {"exp", "nbf", "iat", "iss", "sub", "aud", "jti"}) {
    const bool numeric = name == "exp" || name == "nbf" || name == "iat";
    const std::string value = numeric ? "1" : "\"v\"";
    const std::string member = "\"" + std::string(name) + "\":" + value;
    char escape[8];
    std::snprintf(escape, sizeof escape, "\\u%04x", name[0]);
    const std::string escaped =
        "\"" + std::string(escape) + std::string(name.substr(1)) + "\":" + value;
    EXPECT_EQ(Parse("{" + member + "," + member + "}"), Status::kMalformed) << member;
    EXPECT_EQ(Parse("{" + member + ",\"x\":0," + member + "}"), Status::kMalformed) << member;
    EXPECT_EQ(Parse("{" + member + "," + escaped + "}"), Status::kMalformed) << escaped;
    ASSERT_EQ(Parse("{" + escaped + "}"), Status::kOk) << escaped;
    EXPECT_EQ(view_.present, static_cast<uint32_t>(name == "exp"   ? kClaimExp
                                                   : name == "nbf" ? kClaimNbf
                                                   : name == "iat" ? kClaimIat
                                                   : name == "iss" ? kClaimIss
                                                   : name == "sub" ? kClaimSub
                                                   : name == "aud" ? kClaimAud
                                                                   : kClaimJti));
  }
  // Distinct names that only share length and first, middle and last bytes.
  ASSERT_EQ(Parse(R"({"abxcd":1,"abycd":2,"a\u0000":3,"a\u0001":4})"), Status::kOk);
  // The same name in sibling or nested objects is not a duplicate.
  ASSERT_EQ(Parse(R"({"exp":1,"a":{"exp":"x"},"b":[{"exp":1},{"exp":2}]})"), Status::kOk);
  EXPECT_EQ(view_.exp, 1);
}

TEST_F(ClaimsTest, DuplicatesFoundInLargeObjects) {
  for (int n : {15, 16, 17, 40, 300}) {
    std::string json = "{";
    for (int i = 0; i < n; ++i)
      json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    ASSERT_EQ(Parse(json + "}"), Status::kOk) << n;
    for (int dup : {0, n / 2, n - 1}) {
      const std::string with_dup = json + ",\"k" + std::to_string(dup) + "\":0}";
      EXPECT_EQ(Parse(with_dup), Status::kMalformed) << n << " " << dup;
      const std::string nested = "{\"x\":" + with_dup + "}";
      EXPECT_EQ(Parse(nested), Status::kMalformed) << n << " " << dup;
    }
  }
}

TEST_F(ClaimsTest, AnythingButExactlyOneObjectIsMalformed) {
  for (std::string_view json : {
           "",
           " ",
           "[]",
           "null",
           "1",
           "\"exp\"",
           "[{\"exp\":1}]",
           R"({"exp":1}{"exp":2})",
           R"({"exp":1}{})",
           R"({} {})",
           R"({"exp":1} x)",
           R"({"exp":1},)",
           R"({"exp":1}])",
           R"({"exp":1})"
           "\"",
           R"({"exp":1)",
           R"({"exp":1,})",
           R"({"exp" 1})",
           R"({"exp":})",
           R"({,"exp":1})",
           R"({exp:1})",
           R"({'exp':1})",
           R"({"exp":1 "sub":"a"})",
           R"({"a":[1,]})",
           R"({"a":[1 2]})",
           R"({"a":tru})",
           R"({"a":nul})",
           R"({"a":True})",
           R"({"a":undefined})",
           R"({"a":"\q"})",
           R"({"a":"\u12"})",
           R"({"a":"unterminated})",
           R"(/*c*/{})",
       }) {
    EXPECT_EQ(Parse(json), Status::kMalformed) << json;
  }
  EXPECT_EQ(Parse(std::string(R"({"exp":1})") + '\0'), Status::kMalformed);
  EXPECT_EQ(Parse(std::string(R"({"exp":1})") + std::string(3, '\0')), Status::kMalformed);
  EXPECT_EQ(Parse(std::string("\0{}", 3)), Status::kMalformed);
  EXPECT_EQ(Parse(std::string(R"({"sub":"a)") + '\0' + "b\"}"), Status::kMalformed);
}

TEST_F(ClaimsTest, InvalidUtf8AnywhereIsMalformed) {
  for (std::string_view json : {
           "{\"sub\":\"\xff\"}",
           "{\"sub\":\"\xc3\"}",                     // truncated sequence
           "{\"sub\":\"\xe2\x82\"}",                 // truncated sequence
           "{\"sub\":\"\xc0\x80\"}",                 // overlong NUL
           "{\"sub\":\"\xed\xa0\x80\"}",             // surrogate
           "{\"sub\":\"\xf4\x90\x80\x80\"}",         // above U+10FFFF
           "{\"unvisited\":{\"deep\":[\"\x80\"]}}",  // in a member nobody reads
           "{\"\xfe\":1}",                           // in a name
       }) {
    EXPECT_EQ(Parse(json), Status::kMalformed) << json;
  }
  ASSERT_EQ(Parse("{\"sub\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}"), Status::kOk);
}

TEST_F(ClaimsTest, BadEscapesAndControlCharactersAreMalformed) {
  for (std::string_view json : {
           R"({"sub":"\ud800"})",
           R"({"sub":"\udc00"})",
           R"({"sub":"\ud800\u0041"})",
           R"({"sub":"\x41"})",
           R"({"sub":"\U0041"})",
           "{\"sub\":\"\t\"}",
           "{\"sub\":\"\n\"}",
           "{\"sub\":\"\x01\"}",
           "{\"x\":[\"\x1f\"]}",
       }) {
    EXPECT_EQ(Parse(json), Status::kMalformed) << json;
  }
}

TEST_F(ClaimsTest, NumbersInUnknownMembersAreValidatedToo) {
  EXPECT_EQ(Parse(R"({"x":1e400})"), Status::kMalformed);
  EXPECT_EQ(Parse(R"({"x":[01]})"), Status::kMalformed);
  EXPECT_EQ(Parse(R"({"x":{"y":-}})"), Status::kMalformed);
  EXPECT_EQ(Parse(R"({"x":18446744073709551615,"y":-1.5e-300,"z":-0})"), Status::kOk);
}

TEST_F(ClaimsTest, DeepNestingIsBoundedNotFatal) {
  const auto nested = [](int depth) {
    return R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  EXPECT_EQ(Parse(nested(20)), Status::kOk);
  EXPECT_EQ(Parse(nested(63)), Status::kOk);  // kMaxJsonDepth levels with the top object
  EXPECT_EQ(Parse(nested(64)), Status::kMalformed);
  EXPECT_EQ(Parse(nested(100000)), Status::kMalformed);
  std::string objects = "{";
  for (int i = 0; i < 100000; ++i) objects += "\"a\":{";
  EXPECT_EQ(Parse(objects), Status::kMalformed);
}

TEST_F(ClaimsTest, UnpaddedViewsPointIntoParserBuffersNotTheInput) {
  std::string json = R"({"iss":"issuer","aud":["a1","a2"]})";
  ASSERT_EQ(parser_.ParseUnpadded(json, &view_), Status::kOk);
  json.assign(json.size(), 'X');
  EXPECT_EQ(view_.iss, "issuer");
  EXPECT_EQ(Aud(view_), (std::vector<std::string>{"a1", "a2"}));
}

TEST_F(ClaimsTest, LargePayloadGrowsTheParser) {
  std::string json = R"({"sub":")" + std::string(50000, 'x') + R"(","exp":7})";
  ASSERT_EQ(Parse(json), Status::kOk);
  EXPECT_EQ(view_.sub.size(), 50000u);
  EXPECT_EQ(view_.exp, 7);
  ASSERT_EQ(Parse(R"({"exp":8})"), Status::kOk);
  EXPECT_EQ(view_.exp, 8);
}

}  // namespace
}  // namespace tokend::auth

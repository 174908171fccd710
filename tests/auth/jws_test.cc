// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/jws.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

constexpr AlgSet kAll = AlgSet::AllHmac();

// SplitCompact ---------------------------------------------------------------

TEST(SplitCompactTest, SplitsThreeSegments) {
  JwsSegments s;
  ASSERT_EQ(SplitCompact("aGVh.cGF5.c2ln", &s), Status::kOk);
  EXPECT_EQ(s.header, "aGVh");
  EXPECT_EQ(s.payload, "cGF5");
  EXPECT_EQ(s.signature, "c2ln");
  EXPECT_EQ(s.signing_input, "aGVh.cGF5");
}

TEST(SplitCompactTest, AllowsEmptySegments) {
  JwsSegments s;
  ASSERT_EQ(SplitCompact("..", &s), Status::kOk);
  EXPECT_TRUE(s.header.empty());
  EXPECT_TRUE(s.payload.empty());
  EXPECT_TRUE(s.signature.empty());
  EXPECT_EQ(s.signing_input, ".");
  ASSERT_EQ(SplitCompact("a-_.b.", &s), Status::kOk);
  EXPECT_EQ(s.header, "a-_");
  EXPECT_EQ(s.signature, "");
}

TEST(SplitCompactTest, RejectsWrongSegmentCount) {
  JwsSegments s;
  for (std::string_view t : {"", "abc", "a.b", "a.b.c.d", "a.b.c.", "...", ".a.b.c"}) {
    EXPECT_EQ(SplitCompact(t, &s), Status::kMalformed) << t;
  }
}

TEST(SplitCompactTest, RejectsEveryForeignByteInEverySegment) {
  const std::string base =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  JwsSegments s;
  ASSERT_EQ(SplitCompact(base, &s), Status::kOk);
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t pos = 0; pos < base.size(); ++pos) {
    if (base[pos] == '.') continue;
    for (int c = 0; c < 256; ++c) {
      if (alphabet.find(static_cast<char>(c)) != std::string_view::npos || c == '.') continue;
      std::string t = base;
      t[pos] = static_cast<char>(c);
      ASSERT_EQ(SplitCompact(t, &s), Status::kMalformed) << "byte " << c << " at " << pos;
    }
  }
  // Padding and whitespace are foreign too.
  EXPECT_EQ(SplitCompact("YQ==.YQ.YQ", &s), Status::kMalformed);
  EXPECT_EQ(SplitCompact(" a.b.c", &s), Status::kMalformed);
  EXPECT_EQ(SplitCompact("a.b.c\n", &s), Status::kMalformed);
}

// HeaderParser ---------------------------------------------------------------

Status ParseJson(HeaderParser& p, std::string_view json, AlgSet allowed = kAll,
                 const JoseHeader** out = nullptr) {
  const JoseHeader* h = nullptr;
  const Status s = p.Parse(Base64UrlEncode(json), allowed, &h);
  if (out != nullptr) *out = h;
  return s;
}

TEST(HeaderParserTest, ParsesHmacHeaders) {
  HeaderParser p;
  const JoseHeader* h = nullptr;
  ASSERT_EQ(ParseJson(p, R"({"alg":"HS256","typ":"JWT"})", kAll, &h), Status::kOk);
  EXPECT_EQ(h->alg, Alg::kHS256);
  EXPECT_FALSE(h->has_kid);
  ASSERT_EQ(ParseJson(p, R"({"kid":"k-1","alg":"HS384"})", kAll, &h), Status::kOk);
  EXPECT_EQ(h->alg, Alg::kHS384);
  EXPECT_TRUE(h->has_kid);
  EXPECT_EQ(h->kid, "k-1");
  ASSERT_EQ(ParseJson(p, " {\"alg\" : \"HS512\" ,\"kid\":\"\\u00e9\\n\"}\r\n", kAll, &h),
            Status::kOk);
  EXPECT_EQ(h->alg, Alg::kHS512);
  EXPECT_EQ(h->kid, "\xc3\xa9\n");
  ASSERT_EQ(ParseJson(p, R"({"alg":"HS256","kid":""})", kAll, &h), Status::kOk);
  EXPECT_TRUE(h->has_kid);
  EXPECT_EQ(h->kid, "");
}

TEST(HeaderParserTest, IgnoresUnknownMembersAndHarmlessParameters) {
  HeaderParser p;
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256","x":[1,{"y":null}],"x5t":"abc","cty":"json"})"),
            Status::kOk);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256","typ":"at+jwt","foo":true,"bar":-1.5e3})"), Status::kOk);
}

TEST(HeaderParserTest, AlgMustBePresentAndAString) {
  HeaderParser p;
  for (std::string_view json :
       {R"({})", R"({"typ":"JWT"})", R"({"alg":null})", R"({"alg":256})", R"({"alg":["HS256"]})",
        R"({"alg":{"name":"HS256"}})", R"({"alg":true})"}) {
    EXPECT_EQ(ParseJson(p, json), Status::kMalformed) << json;
  }
}

TEST(HeaderParserTest, RefusesNoneInAnySpelling) {
  HeaderParser p;
  for (std::string_view alg : {"none", "None", "NONE", "nOnE", "noNe"}) {
    const std::string json = std::string(R"({"alg":")") + std::string(alg) + R"("})";
    EXPECT_EQ(ParseJson(p, json), Status::kAlgNotAllowed) << alg;
  }
}

TEST(HeaderParserTest, RefusesEveryAlgThatIsNotAnExactHmacName) {
  HeaderParser p;
  for (std::string_view alg :
       {"RS256",  "RS384", "RS512", "ES256",  "ES384", "ES512",  "PS256",
        "PS384",  "PS512", "EdDSA", "ES256K", "hs256", "Hs256",  "HS256 ",
        " HS256", "HS257", "HS",    "",       "dir",   "A128KW", "HS256\\u0000"}) {
    const std::string json = std::string(R"({"alg":")") + std::string(alg) + R"("})";
    EXPECT_EQ(ParseJson(p, json), Status::kAlgNotAllowed) << alg;
  }
}

TEST(HeaderParserTest, RefusesHmacAlgNotInAllowedSet) {
  HeaderParser p;
  AlgSet only256;
  only256.Add(Alg::kHS256);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256"})", only256), Status::kOk);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS384"})", only256), Status::kAlgNotAllowed);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS512"})", only256), Status::kAlgNotAllowed);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256"})", AlgSet()), Status::kAlgNotAllowed);
  // The same bytes, now answered from the memo, with another allowed set.
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS384"})", kAll), Status::kOk);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256"})", AlgSet()), Status::kAlgNotAllowed);
  // A refused but parsed header still names its alg, fresh and from the memo.
  for (int round = 0; round < 2; ++round) {
    const JoseHeader* h = nullptr;
    EXPECT_EQ(ParseJson(p, R"({"alg":"RS256","kid":"k"})", only256, &h), Status::kAlgNotAllowed);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->alg, Alg::kRS256);
  }
  const JoseHeader* none = nullptr;
  EXPECT_EQ(ParseJson(p, R"({"alg":"none"})", kAll, &none), Status::kAlgNotAllowed);
  EXPECT_EQ(none, nullptr);
}

TEST(HeaderParserTest, RefusesUnsupportedParameters) {
  HeaderParser p;
  for (std::string_view member : {R"("crit":["exp"])",
                                  R"("crit":[])",
                                  R"("b64":false)",
                                  R"("b64":true)",
                                  R"("jku":"https://x/jwks")",
                                  R"("x5u":"https://x/c")",
                                  R"("jwk":{"kty":"oct","k":"AA"})",
                                  R"("x5c":["MII"])",
                                  R"("enc":"A128GCM")",
                                  R"("zip":"DEF")",
                                  R"("epk":{})",
                                  R"("apu":"")",
                                  R"("apv":"")",
                                  R"("iv":"")",
                                  R"("tag":"")",
                                  R"("p2s":"")",
                                  R"("p2c":1000)",
                                  R"("cty":"JWT")",
                                  R"("cty":"jwt")",
                                  R"("cty":"jWt")"}) {
    const std::string json = std::string(R"({"alg":"HS256",)") + std::string(member) + "}";
    EXPECT_EQ(ParseJson(p, json), Status::kUnsupportedHeader) << member;
    // Twice: the second answer comes from the memo.
    EXPECT_EQ(ParseJson(p, json), Status::kUnsupportedHeader) << member;
  }
  // An escaped name is the same name.
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256","\u0063rit":["x"]})"), Status::kUnsupportedHeader);
}

TEST(HeaderParserTest, VerdictPrecedenceIsMalformedThenAlgThenUnsupported) {
  HeaderParser p;
  EXPECT_EQ(ParseJson(p, R"({"alg":"none","crit":["x"],"kid":1})"), Status::kMalformed);
  EXPECT_EQ(ParseJson(p, R"({"alg":"none","crit":["x"]})"), Status::kAlgNotAllowed);
  AlgSet only256;
  only256.Add(Alg::kHS256);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS384","jku":"x"})", only256), Status::kAlgNotAllowed);
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS384","jku":"x"})", kAll), Status::kUnsupportedHeader);
}

TEST(HeaderParserTest, MemberTypes) {
  HeaderParser p;
  for (std::string_view member :
       {R"("kid":1)", R"("kid":null)", R"("kid":["a"])", R"("kid":{})", R"("kid":true)",
        R"("typ":1)", R"("typ":null)", R"("typ":["JWT"])", R"("cty":2)", R"("cty":null)",
        R"("cty":{"a":"JWT"})"}) {
    const std::string json = std::string(R"({"alg":"HS256",)") + std::string(member) + "}";
    EXPECT_EQ(ParseJson(p, json), Status::kMalformed) << member;
  }
}

TEST(HeaderParserTest, RefusesDuplicateMembers) {
  HeaderParser p;
  for (std::string_view json : {
           R"({"alg":"HS256","alg":"HS256"})",
           R"({"alg":"HS256","alg":"none"})",
           R"({"alg":"HS256","kid":"a","kid":"b"})",
           R"({"\u0061lg":"HS256","alg":"HS256"})",
           R"({"alg":"HS256","k\u0069d":"a","kid":"a"})",
           R"({"alg":"HS256","x":1,"x":1})",
           R"({"alg":"HS256","x":{"y":1,"y":2}})",
           R"({"alg":"HS256","x":[{"a":1},{"b":1,"b":1}]})",
           R"({"alg":"HS256","x":{"y":{"z":{"\u007a":1,"z":2}}}})",
       }) {
    EXPECT_EQ(ParseJson(p, json), Status::kMalformed) << json;
  }
  // Same names in different objects are fine.
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256","x":{"alg":1},"y":[{"x":1},{"x":2}]})"), Status::kOk);
}

TEST(HeaderParserTest, RefusesAnythingButExactlyOneObject) {
  HeaderParser p;
  for (std::string_view json : {
           R"()",
           R"( )",
           R"([])",
           R"("alg")",
           R"(null)",
           R"(1)",
           R"({"alg":"HS256"}{"alg":"HS256"})",
           R"({"alg":"HS256"} x)",
           R"({"alg":"HS256"},)",
           R"({"alg":"HS256")",
           R"({"alg":"HS256",})",
           R"({"alg":"HS256" "kid":"a"})",
           R"({'alg':'HS256'})",
           R"({alg:"HS256"})",
           R"([{"alg":"HS256"}])",
       }) {
    EXPECT_EQ(ParseJson(p, json), Status::kMalformed) << json;
  }
  const std::string with_nul = std::string(R"({"alg":"HS256"})") + '\0';
  EXPECT_EQ(ParseJson(p, with_nul), Status::kMalformed);
  const std::string nul_in_string = std::string(R"({"alg":"HS256","kid":"a)") + '\0' + "b\"}";
  EXPECT_EQ(ParseJson(p, nul_in_string), Status::kMalformed);
}

TEST(HeaderParserTest, RefusesInvalidUtf8AndBadEscapes) {
  HeaderParser p;
  for (std::string_view json : {
           "{\"alg\":\"HS256\",\"kid\":\"\xff\"}", "{\"alg\":\"HS256\",\"kid\":\"\xc3\"}",
           "{\"alg\":\"HS256\",\"kid\":\"\xed\xa0\x80\"}",  // UTF-16 surrogate in UTF-8
           "{\"alg\":\"HS256\",\"\xc0\xaf\":1}",            // overlong
           "{\"alg\":\"HS256\",\"kid\":\"\\ud800\"}",       // lone surrogate escape
           "{\"alg\":\"HS256\",\"kid\":\"\\x41\"}",
           "{\"alg\":\"HS256\",\"kid\":\"\t\"}",  // raw control character
       }) {
    EXPECT_EQ(ParseJson(p, json), Status::kMalformed) << json;
  }
}

TEST(HeaderParserTest, DeepNestingIsBoundedNotFatal) {
  HeaderParser p;
  const auto nested = [](int depth) {
    return std::string(R"({"alg":"HS256","x":)") + std::string(depth, '[') +
           std::string(depth, ']') + "}";
  };
  EXPECT_EQ(ParseJson(p, nested(10)), Status::kOk);
  EXPECT_EQ(ParseJson(p, nested(5000)), Status::kMalformed);
}

TEST(HeaderParserTest, RefusesBadBase64) {
  HeaderParser p;
  const JoseHeader* h = nullptr;
  EXPECT_EQ(p.Parse("", kAll, &h), Status::kMalformed);
  EXPECT_EQ(p.Parse("eyJhbGciOiJIUzI1NiJ9=", kAll, &h), Status::kMalformed);
  EXPECT_EQ(p.Parse("eyJhbGciOiJIUzI1NiJ9", kAll, &h), Status::kOk);
  EXPECT_EQ(p.Parse("eyJhbGciOiJIUzI1NiJ8", kAll, &h), Status::kMalformed);  // trailing bits
  EXPECT_EQ(p.Parse("eyJhbGciOiJIUzI1NiJ9A", kAll, &h), Status::kMalformed);
}

// The memo answers from the exact bytes: a one-byte change never reuses an
// entry, and the memo stays correct as entries are evicted.
TEST(HeaderParserTest, MemoMatchesFreshParsesAcrossEviction) {
  HeaderParser memo;
  std::vector<std::string> headers;
  for (int i = 0; i < 12; ++i) {
    headers.push_back(Base64UrlEncode(R"({"alg":"HS256","kid":"k)" + std::to_string(i) + "\"}"));
    headers.push_back(Base64UrlEncode(R"({"alg":"HS384","kid":"k)" + std::to_string(i) + "\"}"));
    headers.push_back(Base64UrlEncode(R"({"alg":"none","kid":"k)" + std::to_string(i) + "\"}"));
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < headers.size(); ++i) {
      // Revisit recent headers often so the memo actually hits.
      for (size_t j : {i, i / 2, i, (i * 7) % headers.size()}) {
        HeaderParser fresh;
        const JoseHeader* a = nullptr;
        const JoseHeader* b = nullptr;
        const Status sa = memo.Parse(headers[j], kAll, &a);
        const Status sb = fresh.Parse(headers[j], kAll, &b);
        ASSERT_EQ(sa, sb) << headers[j];
        if (sa == Status::kOk) {
          EXPECT_EQ(a->alg, b->alg);
          EXPECT_EQ(a->kid, b->kid);
          EXPECT_EQ(a->has_kid, b->has_kid);
        }
      }
    }
  }
}

TEST(HeaderParserTest, MemoDoesNotConfuseHeadersOfEqualLength) {
  HeaderParser p;
  const JoseHeader* h = nullptr;
  ASSERT_EQ(ParseJson(p, R"({"alg":"HS256","kid":"aaaa"})", kAll, &h), Status::kOk);
  EXPECT_EQ(h->kid, "aaaa");
  ASSERT_EQ(ParseJson(p, R"({"alg":"HS256","kid":"aaab"})", kAll, &h), Status::kOk);
  EXPECT_EQ(h->kid, "aaab");
  ASSERT_EQ(ParseJson(p, R"({"alg":"HS256","kid":"aaaa"})", kAll, &h), Status::kOk);
  EXPECT_EQ(h->kid, "aaaa");
  EXPECT_EQ(ParseJson(p, R"({"alg":"HS256","kid":aaaa})", kAll, &h), Status::kMalformed);
}

TEST(HeaderParserTest, LongHeadersAreParsedButNotRemembered) {
  HeaderParser p;
  const std::string big = R"({"alg":"HS512","pad":")" + std::string(2000, 'x') + "\"}";
  const JoseHeader* h = nullptr;
  ASSERT_EQ(ParseJson(p, big, kAll, &h), Status::kOk);
  EXPECT_EQ(h->alg, Alg::kHS512);
  ASSERT_EQ(ParseJson(p, big, kAll, &h), Status::kOk);
  EXPECT_EQ(h->alg, Alg::kHS512);
}

}  // namespace
}  // namespace tokend::auth

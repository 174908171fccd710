// SPDX-License-Identifier: Apache-2.0
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/server/http/auth_mapping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::server::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(BearerTokenTest, SchemeIsCaseInsensitiveAndNeedsASpace) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer\tabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), std::nullopt);
  EXPECT_EQ(BearerToken(""), std::nullopt);
}

TEST(QueryParameterTest, FindsDecodesAndRefusesAmbiguity) {
  std::string scratch;
  bool bad = false;
  EXPECT_EQ(QueryParameter("a=1&accessToken=t.u.v&b", "accessToken", &scratch, &bad), "t.u.v");
  EXPECT_FALSE(bad);
  EXPECT_EQ(QueryParameter("accessToken=a%2Eb%2ec", "accessToken", &scratch, &bad), "a.b.c");
  EXPECT_EQ(QueryParameter("accessToken=a+b", "accessToken", &scratch, &bad), "a+b");
  EXPECT_EQ(QueryParameter("accesstoken=x", "accessToken", &scratch, &bad), std::nullopt);
  EXPECT_FALSE(bad);
  EXPECT_EQ(QueryParameter("accessToken", "accessToken", &scratch, &bad), "");
  // Names are read decoded, as the application behind the proxy reads them.
  EXPECT_EQ(QueryParameter("access%54oken=t%2d1", "accessToken", &scratch, &bad), "t-1");
  EXPECT_FALSE(bad);
  EXPECT_EQ(QueryParameter("access%5Token=t&x%=1", "accessToken", &scratch, &bad), std::nullopt);
  EXPECT_FALSE(bad);
  // Escapes at the very end, upper and lower case, and bytes beyond ASCII.
  EXPECT_EQ(QueryParameter("accessToken=a%41", "accessToken", &scratch, &bad), "aA");
  EXPECT_EQ(QueryParameter("accessToken=%c3%A9", "accessToken", &scratch, &bad), "\xc3\xa9");
  EXPECT_EQ(QueryParameter("accessToken=%2525", "accessToken", &scratch, &bad), "%25");
  for (std::string_view q :
       {"accessToken=%", "accessToken=%4", "accessToken=%zz", "accessToken=a&accessToken=a",
        "accessToken=a%", "accessToken=a%4", "accessToken=%4g", "accessToken=%%41",
        "accessToken=%+1", "accessToken=% 1", "accessToken=a&access%54oken=a", "accessToken=%-1"}) {
    EXPECT_EQ(QueryParameter(q, "accessToken", &scratch, &bad), std::nullopt) << q;
    EXPECT_TRUE(bad) << q;
  }
}

HttpRequest Req() { return HttpRequest(); }

TEST(UriQueryTest, AfterTheFirstQuestionMarkUpToTheFragment) {
  EXPECT_EQ(UriQuery("/p?a=1&b=2"), "a=1&b=2");
  EXPECT_EQ(UriQuery("/p?a=1?b#frag?c"), "a=1?b");
  EXPECT_EQ(UriQuery("/p#x?y"), "");
  EXPECT_EQ(UriQuery("/p"), "");
  EXPECT_EQ(UriQuery("http://h/p?q"), "q");
}

TEST(ExtractTokenTest, HeaderThenQueryThenOriginalUri) {
  std::string scratch;
  HttpRequest r = Req();
  r.access_token = "from-header";
  r.query = "accessToken=from-query";
  r.original_uri = "/api?x=1&accessToken=from%2Doriginal";
  TokenLookup t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kAccessToken);
  EXPECT_EQ(t.token, "from-header");
  r.dapr_api_token = "from-dapr";  // before the accessToken header
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kDaprApiToken);
  r.dapr_api_token.reset();

  r.access_token = "";
  t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kQuery);
  EXPECT_EQ(t.token, "from-query");

  r.query = "";  // nginx's auth_request subrequest: no query of its own
  t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kOriginalUri);
  EXPECT_EQ(t.token, "from-original");

  r.original_uri = "/api?accessToken=%zz";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kBadQuery);
  r.original_uri = "/api?accessToken=a&accessToken=b";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kBadQuery);
  r.original_uri = "/api#accessToken=a";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kNone);
  r.original_uri = "/api?other=1";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kNone);
}

TEST(ExtractTokenFromHeadersTest, SourcesInOrderAndNoOriginalUri) {
  std::map<std::string, std::string, std::less<>> h;
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  std::string scratch;
  EXPECT_EQ(ExtractTokenFromHeaders(lookup, "/p", &scratch).source, TokenSource::kNone);
  TokenLookup t = ExtractTokenFromHeaders(lookup, "/p?a=1&accessToken=q%41#frag", &scratch);
  EXPECT_EQ(t.source, TokenSource::kQuery);
  EXPECT_EQ(t.token, "qA");
  h["x-original-uri"] = "/p?accessToken=nginx";  // nginx's header is not a source here
  EXPECT_EQ(ExtractTokenFromHeaders(lookup, "/p", &scratch).source, TokenSource::kNone);
  h["accesstoken"] = "hdr";
  t = ExtractTokenFromHeaders(lookup, "/p?accessToken=q", &scratch);
  EXPECT_EQ(t.source, TokenSource::kAccessToken);
  EXPECT_EQ(t.token, "hdr");
  h["dapr-api-token"] = "dapr";
  EXPECT_EQ(ExtractTokenFromHeaders(lookup, "/p", &scratch).token, "dapr");
  h["authorization"] = "Basic abc";  // another scheme is no match
  EXPECT_EQ(ExtractTokenFromHeaders(lookup, "/p", &scratch).token, "dapr");
  h["authorization"] = "Bearer bt";
  t = ExtractTokenFromHeaders(lookup, "/p", &scratch);
  EXPECT_EQ(t.source, TokenSource::kAuthorization);
  EXPECT_EQ(t.token, "bt");
  h.clear();
  EXPECT_EQ(ExtractTokenFromHeaders(lookup, "/p?accessToken=%zz", &scratch).source,
            TokenSource::kBadQuery);
}

TEST(ExtractTokenTest, FirstMatchWins) {
  std::string scratch;
  HttpRequest r = Req();
  r.authorization = "Bearer from-auth";
  r.dapr_api_token = "from-dapr";
  r.query = "accessToken=from-query";
  TokenLookup t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kAuthorization);
  EXPECT_EQ(t.token, "from-auth");

  r.authorization = "Basic xyz";  // another scheme: no match, next source
  t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kDaprApiToken);
  EXPECT_EQ(t.token, "from-dapr");

  r.dapr_api_token = "";  // empty: no match
  t = ExtractToken(r, &scratch);
  EXPECT_EQ(t.source, TokenSource::kQuery);
  EXPECT_EQ(t.token, "from-query");

  r.query = "other=1";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kNone);
  r.query = "accessToken=%g0";
  EXPECT_EQ(ExtractToken(r, &scratch).source, TokenSource::kBadQuery);
  EXPECT_EQ(ExtractToken(Req(), &scratch).source, TokenSource::kNone);
}

TEST(WantClaimsTest, OneTrueZeroFalse) {
  EXPECT_EQ(WantClaims(std::nullopt), false);
  EXPECT_EQ(WantClaims("1"), true);
  EXPECT_EQ(WantClaims("TRUE"), true);
  EXPECT_EQ(WantClaims("0"), false);
  EXPECT_EQ(WantClaims("false"), false);
  EXPECT_EQ(WantClaims("yes"), std::nullopt);
  EXPECT_EQ(WantClaims(""), std::nullopt);
}

TEST(SafeHeaderValueTest, RefusesWhatWouldNotArriveUnchanged) {
  EXPECT_TRUE(SafeHeaderValue("alice"));
  EXPECT_TRUE(SafeHeaderValue("user 42"));
  EXPECT_TRUE(SafeHeaderValue(""));
  EXPECT_TRUE(SafeHeaderValue("\xc3\xa9t\xc3\xa9"));  // UTF-8 travels as obs-text
  EXPECT_FALSE(SafeHeaderValue("a\r\nX-Injected: 1"));
  EXPECT_FALSE(SafeHeaderValue("a\nb"));
  EXPECT_FALSE(SafeHeaderValue(std::string_view("a\0b", 3)));
  EXPECT_FALSE(SafeHeaderValue("a\tb"));
  EXPECT_FALSE(SafeHeaderValue(" alice"));
  EXPECT_FALSE(SafeHeaderValue("alice "));
  EXPECT_FALSE(SafeHeaderValue("a\x7f"));
}

TEST(Base64UrlEncodeTest, Rfc4648Vectors) {
  // RFC 4648 §10, in the URL alphabet without padding.
  const std::pair<std::string_view, std::string_view> v[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
  };
  for (const auto& [in, want] : v) {
    std::string out;
    Base64UrlEncode(in, &out);
    EXPECT_EQ(out, want);
  }
}

TEST(HttpDateTest, ImfFixdate) {
  std::string d;
  AppendHttpDate(784111777, &d);
  EXPECT_EQ(d, "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7's example
}

TEST(ResponsesTest, AllowedCarriesSubjectExpiryAndClaimsOnlyWhenAsked) {
  ResponseCommon c;
  c.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string out;
  AppendAllowed(c, "alice", 1700000000, std::nullopt, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n"
            "X-Auth-Subject: alice\r\nX-Auth-Expires: 1700000000\r\n\r\n");
  out.clear();
  AppendAllowed(c, "alice", 0, std::string_view("{\"sub\":\"alice\"}"), &out);
  EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Claims: eyJzdWIiOiJhbGljZSJ9\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\nX-Auth-Expires: 0\r\n"));
}

TEST(ResponsesTest, RefusedFollowsRfc6750AndAuthorino) {
  std::string out;
  AppendRefused(ResponseCommon{}, 5, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
            "WWW-Authenticate: Bearer realm=\"tokend\", error=\"invalid_token\", "
            "error_description=\"EXPIRED\"\r\nx-ext-auth-reason: EXPIRED\r\n\r\n");
}

TEST(ResponsesTest, MissingTokenHasNoErrorAttribute) {
  std::string out;
  AppendMissingToken(ResponseCommon{}, &out);
  EXPECT_THAT(out, HasSubstr("\r\nWWW-Authenticate: Bearer realm=\"tokend\"\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("error=")));
  EXPECT_THAT(out, HasSubstr("x-ext-auth-reason: MISSING_TOKEN\r\n"));
}

TEST(ResponsesTest, ErrorsCloseAndBodyTooLargeIs413) {
  std::string out;
  AppendError(ResponseCommon{}, HttpError::kSyntax, &out);
  EXPECT_EQ(out, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  AppendError(ResponseCommon{}, HttpError::kBodyTooLarge, &out);
  EXPECT_THAT(out, ::testing::StartsWith("HTTP/1.1 413 Content Too Large\r\n"));
}

TEST(ResponsesTest, TextKeepsContentLengthForHead) {
  ResponseCommon c;
  c.keep_alive_header = true;
  std::string out;
  AppendText(c, 503, "text/plain", "no keys\n", /*head_only=*/true, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\nConnection: keep-alive\r\nContent-Length: 8\r\n"
            "Content-Type: text/plain\r\n\r\n");
}

}  // namespace
}  // namespace tokend::server::http

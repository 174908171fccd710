// SPDX-License-Identifier: Apache-2.0
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/http/request_parser.h"
#include "gtest/gtest.h"

namespace tokend::server::http {
namespace {

constexpr std::string_view kGet = "GET /auth?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";

struct Result {
  ParseStatus status;
  HttpRequest req;
  HttpError error = HttpError::kNone;
};

Result ParseWith(std::string_view in, HttpLimits limits = {}) {
  HttpRequestParser p(limits);
  Result r;
  r.status = p.Parse(in, &r.req, &r.error);
  return r;
}

HttpError ErrorOf(std::string_view in, HttpLimits limits = {}) {
  Result r = ParseWith(in, limits);
  EXPECT_EQ(r.status, ParseStatus::kError) << in;
  return r.error;
}

TEST(HttpRequestParserTest, SimpleGetIsComplete) {
  Result r = ParseWith(kGet);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.method, HTTP_GET);
  EXPECT_EQ(r.req.target, "/auth?x=1");
  EXPECT_EQ(r.req.path, "/auth");
  EXPECT_EQ(r.req.query, "x=1");
  EXPECT_EQ(r.req.version_major, 1);
  EXPECT_EQ(r.req.version_minor, 1);
  EXPECT_TRUE(r.req.keep_alive);
  EXPECT_EQ(r.req.size, kGet.size());
  EXPECT_EQ(r.req.header_bytes, kGet.size());
  EXPECT_FALSE(r.req.authorization.has_value());
  EXPECT_FALSE(r.req.dapr_api_token.has_value());
}

TEST(HttpRequestParserTest, ReadsTheHeadersTokendUsesCaseInsensitivelyAndTrimmed) {
  Result r = ParseWith(
      "POST /p HTTP/1.1\r\nhOsT: h\r\nAUTHORIZATION:  Bearer abc \t\r\nDapr-Api-Token: d\r\n"
      "x-tokend-audience: api\r\nX-Tokend-Claims: 1\r\nX-Other: y\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.method, HTTP_POST);
  EXPECT_EQ(r.req.authorization, "Bearer abc");
  EXPECT_EQ(r.req.dapr_api_token, "d");
  EXPECT_EQ(r.req.audience, "api");
  EXPECT_EQ(r.req.want_claims, "1");
  EXPECT_FALSE(r.req.access_token.has_value());
  EXPECT_FALSE(r.req.original_uri.has_value());
}

TEST(HttpRequestParserTest, ReadsAccessTokenAndOriginalUri) {
  Result r = ParseWith(
      "GET /_auth HTTP/1.1\r\nHost: h\r\nACCESSTOKEN:  t.u.v \r\n"
      "x-original-uri: /api/x?accessToken=a&b=1\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.access_token, "t.u.v");
  EXPECT_EQ(r.req.original_uri, "/api/x?accessToken=a&b=1");
}

TEST(HttpRequestParserTest, EmptyHeaderValueIsPresentAndEmpty) {
  Result r = ParseWith("GET / HTTP/1.1\r\nHost: h\r\ndapr-api-token:\r\nX: 1\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  ASSERT_TRUE(r.req.dapr_api_token.has_value());
  EXPECT_EQ(*r.req.dapr_api_token, "");
}

TEST(HttpRequestParserTest, EveryPrefixOfARequestIsIncomplete) {
  const std::string req =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nAuthorization: Bearer t\r\n\r\nhello";
  for (size_t n = 0; n < req.size(); ++n) {
    Result r = ParseWith(std::string_view(req).substr(0, n));
    EXPECT_EQ(r.status, ParseStatus::kIncomplete) << n;
  }
  Result r = ParseWith(req);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.size, req.size());
  EXPECT_EQ(r.req.header_bytes, req.size() - 5);
}

TEST(HttpRequestParserTest, StopsAtTheEndOfTheFirstOfPipelinedRequests) {
  const std::string two = std::string(kGet) + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  Result r = ParseWith(two);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.size, kGet.size());
  Result second = ParseWith(std::string_view(two).substr(r.req.size));
  ASSERT_EQ(second.status, ParseStatus::kComplete);
  EXPECT_EQ(second.req.path, "/b");
}

TEST(HttpRequestParserTest, BodiesAreSkippedByContentLengthAndChunked) {
  Result cl = ParseWith("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET");
  ASSERT_EQ(cl.status, ParseStatus::kComplete);
  EXPECT_EQ(cl.req.size, 49u);
  const std::string chunked =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
  Result ch = ParseWith(chunked + "GET");
  ASSERT_EQ(ch.status, ParseStatus::kComplete);
  EXPECT_EQ(ch.req.size, chunked.size());
  // A trailer field never counts as a header, not even Authorization.
  Result tr = ParseWith(
      "POST / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nTransfer-Encoding: chunked\r\n"
      "\r\n0\r\nAuthorization: Bearer b\r\n\r\n");
  ASSERT_EQ(tr.status, ParseStatus::kComplete);
  EXPECT_EQ(tr.req.authorization, "Bearer a");
}

TEST(HttpRequestParserTest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(ParseWith("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").req.keep_alive);
  EXPECT_FALSE(ParseWith("GET / HTTP/1.0\r\n\r\n").req.keep_alive);
  Result ka = ParseWith("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(ka.req.keep_alive);
  EXPECT_EQ(ka.req.version_minor, 0);
}

TEST(HttpRequestParserTest, Http10NeedsNoHost) {
  EXPECT_EQ(ParseWith("GET / HTTP/1.0\r\n\r\n").status, ParseStatus::kComplete);
}

TEST(HttpRequestParserTest, AnyKnownMethodAndAbsoluteFormTargets) {
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    Result r = ParseWith(std::string(m) + " /x HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.status, ParseStatus::kComplete) << m;
  }
  Result abs = ParseWith("GET http://example/p/q?accessToken=t HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(abs.status, ParseStatus::kComplete);
  EXPECT_EQ(abs.req.path, "/p/q");
  EXPECT_EQ(abs.req.query, "accessToken=t");
}

TEST(HttpRequestParserTest, FragmentIsNotPartOfTheQuery) {
  Result r = ParseWith("GET /x?a=b#frag HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.query, "a=b");
}

TEST(HttpRequestParserTest, LeadingEmptyLinesAreSkipped) {
  Result r = ParseWith("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.req.size, 31u);
}

TEST(HttpRequestParserTest, ExpectContinueIsSeen) {
  Result r =
      ParseWith("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(r.status, ParseStatus::kIncomplete);
  EXPECT_TRUE(r.req.expect_continue);
  EXPECT_NE(r.req.header_bytes, 0u);
}

// ---- malformed input -----------------------------------------------------

TEST(HttpRequestParserMalformedTest, BadRequestLines) {
  EXPECT_EQ(ErrorOf("FOO / HTTP/1.1\r\nHost: h\r\n\r\n"), HttpError::kBadMethod);
  EXPECT_EQ(ErrorOf("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), HttpError::kBadMethod);
  EXPECT_EQ(ErrorOf("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), HttpError::kBadTarget);
  EXPECT_EQ(ErrorOf("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), HttpError::kBadVersion);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), HttpError::kBadVersion);
  EXPECT_EQ(ErrorOf("GET /\r\n\r\n"), HttpError::kBadVersion);  // HTTP/0.9
  EXPECT_EQ(ErrorOf("GET / FTP/1.1\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), HttpError::kBadMethod);
  EXPECT_EQ(ErrorOf(std::string_view("GET /\0 HTTP/1.1\r\n\r\n", 20)), HttpError::kSyntax);
}

TEST(HttpRequestParserMalformedTest, BadHeaderFields) {
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), HttpError::kBadHeader);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n"), HttpError::kBadHeader);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\n\tHost: h\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHo\x01st: h\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\n: h\r\n\r\n"), HttpError::kSyntax);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), HttpError::kSyntax);
}

TEST(HttpRequestParserMalformedTest, ControlCharacterInATokenHeaderIsRefused) {
  // http-parser lets a bare CR through in some values; the headers tokend
  // reads must never carry one.
  EXPECT_EQ(ParseWith("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\rb\r\n\r\n").status,
            ParseStatus::kError);
}

TEST(HttpRequestParserMalformedTest, HostIsRequiredOnceInHttp11) {
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\n\r\n"), HttpError::kMissingHost);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), HttpError::kDuplicateHeader);
}

TEST(HttpRequestParserMalformedTest, RepeatedTokenHeadersAreRefused) {
  for (std::string_view h :
       {"Authorization: Bearer a", "dapr-api-token: a", "X-Tokend-Audience: a",
        "X-Tokend-Claims: 1", "accessToken: a", "X-Original-URI: /a?accessToken=a"}) {
    const std::string req =
        "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(h) + "\r\n" + std::string(h) + "\r\n\r\n";
    EXPECT_EQ(ErrorOf(req), HttpError::kDuplicateHeader) << h;
  }
}

TEST(HttpRequestParserMalformedTest, BadContentLength) {
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3x\r\n\r\nabc"),
            HttpError::kBadContentLength);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc"),
            HttpError::kBadContentLength);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
            HttpError::kBadContentLength);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
                    "\r\nabc"),
            HttpError::kBadContentLength);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n"
                    "\r\n"),
            HttpError::kBadContentLength);
}

TEST(HttpRequestParserMalformedTest, TransferEncodingOtherThanChunkedIsRefused) {
  for (std::string_view te : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunkedx"}) {
    const std::string req =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te) + "\r\n\r\n0\r\n\r\n";
    EXPECT_EQ(ErrorOf(req), HttpError::kBadTransferEncoding) << te;
  }
  // Both framings at once: a smuggling attempt.
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 5\r\n\r\n0\r\n\r\n"),
            HttpError::kBadContentLength);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            HttpError::kSyntax);
}

TEST(HttpRequestParserMalformedTest, HeaderSectionOverTheLimitIsRefusedEvenIncomplete) {
  HttpLimits limits;
  limits.max_header_bytes = 100;
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  // Exactly at the limit: accepted.
  std::string fits = head + std::string(100 - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 100u);
  EXPECT_EQ(ParseWith(fits, limits).status, ParseStatus::kComplete);
  // One byte more, complete or not: refused.
  std::string over = head + std::string(100 - head.size() - 3, 'a') + "\r\n\r\n";
  EXPECT_EQ(ErrorOf(over, limits), HttpError::kHeaderTooLong);
  EXPECT_EQ(ErrorOf(head + std::string(200, 'a'), limits), HttpError::kHeaderTooLong);
  // An incomplete header section at the limit is still only incomplete.
  EXPECT_EQ(ParseWith(fits.substr(0, 99), limits).status, ParseStatus::kIncomplete);
}

TEST(HttpRequestParserMalformedTest, TooManyHeaders) {
  HttpLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(ParseWith("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits).status,
            ParseStatus::kComplete);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            HttpError::kTooManyHeaders);
}

TEST(HttpRequestParserMalformedTest, BodyOverTheLimitIsRefused) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  EXPECT_EQ(ParseWith("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits)
                .status,
            ParseStatus::kComplete);
  // Known from Content-Length before any body byte arrives.
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits),
            HttpError::kBodyTooLarge);
  // Chunked: the body section as sent, framing included.
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "1;aaaaaaaaaaaaaaaaaaaa\r\n",
                    limits),
            HttpError::kBodyTooLarge);
}

TEST(HttpRequestParserMalformedTest, ErrorNamesAreDistinct) {
  std::vector<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(HttpError::kBodyTooLarge); ++e) {
    const std::string_view n = HttpErrorName(static_cast<HttpError>(e));
    for (std::string_view seen : names) EXPECT_NE(seen, n);
    names.push_back(n);
  }
}

TEST(HttpRequestParserTest, ParserIsReusableAfterAnError) {
  HttpRequestParser p;
  HttpRequest req;
  HttpError error;
  EXPECT_EQ(p.Parse("GARBAGE\r\n\r\n", &req, &error), ParseStatus::kError);
  EXPECT_EQ(p.Parse(kGet, &req, &error), ParseStatus::kComplete);
  EXPECT_EQ(error, HttpError::kNone);
  EXPECT_EQ(req.path, "/auth");
}

}  // namespace
}  // namespace tokend::server::http

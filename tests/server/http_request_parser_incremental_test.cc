// SPDX-License-Identifier: Apache-2.0
// The incremental HTTP request parser against the one it replaced (which
// parsed from the first byte on every call, tests/legacy/): random
// requests, valid and broken, pipelined and cut into random reads, must get
// the same answers from both. And the point of it: each byte is read once.
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/http/request_parser.h"
#include "gtest/gtest.h"
#include "tests/legacy/http_parser_compare.h"

namespace tokend::server::http {
namespace {

using Rng = std::mt19937;

size_t Pick(Rng& rng, size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }

template <typename T, size_t N>
const T& OneOf(Rng& rng, const T (&items)[N]) {
  return items[Pick(rng, N)];
}

// A request, usually well formed, sometimes not in one of the ways the
// parser refuses.
std::string RandomRequest(Rng& rng) {
  static const char* kMethods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "BREW"};
  static const char* kTargets[] = {"/",
                                   "/auth",
                                   "/auth?accessToken=t.u.v",
                                   "/a/b?x=1&accessToken=%41b",
                                   "http://h/p?q#f",
                                   "*",
                                   "/x#frag",
                                   "",
                                   "/a%20b"};
  static const char* kVersions[] = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.1",
                                    "HTTP/1.0", "HTTP/2.0", "HTTP/1.x"};
  static const std::string kHeaders[] = {
      "Authorization: Bearer abc.def.ghi",
      "authorization:   bearer  x  ",
      "dapr-api-token: d",
      "dapr-api-token:",
      "accessToken: a",
      "X-Original-URI: /app?accessToken=o",
      "X-Tokend-Audience: api",
      "X-Tokend-Claims: 1",
      "Expect: 100-continue",
      "Connection: close",
      "Connection: keep-alive",
      "Transfer-Encoding: gzip",
      "X-Other: \t v \t",
      "X-Long: " + std::string(300, 'L'),
      "Bad Name: x",
      "X-Ctl: a\x01"
      "b",
      "X-Fold: a\r\n b",
      "Content-Length: 3x",
  };
  std::string r;
  if (Pick(rng, 8) == 0) r += "\r\n";
  const std::string method = OneOf(rng, kMethods);
  r += method + (Pick(rng, 20) == 0 ? "  " : " ") + OneOf(rng, kTargets) + " " +
       OneOf(rng, kVersions) + "\r\n";
  if (Pick(rng, 10) != 0) r += "Host: h\r\n";
  const size_t n = Pick(rng, 7);
  for (size_t i = 0; i < n; ++i) r += std::string(OneOf(rng, kHeaders)) + "\r\n";
  switch (Pick(rng, 4)) {
    case 0: {  // Content-Length body
      const size_t len = Pick(rng, 2) == 0 ? Pick(rng, 8) : Pick(rng, 200);
      r += "Content-Length: " + std::to_string(len) + "\r\n\r\n" + std::string(len, 'b');
      break;
    }
    case 1: {  // chunked body, sometimes with a trailer
      r += "Transfer-Encoding: chunked\r\n\r\n";
      for (size_t c = Pick(rng, 3); c > 0; --c) {
        const size_t len = 1 + Pick(rng, 40);
        char hex[16];
        std::snprintf(hex, sizeof(hex), "%zx", len);
        r += std::string(hex) + "\r\n" + std::string(len, 'c') + "\r\n";
      }
      r += "0\r\n";
      if (Pick(rng, 2) == 0) r += "Authorization: Bearer in-trailer\r\n";
      r += "\r\n";
      break;
    }
    default:
      r += "\r\n";
      break;
  }
  return r;
}

// Flips, inserts or removes a few bytes.
void Mutate(Rng& rng, std::string* s) {
  for (size_t m = 1 + Pick(rng, 3); m > 0 && !s->empty(); --m) {
    const size_t at = Pick(rng, s->size());
    switch (Pick(rng, 3)) {
      case 0:
        (*s)[at] = static_cast<char>(Pick(rng, 256));
        break;
      case 1:
        s->insert(at, 1, OneOf(rng, {' ', '\r', '\n', ':', '%', '\0'}));
        break;
      default:
        s->erase(at, 1);
        break;
    }
  }
}

std::vector<size_t> RandomCuts(Rng& rng, size_t size) {
  std::vector<size_t> cuts;
  const size_t max = Pick(rng, 3) == 0 ? 1 : 1 + Pick(rng, 64);
  while (size > 0) {
    const size_t n = std::min(size, 1 + Pick(rng, max));
    cuts.push_back(n);
    size -= n;
  }
  return cuts;
}

TEST(HttpRequestParserIncrementalTest, AgreesWithWholeBufferParsingOnRandomSplits) {
  Rng rng(20261206);
  HttpLimits small;
  small.max_header_bytes = 256;
  small.max_headers = 6;
  small.max_body_bytes = 64;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string stream;
    for (size_t k = 1 + Pick(rng, 3); k > 0; --k) stream += RandomRequest(rng);
    if (Pick(rng, 4) == 0) Mutate(rng, &stream);
    const HttpLimits limits = Pick(rng, 3) == 0 ? small : HttpLimits();
    const std::vector<size_t> cuts = RandomCuts(rng, stream.size());
    const std::string diff = legacy::CompareSplits(stream, cuts, limits);
    ASSERT_EQ(diff, "") << "iteration " << iter << ", stream:\n" << stream;
  }
}

TEST(HttpRequestParserIncrementalTest, EveryOneByteSplitOfKnownRequestsAgrees) {
  const std::vector<std::string> streams = {
      "GET /auth?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\n\r\n",
      "\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
      "GET / HTTP/1.0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
      "X-T: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n b\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
  };
  for (const std::string& s : streams) {
    EXPECT_EQ(legacy::CompareSplits(s, std::vector<size_t>(s.size(), 1), {}), "") << s;
  }
}

TEST(HttpRequestParserIncrementalTest, EachByteIsReadOnceHoweverTheReadsAreCut) {
  std::string head = "POST /auth HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n";
  for (int i = 0; i < 20; ++i)
    head += "X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
  head += "\r\n";
  const std::string req = head + std::string(2000, 'b');
  HttpRequestParser p;
  HttpRequest r;
  HttpError e;
  // The headers in one read, then the body one byte at a time.
  size_t have = head.size();
  EXPECT_EQ(p.Parse(std::string_view(req).substr(0, have), &r, &e), ParseStatus::kIncomplete);
  EXPECT_EQ(r.header_bytes, head.size());
  while (++have < req.size()) {
    ASSERT_EQ(p.Parse(std::string_view(req).substr(0, have), &r, &e), ParseStatus::kIncomplete);
  }
  ASSERT_EQ(p.Parse(req, &r, &e), ParseStatus::kComplete);
  EXPECT_EQ(r.size, req.size());
  // Every byte once, and the blank line's last byte once more. Parsing
  // from the first byte on every call would have read about 43 MB.
  EXPECT_EQ(p.bytes_fed(), req.size() + 1);
}

TEST(HttpRequestParserIncrementalTest, ShorterInputThanReadStartsOver) {
  HttpRequestParser p;
  HttpRequest r;
  HttpError e;
  EXPECT_EQ(p.Parse("GET /a HTTP/1.1\r\nHost: h\r\nX-A: 1", &r, &e), ParseStatus::kIncomplete);
  // The caller dropped those bytes (a connection reset): a new request.
  ASSERT_EQ(p.Parse("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", &r, &e), ParseStatus::kComplete);
  EXPECT_EQ(r.target, "/b");
  // Reset() forgets a request in progress even when the input is longer.
  EXPECT_EQ(p.Parse("GET /c HTTP/1.1\r\n", &r, &e), ParseStatus::kIncomplete);
  p.Reset();
  ASSERT_EQ(p.Parse("GET /d HTTP/1.1\r\nHost: h\r\n\r\n", &r, &e), ParseStatus::kComplete);
  EXPECT_EQ(r.target, "/d");
}

}  // namespace
}  // namespace tokend::server::http

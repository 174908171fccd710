// SPDX-License-Identifier: Apache-2.0
// http_request_parser.h (tests/legacy)
//
// The HTTP request parser as it was before it became incremental: every
// Parse() starts again from the first byte of `in`. Kept, unchanged but for
// sharing the daemon's request types, as the reference the incremental
// parser (daemon/server/http/request_parser.h) is checked against by
// fuzz_http and http_request_parser_test: fed the same bytes in any split,
// both must give the same answers.
//
// What follows is the original header's description.
//
// Strict parsing of one HTTP/1.1 request at the front of a buffer, over
// nodejs' http-parser 2.9 (Debian's libhttp-parser): the library does the
// request line, header syntax, Content-Length and chunked framing; this
// wrapper adds the limits and the rules it leaves out, and keeps the few
// headers tokend reads. A request is refused (an HttpError) for:
//   - a request line or header syntax the library refuses, a method it does
//     not know, an HTTP version other than 1.0 and 1.1, more than one space
//     between method and target, or a target with no path;
//   - a request line plus headers longer than max_header_bytes, or more
//     than max_headers header fields;
//   - a header name with whitespace in it (RFC 9112 §5.1), a folded header
//     line (obs-fold), or a control character in a value;
//   - a bad, repeated or conflicting Content-Length (the library), a
//     Transfer-Encoding other than chunked (the library also refuses
//     "identity", which RFC 9112 no longer defines), or both;
//   - an HTTP/1.1 request without exactly one Host, and any repeated one of
//     the headers tokend reads (Authorization, dapr-api-token, accessToken,
//     X-Original-URI, X-Tokend-Audience, X-Tokend-Claims): two answers to
//     "which token?" must never reach two different parsers;
//   - a body section (as sent, chunk framing and trailer included) longer
//     than max_body_bytes; a Content-Length over it is refused at once.
// Trailer fields of a chunked body are skipped: they never carry the token.
// The parser is stateless between calls: each Parse() starts from the
// first byte of `in`, so a connection keeps an incomplete request's bytes
// and parses them again when more arrive (the limits bound that work).
//
// Thread-safety: an HttpRequestParser is used by one thread (a worker keeps
// one and reuses it). Ownership: the views in an HttpRequest point into the
// `in` given to Parse() and live as long as it.
#ifndef TOKEND_TESTS_LEGACY_HTTP_REQUEST_PARSER_H_
#define TOKEND_TESTS_LEGACY_HTTP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/server/http/request_parser.h"
#include "http_parser.h"

namespace tokend::server::http::legacy {

using http::HttpError;
using http::HttpLimits;
using http::HttpRequest;
using http::ParseStatus;

class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpLimits limits = {});
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parse()
  //
  // Parses the request at the front of `in` (empty lines before it are
  // skipped and counted in its size). On kComplete fills *req; on kError
  // sets *error; on kIncomplete leaves *req with what is known.
  ParseStatus Parse(std::string_view in, HttpRequest* req, HttpError* error);

  const HttpLimits& limits() const { return limits_; }

 private:
  enum class Field : uint8_t {
    kOther,
    kHost,
    kAuthorization,
    kDaprApiToken,
    kAccessToken,
    kOriginalUri,
    kAudience,
    kWantClaims,
    kTransferEncoding,
    kExpect,
  };

  static int OnUrl(http_parser* p, const char* at, size_t n);
  static int OnHeaderField(http_parser* p, const char* at, size_t n);
  static int OnHeaderValue(http_parser* p, const char* at, size_t n);
  static int OnHeadersComplete(http_parser* p);
  static int OnMessageComplete(http_parser* p);

  void Reset(std::string_view in, HttpRequest* req);
  // Ends the header field whose name and value have been collected.
  bool EndField();
  bool Fail(HttpError e);
  bool CheckRequestLine();

  HttpLimits limits_;
  http_parser parser_;
  http_parser_settings settings_;

  // Per Parse() call.
  std::string_view in_;
  HttpRequest* req_ = nullptr;
  HttpError error_ = HttpError::kNone;
  bool headers_done_ = false;
  bool message_done_ = false;
  size_t header_count_ = 0;
  bool host_seen_ = false;
  // The field being read: its name and value, each one contiguous span.
  const char* name_begin_ = nullptr;
  const char* name_end_ = nullptr;
  const char* value_begin_ = nullptr;
  const char* value_end_ = nullptr;
  bool in_value_ = false;
  const char* url_begin_ = nullptr;
  const char* url_end_ = nullptr;
};

}  // namespace tokend::server::http::legacy

#endif  // TOKEND_TESTS_LEGACY_HTTP_REQUEST_PARSER_H_

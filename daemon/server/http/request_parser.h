// request_parser.h
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
#ifndef TOKEND_DAEMON_SERVER_HTTP_REQUEST_PARSER_H_
#define TOKEND_DAEMON_SERVER_HTTP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http_parser.h"

namespace tokend::server::http {

struct HttpLimits {
  size_t max_header_bytes = 32 * 1024;  // request line + header fields + blank line
  size_t max_headers = 128;             // header fields
  size_t max_body_bytes = 64 * 1024;    // body section as sent
};

// Why a request was refused. Every one is answered 400 (kBodyTooLarge:
// 413) and closes the connection.
enum class HttpError : uint8_t {
  kNone = 0,
  kSyntax,               // the library refused the request line or a header
  kBadMethod,            // a method the library does not know
  kBadVersion,           // not HTTP/1.0 or HTTP/1.1
  kBadTarget,            // extra spaces in the request line, or no path
  kHeaderTooLong,        // request line + headers over max_header_bytes
  kTooManyHeaders,       // more than max_headers fields
  kBadHeader,            // whitespace in a name, obs-fold, control character
  kBadContentLength,     // unparsable, repeated or conflicting Content-Length
  kBadTransferEncoding,  // a coding other than chunked, or chunked not last
  kMissingHost,          // HTTP/1.1 without Host
  kDuplicateHeader,      // Host or a header tokend reads, given twice
  kBodyTooLarge,         // body section over max_body_bytes
};

// A short lower-case description ("too many headers"), for logs and tests.
std::string_view HttpErrorName(HttpError e);

// One parsed request. The optional headers are nullopt when absent and
// hold the value with surrounding whitespace removed when present.
struct HttpRequest {
  http_method method = HTTP_GET;
  std::string_view target;  // the request-target as sent
  std::string_view path;    // its path, without query or fragment
  std::string_view query;   // after '?', without the fragment; empty when none
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  bool keep_alive = true;        // the connection stays open after the answer
  bool expect_continue = false;  // Expect: 100-continue
  std::optional<std::string_view> authorization;
  std::optional<std::string_view> dapr_api_token;
  std::optional<std::string_view> access_token;  // accessToken (Nacos)
  std::optional<std::string_view> original_uri;  // X-Original-URI (nginx)
  std::optional<std::string_view> audience;      // X-Tokend-Audience
  std::optional<std::string_view> want_claims;   // X-Tokend-Claims
  size_t header_bytes = 0;                       // bytes up to and including the blank line
  size_t size = 0;                               // bytes of the whole request, body included
};

enum class ParseStatus {
  kComplete,    // *req is a whole request of req->size bytes
  kIncomplete,  // more bytes are needed (req->header_bytes is set once the
                // headers are in)
  kError,       // refused; *error says why
};

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

}  // namespace tokend::server::http

#endif  // TOKEND_DAEMON_SERVER_HTTP_REQUEST_PARSER_H_

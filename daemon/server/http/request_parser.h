// SPDX-License-Identifier: Apache-2.0
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
//
// The parser is incremental: it keeps the library's state and its own
// between calls, so each byte of a request is read once however it is cut
// into reads (a client trickling a body one byte at a time costs O(1) per
// byte, not a re-parse of everything before it). A connection keeps an
// incomplete request's bytes and calls again with the same bytes, more
// appended; the parser reads only the new ones. Everything it remembers is
// an offset from the request's first byte, never a pointer, so the buffer
// may move between calls. Reset() starts over (the old, stateless
// behaviour when called before every Parse()).
//
// Thread-safety: an HttpRequestParser is used by one thread (one per
// connection, or a worker's for stateless use). Ownership: the views in an
// HttpRequest point into the `in` given to the Parse() that filled it and
// live as long as it.
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
  // sets *error; on kIncomplete fills *req with what is known (the header
  // fields, header_bytes and expect_continue once the headers are in).
  //
  // After kIncomplete the next call continues that request: `in` must then
  // begin with the same bytes as before (it may have moved and grown; only
  // bytes past those already read are read). After kComplete or kError, or
  // when `in` is shorter than what was read (the caller dropped the bytes),
  // the next call starts a new request at `in`'s first byte.
  ParseStatus Parse(std::string_view in, HttpRequest* req, HttpError* error);

  // Reset()
  //
  // Forgets the request in progress: the next Parse() starts from the first
  // byte of its `in`.
  void Reset();

  const HttpLimits& limits() const { return limits_; }

  // Bytes handed to the library over this parser's life (each request's
  // blank line's last byte counts twice): a measure of the work done.
  uint64_t bytes_fed() const { return bytes_fed_; }

 private:
  // A run of bytes of the request, as offsets from its first byte.
  struct Span {
    size_t begin = 0;
    size_t end = 0;
    std::string_view In(std::string_view in) const { return in.substr(begin, end - begin); }
  };

  // Where the parse of one request stands between calls.
  enum class Phase : uint8_t {
    kHeaders,  // reading the request line and header fields
    kBody,     // the headers are in (header_bytes set): reading the body
    kDone,     // answered kComplete or kError: the next Parse() restarts
  };

  // Which part of a header field the library is delivering. The library
  // calls on_header_field / on_header_value once per piece, and a name or
  // value cut by the end of a read arrives in several contiguous pieces.
  enum class FieldState : uint8_t {
    kNone,   // no field started (still in the request line)
    kName,   // `name` is the field's name read so far; `value` unset
    kValue,  // `name` is complete; `value` is its value read so far
  };

  // What the parser has learnt of the current request. Invariants:
  //   - the library (parser_) has read exactly in[0, fed) of the request,
  //     and every Span below lies within [0, fed);
  //   - phase is kBody from the headers' acceptance until the request
  //     completes; from then on header_bytes is their size and
  //     fed >= header_bytes - 1 (the blank line's last byte is read again
  //     after the pause that marks the headers' end);
  //   - the optional spans are the trimmed values of the headers tokend
  //     reads, each set at most once (a second one is an error);
  //   - error is the first refusal; once set, Parse() returns kError and
  //     phase is kDone, so the next Parse() starts afresh.
  struct State {
    Phase phase = Phase::kHeaders;
    size_t fed = 0;
    size_t header_bytes = 0;
    size_t size = 0;  // the request's size, once message_done
    bool message_done = false;
    HttpError error = HttpError::kNone;
    FieldState field = FieldState::kNone;
    Span name;
    Span value;
    bool value_set = false;  // a value piece arrived (an empty value has none)
    size_t header_count = 0;
    bool host_seen = false;
    bool expect_continue = false;
    bool url_set = false;
    Span url;   // the request-target
    Span path;  // its path and query, once the headers are accepted
    Span query;
    std::optional<Span> authorization;
    std::optional<Span> dapr_api_token;
    std::optional<Span> access_token;
    std::optional<Span> original_uri;
    std::optional<Span> audience;
    std::optional<Span> want_claims;
  };

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

  // Feeds in_[st_.fed, to) to the library; false (with st_.error set) when
  // it refused them.
  bool Feed(size_t to);
  // Ends the header field whose name and value have been collected.
  bool EndField();
  bool Fail(HttpError e);
  bool CheckRequestLine();
  // Fills *req from st_ with views into in_.
  void Fill(HttpRequest* req) const;
  size_t Offset(const char* at) const { return static_cast<size_t>(at - in_.data()); }

  HttpLimits limits_;
  http_parser parser_;
  http_parser_settings settings_;
  State st_;
  uint64_t bytes_fed_ = 0;
  // The bytes of the current Parse() call (valid during it only).
  std::string_view in_;
};

}  // namespace tokend::server::http

#endif  // TOKEND_DAEMON_SERVER_HTTP_REQUEST_PARSER_H_

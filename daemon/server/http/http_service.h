// SPDX-License-Identifier: Apache-2.0
// http_service.h
//
// HttpService is the HTTP/1.1 front's ProtocolHandler, in one of two roles
// on the same event loop. No I/O: the loop feeds it bytes and sends what it
// appends.
//
//   - kAuth (--http-socket): answers the auth subrequests of nginx
//     (auth_request), Envoy (ext_authz, HTTP mode), Traefik (forwardAuth)
//     and the like through the same RequestValidator as the binary
//     protocol. EVERY request, whatever its method and path, is an auth
//     decision: 2xx only for a valid token (so that a proxy forwarding the
//     client's own method and path, as ext_authz does, can never be talked
//     into an allow by asking for /healthz). The token and the answer
//     follow auth_mapping.h. The expected audience is the configured one(s);
//     X-Tokend-Audience may only narrow it to one of `audiences` (anything
//     else: 401 AUDIENCE_MISMATCH, not validated), or, when no audience is
//     configured, add that check.
//   - kAdmin (--admin-socket): GET or HEAD of /healthz (the `health`
//     callback's JSON body and status code, health.h; without it 200 "ok") and of /metrics (200
//     with the `metrics` callback's Prometheus text; 404 when there is none); any other path 404,
//     any other method on those paths 405. It never validates a token.
//   - Keep-alive and pipelining: every complete request in the input is
//     answered in order; a request that asks to close (Connection: close,
//     HTTP/1.0 without keep-alive) is answered and the connection closes.
//   - Request bodies are read and ignored, up to the parser's limit.
//   - A request the parser refuses (request_parser.h), a bad
//     X-Tokend-Claims or a bad accessToken query parameter is answered 400
//     (413 for a body over the limit) and the connection closes.
//   - Expect: 100-continue gets "100 Continue" when the headers have
//     arrived and the body has not.
//   - HandleConnection(), which the loops' Connections call, keeps each
//     connection's parser in its ProtocolSession: a request arriving in many
//     reads is parsed once, each byte as it arrives. Handle() parses from
//     the first byte of `in` on every call (same answers, more work).
//
// Thread-safety: one HttpService per worker thread; Handle() is not
// thread-safe; stats() is (relaxed counters with one writer). The
// callbacks are called on the worker's thread and must be thread-safe
// against the other workers' calls. Ownership: the service owns its
// RequestValidator.
#ifndef TOKEND_DAEMON_SERVER_HTTP_HTTP_SERVICE_H_
#define TOKEND_DAEMON_SERVER_HTTP_HTTP_SERVICE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/http/auth_mapping.h"
#include "daemon/server/http/request_parser.h"
#include "daemon/server/latency.h"
#include "daemon/server/protocol_handler.h"
#include "daemon/server/service.h"

namespace tokend::server::http {

// Seconds since the epoch (for the Date header).
using WallSeconds = int64_t (*)();
int64_t RealtimeSeconds();

enum class HttpRole : uint8_t {
  kAuth,   // every request is an auth decision
  kAdmin,  // GET /healthz and GET /metrics only
};

struct HttpServiceOptions {
  HttpRole role = HttpRole::kAuth;
  HttpLimits limits;
  // kAuth: the configured --audience values, which X-Tokend-Audience may
  // choose among (empty: it adds a check instead).
  std::vector<std::string> audiences;
  // kAdmin /healthz: appends the JSON body (health.h) and returns the
  // status code. Unset: 200 "ok".
  std::function<int(std::string*)> health;
  // kAdmin /metrics: appends the Prometheus text exposition. Unset: 404.
  std::function<void(std::string*)> metrics;
  NanoClock clock = &MonotonicNanos;          // latency
  WallSeconds wall_clock = &RealtimeSeconds;  // Date; null: no Date header
};

class HttpService final : public ProtocolHandler {
 public:
  // REQUIRES: `validator` is set for kAuth (kAdmin takes none).
  HttpService(std::unique_ptr<RequestValidator> validator, HttpServiceOptions options);
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Stateless: every call parses `in` from its first byte.
  size_t Handle(std::string_view in, std::string* out, bool* close) override;
  // Incremental: the connection's parser lives in *session, so a request
  // arriving in many reads is parsed once, each byte when it arrives.
  size_t HandleConnection(std::string_view in, std::string* out, bool* close,
                          std::unique_ptr<ProtocolSession>* session) override;
  ServiceStats stats() const override { return counters_.Snapshot(); }
  // 403 before any request is read; nginx auth_request passes 403 on.
  std::string_view RefusalReply() const override {
    return "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 41\r\n"
           "Connection: close\r\n\r\nrefused by the daemon's peer allow-list\r\n";
  }

 private:
  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Answers one complete request; false when it was refused with a 400
  // (the connection then closes).
  bool Answer(const HttpRequest& req, std::string* out);
  // Both Handle()s: `resume` when `parser` may hold the parse of the
  // request at the front of `in` from an earlier call.
  size_t HandleWith(HttpRequestParser& parser, bool resume, std::string_view in, std::string* out,
                    bool* close);
  void AnswerAdmin(const HttpRequest& req, std::string* out);
  ResponseCommon Common(const HttpRequest& req);

  std::unique_ptr<RequestValidator> validator_;
  HttpServiceOptions options_;
  HttpRequestParser parser_;  // the stateless Handle()'s
  std::string scratch_;       // a percent-decoded query value
  std::string body_;          // /metrics text, /healthz JSON
  int64_t date_second_ = -1;
  std::string date_;  // IMF-fixdate of date_second_

  ServiceCounters counters_;
};

}  // namespace tokend::server::http

#endif  // TOKEND_DAEMON_SERVER_HTTP_HTTP_SERVICE_H_

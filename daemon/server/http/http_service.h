// http_service.h
//
// HttpService is the HTTP/1.1 front's ProtocolHandler: it answers the auth
// subrequests of nginx (auth_request), Envoy (ext_authz, HTTP mode),
// Traefik (forwardAuth) and the like, plus GET /healthz and GET /metrics,
// on the same event loop and through the same RequestValidator as the
// binary protocol. No I/O: the loop feeds it bytes and sends what it
// appends.
//
//   - Any method and path is an auth check, except GET or HEAD of /healthz
//     (the `health` callback's JSON and code; without it, 200 when the
//     `ready` callback says keys are loaded, else 503) and of
//     /metrics (200 with the `metrics` callback's Prometheus text; 404 when
//     there is none). The token and the answer follow auth_mapping.h; the
//     expected audience is X-Tokend-Audience when present, else the
//     configured ones.
//   - Keep-alive and pipelining: every complete request in the input is
//     answered in order; a request that asks to close (Connection: close,
//     HTTP/1.0 without keep-alive) is answered and the connection closes.
//   - Request bodies are read and ignored, up to the parser's limit.
//   - A request the parser refuses (request_parser.h), a bad
//     X-Tokend-Claims or a bad accessToken query parameter is answered 400
//     (413 for a body over the limit) and the connection closes.
//   - Expect: 100-continue gets "100 Continue" when the headers have
//     arrived and the body has not.
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

#include "daemon/server/http/auth_mapping.h"
#include "daemon/server/http/request_parser.h"
#include "daemon/server/latency.h"
#include "daemon/server/protocol_handler.h"
#include "daemon/server/service.h"

namespace tokend::server::http {

// Seconds since the epoch (for the Date header).
using WallSeconds = int64_t (*)();
int64_t RealtimeSeconds();

struct HttpServiceOptions {
  HttpLimits limits;
  // /healthz: true when the daemon can validate (keys are loaded). Unset:
  // always ready.
  std::function<bool()> ready;
  // /healthz, when set (in place of `ready`): appends the JSON body
  // (health.h) and returns the status code.
  std::function<int(std::string*)> health;
  // /metrics: appends the Prometheus text exposition. Unset: 404.
  std::function<void(std::string*)> metrics;
  NanoClock clock = &MonotonicNanos;          // latency
  WallSeconds wall_clock = &RealtimeSeconds;  // Date; null: no Date header
};

class HttpService final : public ProtocolHandler {
 public:
  HttpService(std::unique_ptr<RequestValidator> validator, HttpServiceOptions options);
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  size_t Handle(std::string_view in, std::string* out, bool* close) override;
  ServiceStats stats() const override { return counters_.Snapshot(); }

 private:
  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Answers one complete request; false when it was refused with a 400
  // (the connection then closes).
  bool Answer(const HttpRequest& req, std::string* out);
  ResponseCommon Common(const HttpRequest& req);

  std::unique_ptr<RequestValidator> validator_;
  HttpServiceOptions options_;
  HttpRequestParser parser_;
  std::string scratch_;  // a percent-decoded query value
  std::string body_;     // /metrics text, /healthz JSON
  int64_t date_second_ = -1;
  std::string date_;  // IMF-fixdate of date_second_

  ServiceCounters counters_;
};

}  // namespace tokend::server::http

#endif  // TOKEND_DAEMON_SERVER_HTTP_HTTP_SERVICE_H_

// SPDX-License-Identifier: Apache-2.0
// protocol_handler.h
//
// What an event loop asks of the code that speaks a protocol on one of its
// listening sockets: turn the bytes at the front of a connection's input
// into responses, with no I/O. Service (the binary protocol, service.h) and
// HttpService (HTTP/1.1, http/http_service.h) implement it; a loop calls
// Handle() once per read, so a batch of pipelined requests costs one
// virtual call.
//
// Thread-safety: a handler belongs to one worker thread, which alone calls
// Handle(); stats() may be called from any thread (relaxed counters).
// Ownership: the loop owns the handlers its factories make, one per worker
// and listening socket, until the loop is destroyed.
#ifndef TOKEND_DAEMON_SERVER_PROTOCOL_HANDLER_H_
#define TOKEND_DAEMON_SERVER_PROTOCOL_HANDLER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/server/latency.h"
#include "protocol/codes.h"

namespace tokend::server {

// A point-in-time copy of one or more handlers' counters (for /metrics).
struct ServiceStats {
  // The protocol's status codes (protocol/codes.h); a validator answering
  // any other code is counted in responses_other_status.
  static constexpr size_t kStatusCount = protocol::kStatusCount;

  uint64_t validate_requests = 0;  // validations answered (VALIDATE frames, HTTP auth checks)
  uint64_t ping_requests = 0;      // PING frames; HTTP /healthz and /metrics
  std::array<uint64_t, kStatusCount> responses_by_status{};
  uint64_t responses_other_status = 0;
  // Requests answered with a protocol error, after which the connection
  // closes: the 255 body (bad version, unknown opcode, body over 65,536
  // bytes, inconsistent VALIDATE lengths); HTTP 400 and 413.
  uint64_t protocol_errors = 0;
  // HTTP: auth checks that carried no token (answered 401, not validated).
  uint64_t missing_token = 0;
  // Validations the validator answered from its token cache.
  uint64_t cache_hits = 0;
  // Validations of opaque API keys (answered with alg 64, or UNKNOWN_TOKEN);
  // the other validate_requests were taken for JWS.
  uint64_t api_key_requests = 0;
  // For each request answered: the time from the start of the Handle()
  // call that answered it to the end of that call (its response is sent
  // with the call's other responses, so this is when it could go out).
  LatencySnapshot latency;

  ServiceStats& operator+=(const ServiceStats& o);
};

// The live counters behind a handler's ServiceStats: one writer (the
// handler's worker thread), any number of relaxed readers. Bump() is a
// plain load and store, no read-modify-write on the request path.
struct ServiceCounters {
  std::atomic<uint64_t> validate_requests{0};
  std::atomic<uint64_t> ping_requests{0};
  std::array<std::atomic<uint64_t>, ServiceStats::kStatusCount> responses_by_status{};
  std::atomic<uint64_t> responses_other_status{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> missing_token{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> api_key_requests{0};
  LatencyRecorder latency;

  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // One response with protocol status `status`.
  void CountStatus(uint8_t status) {
    Bump(status < ServiceStats::kStatusCount ? responses_by_status[status]
                                             : responses_other_status);
  }
  // One validation answered with alg `alg` and status `status`: counted by
  // kind of token (PROTOCOL.md alg 64 and status 13 are API keys).
  void CountKind(uint8_t alg, uint8_t status) {
    if (alg == 64 || status == 13) Bump(api_key_requests);
  }
  // Thread-safe.
  ServiceStats Snapshot() const;
};

// What a handler keeps for one connection between reads (the HTTP front:
// the parse of a request still arriving). The connection owns it; the
// handler that made it is the only one that reads it.
class ProtocolSession {
 public:
  virtual ~ProtocolSession() = default;
};

class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;

  // Handle()
  //
  // Answers every complete request at the front of `in`, appending the
  // responses to `out`, and returns the bytes consumed; an incomplete
  // request at the end is left unconsumed (the connection keeps it and
  // calls again with more bytes appended). Sets *close to true when the
  // connection must close once `out` is sent (a protocol error, or a
  // request that asked for it); then nothing after the consumed bytes is
  // answered.
  virtual size_t Handle(std::string_view in, std::string* out, bool* close) = 0;

  // RefusalReply()
  //
  // What a peer refused by the allow lists is sent before its connection is
  // closed, so that it learns why (docs/protocol.md "Refused peers"); empty
  // sends nothing. The bytes must fit an empty socket buffer.
  virtual std::string_view RefusalReply() const { return {}; }

  // HandleConnection()
  //
  // Handle() for one connection, keeping what it learnt of an incomplete
  // request in *session (null until the handler first makes one), so that
  // the next call reads only the bytes appended since. The connection
  // passes the same session on every call and, as for Handle(), `in`
  // begins with the bytes the previous call left unconsumed. The default
  // keeps nothing and calls Handle().
  virtual size_t HandleConnection(std::string_view in, std::string* out, bool* close,
                                  std::unique_ptr<ProtocolSession>* session) {
    (void)session;
    return Handle(in, out, close);
  }

  // Thread-safe.
  virtual ServiceStats stats() const = 0;
};

// Makes the handler of one worker (called on that worker's thread).
using HandlerFactory = std::function<std::unique_ptr<ProtocolHandler>(int worker)>;

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_PROTOCOL_HANDLER_H_

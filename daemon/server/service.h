// SPDX-License-Identifier: Apache-2.0
// service.h
//
// Service turns the complete request frames at the front of a connection's
// input into response frames (docs/protocol.md), with no I/O: the event
// loops feed it bytes and send what it appends. It knows frames, not JWTs:
// validation goes through the RequestValidator interface, which main
// implements over daemon/auth.
//
// Service is the binary protocol's ProtocolHandler (protocol_handler.h).
//
// Thread-safety: one Service per worker thread; HandleFrames() is not
// thread-safe. stats() may be called from any thread at any time: the
// counters are relaxed atomics written by the owning worker only (so each
// value is exact, but a snapshot may mix values from a few requests apart).
//
// Ownership: a Service owns its RequestValidator; the views a validator
// returns live until its next Validate() call, and HandleFrames() copies
// them into `out` before that.
#ifndef TOKEND_DAEMON_SERVER_SERVICE_H_
#define TOKEND_DAEMON_SERVER_SERVICE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "daemon/server/latency.h"
#include "daemon/server/protocol_handler.h"

namespace tokend::server {

// What the server asks of the validator: one call per VALIDATE request.
class RequestValidator {
 public:
  struct Outcome {
    uint8_t status = 0;  // protocol status code (protocol/codes.h)
    uint8_t alg = 0;
    int64_t exp = 0;
    std::string_view subject;  // views live until the next Validate()
    std::string_view claims;
    bool cache_hit = false;  // answered from the validator's token cache
  };
  virtual ~RequestValidator() = default;
  virtual Outcome Validate(std::string_view token, std::string_view audience, bool want_claims) = 0;

  // The most tokens one Prepare() call passes.
  static constexpr size_t kMaxPrepared = 8;

  // Prepare()
  //
  // A hint that changes no answer: Validate() follows for each of `tokens`
  // (at most kMaxPrepared), in order and with the same views, before the
  // next Prepare(), and the bytes the views point to do not change until
  // then. A validator may use the time to start loading what those calls
  // will need (for tokend's, the cache lines of each token's cache entry),
  // so that the memory latencies of a batch of requests overlap. The
  // default does nothing.
  virtual void Prepare(std::span<const std::string_view> tokens) { (void)tokens; }
};

class Service final : public ProtocolHandler {
 public:
  // `clock` times each HandleFrames() call for the latency histogram.
  explicit Service(std::unique_ptr<RequestValidator> validator, NanoClock clock = &MonotonicNanos);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // HandleFrames()
  //
  // Answers every complete frame at the front of `in`, appending responses
  // to `out`, and returns the bytes consumed. Sets *close to false, or, on a
  // protocol error, appends the error response (the request's header echoed,
  // body 255), sets *close to true and stops: nothing after that frame is
  // answered (the bytes consumed then end after the bad frame's header, or
  // after its body when the body's lengths were the fault).
  // An incomplete frame at the end is left unconsumed. A PING's body is
  // ignored; a VALIDATE response carries claims only when the request set
  // WANT_CLAIMS.
  size_t HandleFrames(std::string_view in, std::string* out, bool* close);

  // ProtocolHandler: HandleFrames().
  size_t Handle(std::string_view in, std::string* out, bool* close) override {
    return HandleFrames(in, out, close);
  }

  // Thread-safe (see the file comment).
  ServiceStats stats() const override { return counters_.Snapshot(); }
  // The refusal frame: a protocol error (body 255) with opcode 0 and request
  // id 0, the answer to the connection rather than to any request.
  std::string_view RefusalReply() const override {
    static constexpr char kRefusal[] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, '\xff'};
    return std::string_view(kRefusal, sizeof kRefusal);
  }

 private:
  // One decoded VALIDATE or PING frame of a group (HandleFrames()).
  struct Decoded;
  // Answers one decoded frame into `out` and counts it.
  void Answer(const Decoded& d, std::string* out);

  std::unique_ptr<RequestValidator> validator_;
  const NanoClock clock_;

  ServiceCounters counters_;
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_SERVICE_H_

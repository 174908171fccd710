// service.h
//
// Service turns the complete request frames at the front of a connection's
// input into response frames (shared/PROTOCOL.md), with no I/O: the event
// loops feed it bytes and send what it appends. It knows frames, not JWTs:
// validation goes through the RequestValidator interface, which main
// implements over daemon/auth.
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
#include <string>
#include <string_view>

namespace tokend::server {

// What the server asks of the validator: one call per VALIDATE request.
class RequestValidator {
 public:
  struct Outcome {
    uint8_t status = 0;  // PROTOCOL.md status code
    uint8_t alg = 0;
    int64_t exp = 0;
    std::string_view subject;  // views live until the next Validate()
    std::string_view claims;
  };
  virtual ~RequestValidator() = default;
  virtual Outcome Validate(std::string_view token, std::string_view audience, bool want_claims) = 0;
};

// A point-in-time copy of one or more Services' counters (for /metrics).
struct ServiceStats {
  // PROTOCOL.md status codes 0 (OK) .. 12 (UNSUPPORTED_HEADER); a validator
  // answering any other code is counted in responses_other_status.
  static constexpr size_t kStatusCount = 13;

  uint64_t validate_requests = 0;  // well-formed VALIDATE frames answered
  uint64_t ping_requests = 0;      // PING frames answered
  std::array<uint64_t, kStatusCount> responses_by_status{};
  uint64_t responses_other_status = 0;
  // Frames answered with the 255 body: bad version, unknown opcode, body
  // over 65,536 bytes, inconsistent VALIDATE lengths.
  uint64_t protocol_errors = 0;

  ServiceStats& operator+=(const ServiceStats& o);
};

class Service {
 public:
  explicit Service(std::unique_ptr<RequestValidator> validator);
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

  // Thread-safe (see the file comment).
  ServiceStats stats() const;

 private:
  // Single writer (the owning worker), any number of relaxed readers: a
  // plain load + store, no read-modify-write on the request path.
  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void CountStatus(uint8_t status);

  std::unique_ptr<RequestValidator> validator_;

  std::atomic<uint64_t> validate_requests_{0};
  std::atomic<uint64_t> ping_requests_{0};
  std::array<std::atomic<uint64_t>, ServiceStats::kStatusCount> responses_by_status_{};
  std::atomic<uint64_t> responses_other_status_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_SERVICE_H_

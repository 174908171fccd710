// service.h
//
// Service turns the complete request frames at the front of a connection's
// input into response frames (shared/PROTOCOL.md), with no I/O: the event
// loops feed it bytes and send what it appends. It knows frames, not JWTs:
// validation goes through the RequestValidator interface, which main
// implements over daemon/auth. One Service per worker thread: not
// thread-safe.
#ifndef TOKEND_DAEMON_SERVER_SERVICE_H_
#define TOKEND_DAEMON_SERVER_SERVICE_H_

#include <array>
#include <atomic>
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

class Service {
 public:
  explicit Service(std::unique_ptr<RequestValidator> validator);

  // HandleFrames()
  //
  // Answers every complete frame at the front of `in`, appending responses
  // to `out`, and returns the bytes consumed. On a protocol error it appends
  // the error response, sets *close and stops: nothing after it is answered.
  // An incomplete frame at the end is left unconsumed.
  size_t HandleFrames(std::string_view in, std::string* out, bool* close);

 private:
  std::unique_ptr<RequestValidator> validator_;
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_SERVICE_H_

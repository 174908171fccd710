// SPDX-License-Identifier: Apache-2.0
// tokend/client.hpp
//
// A header-only C++ wrapper over the C ABI of tokend/client.h: an RAII
// handle, std::string_view in, absl::Status / absl::StatusOr out. It adds no
// behaviour: timeouts, the one silent reconnect, pipelining and matching by
// request id are the C library's (see the conventions at the top of
// client.h). Needs C++17 and abseil's status library (pkg-config
// absl_statusor, or CMake absl::statusor) besides tokend-client.
//
//   absl::StatusOr<tokend::Client> client = tokend::Client::Connect();
//   if (!client.ok()) return client.status();
//   absl::StatusOr<tokend::Validation> v = client->Validate(token, "api");
//   if (v.ok() && v->valid()) use(v->subject);
//
// Thread-safety: as the C handle. A Client is not thread-safe (one per
// thread, or your own lock); distinct Clients are independent. A Client owns
// its connection; moving it moves the connection.
#ifndef TOKEND_CLIENT_HPP_
#define TOKEND_CLIENT_HPP_

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tokend/client.h"

namespace tokend {

// One answer of the daemon (client.h tokend_result, with owned strings).
struct Validation {
  int status = TOKEND_STATUS_MALFORMED;  // TOKEND_STATUS_*
  std::string_view status_name;          // "OK", "EXPIRED", ...: static storage
  int alg = TOKEND_ALG_UNKNOWN;          // TOKEND_ALG_*
  std::string_view alg_name;             // "HS256", ...: static storage
  int64_t exp = 0;                       // seconds since the epoch; 0 if none
  std::string subject;                   // empty unless valid()
  std::string claims;                    // payload JSON, when asked for and valid()

  bool valid() const { return status == TOKEND_STATUS_OK; }
};

// One request of a batch.
struct ValidateRequest {
  std::string_view token;
  std::string_view audience;  // empty: no per-request audience
  bool want_claims = false;
};

class Client {
 public:
  // Connect()
  //
  // As tokend_connect(): an empty `socket_path` means $TOKEND_SOCKET or the
  // default socket; a zero `timeout` means TOKEND_DEFAULT_TIMEOUT_MS. Errors:
  // Unavailable (no daemon, timeout of the listen queue), PermissionDenied,
  // InvalidArgument, ResourceExhausted; the message says what to do.
  static absl::StatusOr<Client> Connect(
      std::string_view socket_path = {},
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    const std::string path(socket_path);
    tokend_client* c = nullptr;
    const int rc = tokend_connect(path.empty() ? nullptr : path.c_str(), TimeoutArg(timeout), &c);
    if (rc != TOKEND_OK) {
      const int err = errno;
      std::string what = "connect";
      if (!path.empty()) what += " " + path;
      if (rc == TOKEND_ERR_NO_DAEMON || rc == TOKEND_ERR_PERMISSION || rc == TOKEND_ERR_CONNECT) {
        what += ": " + std::generic_category().message(err);
      }
      return ToStatus(rc, what, nullptr);
    }
    return Client(c);
  }

  Client(Client&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  Client& operator=(Client&& other) noexcept {
    if (this != &other) {
      tokend_close(c_);
      c_ = std::exchange(other.c_, nullptr);
    }
    return *this;
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { tokend_close(c_); }

  // Validate()
  //
  // The daemon's answer for `token`: an invalid token is an OK StatusOr
  // whose Validation is not valid(). Errors: Unavailable (no daemon,
  // disconnected, I/O), DeadlineExceeded, PermissionDenied, DataLoss
  // (protocol), InvalidArgument, ResourceExhausted.
  absl::StatusOr<Validation> Validate(std::string_view token, std::string_view audience = {},
                                      bool want_claims = false) {
    tokend_result r;
    const int rc = tokend_validate(c_, token.data(), token.size(), audience.data(), audience.size(),
                                   want_claims ? TOKEND_WANT_CLAIMS : 0, &r);
    if (rc != TOKEND_OK) return ToStatus(rc, "validate", c_);
    return Take(&r);
  }

  // ValidateBatch()
  //
  // Answers in request order, pipelined on one connection; the timeout
  // bounds the whole batch. Errors as Validate().
  absl::StatusOr<std::vector<Validation>> ValidateBatch(
      const std::vector<ValidateRequest>& requests) {
    std::vector<tokend_request> in(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      in[i].token = requests[i].token.data();
      in[i].token_len = requests[i].token.size();
      in[i].audience = requests[i].audience.data();
      in[i].audience_len = requests[i].audience.size();
      in[i].flags = requests[i].want_claims ? TOKEND_WANT_CLAIMS : 0;
    }
    std::vector<tokend_result> out(requests.size());
    const int rc = tokend_validate_batch(c_, in.data(), out.data(), in.size());
    if (rc != TOKEND_OK) return ToStatus(rc, "validate batch", c_);
    struct ClearAll {  // frees what Take() did not reach if a copy throws
      std::vector<tokend_result>& v;
      ~ClearAll() {
        for (tokend_result& r : v) tokend_result_clear(&r);
      }
    } clear_all{out};
    std::vector<Validation> results;
    results.reserve(out.size());
    for (tokend_result& r : out) results.push_back(Take(&r));
    return results;
  }

  // Ping()
  //
  // A round trip that does no validation work. Errors as Validate().
  absl::Status Ping() {
    const int rc = tokend_ping(c_);
    return rc == TOKEND_OK ? absl::OkStatus() : ToStatus(rc, "ping", c_);
  }

  // SetTimeout()
  //
  // The timeout of later calls; zero means TOKEND_DEFAULT_TIMEOUT_MS.
  absl::Status SetTimeout(std::chrono::milliseconds timeout) {
    const int rc = tokend_set_timeout(c_, TimeoutArg(timeout));
    return rc == TOKEND_OK ? absl::OkStatus() : ToStatus(rc, "set timeout", c_);
  }

  // The C handle, for calls this wrapper does not cover. Still owned here.
  tokend_client* get() const { return c_; }

  // ToStatus()
  //
  // A TOKEND_ERR_* code as an absl::Status whose message names `what`, the
  // detail from `c` (may be null) and what to do.
  static absl::Status ToStatus(int rc, std::string_view what, const tokend_client* c) {
    std::string msg(what);
    const char* detail = tokend_last_error(c);
    if (detail[0] != '\0') {
      msg += ": ";
      msg += detail;
    }
    msg += ": ";
    msg += tokend_strerror(rc);
    switch (rc) {
      case TOKEND_ERR_INVALID:
        return absl::InvalidArgumentError(msg);
      case TOKEND_ERR_PERMISSION:
      case TOKEND_ERR_REFUSED:
        return absl::PermissionDeniedError(msg);
      case TOKEND_ERR_TIMEOUT:
        return absl::DeadlineExceededError(msg);
      case TOKEND_ERR_PROTOCOL:
        return absl::DataLossError(msg);
      case TOKEND_ERR_NOMEM:
        return absl::ResourceExhaustedError(msg);
      case TOKEND_ERR_NO_DAEMON:
      case TOKEND_ERR_CONNECT:
      case TOKEND_ERR_DISCONNECTED:
      case TOKEND_ERR_IO:
        return absl::UnavailableError(msg);
      default:
        return absl::UnknownError(msg);
    }
  }

 private:
  explicit Client(tokend_client* c) : c_(c) {}

  static int TimeoutArg(std::chrono::milliseconds t) {
    if (t.count() < 0) return -1;
    return t.count() > INT32_MAX ? INT32_MAX : static_cast<int>(t.count());
  }

  // Moves a C result into a Validation and clears it.
  static Validation Take(tokend_result* r) {
    struct Clear {
      tokend_result* r;
      ~Clear() { tokend_result_clear(r); }
    } clear{r};
    Validation v;
    v.status = r->status;
    v.status_name = r->status_name;
    v.alg = r->alg;
    v.alg_name = r->alg_name;
    v.exp = r->exp;
    v.subject.assign(r->sub, r->sub_len);
    v.claims.assign(r->claims, r->claims_len);
    return v;
  }

  tokend_client* c_ = nullptr;
};

}  // namespace tokend

#endif  // TOKEND_CLIENT_HPP_

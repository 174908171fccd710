// SPDX-License-Identifier: Apache-2.0
// ext_authz_service.h
//
// The gRPC front: Envoy's external authorization API
// (envoy.service.auth.v3.Authorization/Check, from third_party/envoy-api)
// and the standard grpc.health.v1.Health, over HTTP/2 on one Unix socket.
// Envoy's ext_authz filter, Istio's CUSTOM action and Authorino's clients
// speak it.
//
//   - ExtAuthz is the decision, with no server: a CheckRequest in, a
//     CheckResponse out, through the same RequestValidator (and so the same
//     auth::Validator, key set and token cache) as the binary and HTTP
//     fronts.
//     * The token: auth_mapping.h's sources 1-4 from the request's headers
//       (authorization Bearer, dapr-api-token, accesstoken) and the
//       accessToken query parameter of its path.
//     * The audience: the configured ones; context_extensions["audience"]
//       (set per route in Envoy) may only narrow it to one of `audiences`
//       (anything else: AUDIENCE_MISMATCH, not validated), or add that check
//       when none is configured, as X-Tokend-Audience on HTTP.
//     * context_extensions["claims"] "true"/"1" asks for the claims, as
//       X-Tokend-Claims on HTTP.
//     * Allowed: status OK and an OkHttpResponse that sets (overwriting
//       whatever the client sent) x-auth-subject, x-auth-expires and, when
//       asked for, x-auth-claims (the payload JSON, base64url) on the
//       upstream request, and removes a client's own x-auth-claims
//       otherwise; dynamic_metadata {"subject": sub, "expires": exp}.
//     * Refused: status UNAUTHENTICATED (16) with the status name as
//       message, and a DeniedHttpResponse 401 with WWW-Authenticate and
//       x-ext-auth-reason as auth_mapping.h's AppendRefused(); no token:
//       the same with reason MISSING_TOKEN (AppendMissingToken()).
//     * A bad accessToken query (a bad %-escape, given twice) or a bad
//       "claims" extension: status INVALID_ARGUMENT (3) and a
//       DeniedHttpResponse 400 (HTTP's 400).
//   - GrpcFront runs a grpc::Server (the callback API, on gRPC's own
//     threads, never the event loops' workers) on `unix:PATH` with ExtAuthz
//     and the default health service, which reports SERVING while
//     `healthy()` says so (polled every second). Requests over 1 MiB are
//     refused by gRPC; a connection has at most 1000 streams open at once.
//
// Thread-safety: ExtAuthz::Check() and stats() are thread-safe. Each call
// borrows a validator slot (a RequestValidator and its counters) from a
// pool for the duration of the call, so a validator is used by one thread
// at a time and the pool grows to the number of concurrent calls.
#ifndef TOKEND_DAEMON_SERVER_GRPC_EXT_AUTHZ_SERVICE_H_
#define TOKEND_DAEMON_SERVER_GRPC_EXT_AUTHZ_SERVICE_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/server/latency.h"
#include "daemon/server/protocol_handler.h"
#include "daemon/server/service.h"
#include "envoy/service/auth/v3/external_auth.pb.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace tokend::server::grpcfront {

using ValidatorFactory = std::function<std::unique_ptr<RequestValidator>()>;

struct ExtAuthzOptions {
  // The configured --audience values, which context_extensions["audience"]
  // may choose among (empty: it adds a check instead).
  std::vector<std::string> audiences;
  NanoClock clock = &MonotonicNanos;  // latency
};

class ExtAuthz {
 public:
  ExtAuthz(ValidatorFactory factory, ExtAuthzOptions options);
  ~ExtAuthz();
  ExtAuthz(const ExtAuthz&) = delete;
  ExtAuthz& operator=(const ExtAuthz&) = delete;

  void Check(const envoy::service::auth::v3::CheckRequest& request,
             envoy::service::auth::v3::CheckResponse* response);

  // The counters of every slot, summed.
  ServiceStats stats() const;

 private:
  struct Slot;
  Slot* Acquire();
  void Release(Slot* slot);
  void Decide(Slot& slot, const envoy::service::auth::v3::CheckRequest& request,
              envoy::service::auth::v3::CheckResponse* response);

  ValidatorFactory factory_;
  ExtAuthzOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;  // guarded by mu_ (the vector)
  std::vector<Slot*> free_;                   // guarded by mu_
};

struct GrpcFrontOptions {
  std::string path;               // the Unix socket to create
  mode_t mode = 0660;             // its file mode
  std::optional<gid_t> group;     // its group; unset: ours
  std::function<bool()> healthy;  // unset: always SERVING
  std::chrono::milliseconds health_poll{1000};
};

class GrpcFront {
 public:
  // Start()
  //
  // Binds `options.path` (a stale socket file there is replaced) with
  // `options.mode` and group, and serves `authz` (which must outlive the
  // front) on it.
  static absl::StatusOr<std::unique_ptr<GrpcFront>> Start(ExtAuthz* authz,
                                                          GrpcFrontOptions options);
  ~GrpcFront();  // Shutdown()
  GrpcFront(const GrpcFront&) = delete;
  GrpcFront& operator=(const GrpcFront&) = delete;

  // Shutdown()
  //
  // Stops accepting calls, waits up to `grace` for calls in flight, then
  // cancels the rest. Idempotent.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  GrpcFront() = default;
  void PollHealth();

  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  GrpcFrontOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread health_;
};

}  // namespace tokend::server::grpcfront

#endif  // TOKEND_DAEMON_SERVER_GRPC_EXT_AUTHZ_SERVICE_H_

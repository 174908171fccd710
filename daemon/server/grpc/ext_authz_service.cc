// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/grpc/ext_authz_service.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/server/http/auth_mapping.h"
#include "daemon/util/str_append.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "protocol/codes.h"

namespace tokend::server::grpcfront {
namespace {

using envoy::config::core::v3::HeaderValueOption;
using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;

// google.rpc.Code values.
constexpr int kRpcOk = 0;
constexpr int kRpcInvalidArgument = 3;
constexpr int kRpcUnauthenticated = 16;

void AddHeader(google::protobuf::RepeatedPtrField<HeaderValueOption>* headers, std::string_view key,
               std::string_view value) {
  HeaderValueOption* h = headers->Add();
  h->mutable_header()->set_key(std::string(key));
  h->mutable_header()->set_value(std::string(value));
  // Replace what the client sent under the same name, never add to it
  // (`append` for Envoy releases before append_action).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  h->mutable_append()->set_value(false);
#pragma GCC diagnostic pop
  h->set_append_action(HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
}

void Deny(int rpc_code, envoy::type::v3::StatusCode http_code, std::string_view reason,
          std::string_view www_authenticate, CheckResponse* response) {
  response->mutable_status()->set_code(rpc_code);
  response->mutable_status()->set_message(std::string(reason));
  envoy::service::auth::v3::DeniedHttpResponse* denied = response->mutable_denied_response();
  denied->mutable_status()->set_code(http_code);
  if (!www_authenticate.empty()) {
    AddHeader(denied->mutable_headers(), "www-authenticate", www_authenticate);
  }
  AddHeader(denied->mutable_headers(), "x-ext-auth-reason", reason);
}

void Refuse(uint8_t status, CheckResponse* response) {
  const std::string_view name = protocol::StatusName(status);
  Deny(kRpcUnauthenticated, envoy::type::v3::Unauthorized, name,
       StrCat("Bearer realm=\"tokend\", error=\"invalid_token\", error_description=\"", name, "\""),
       response);
}

// The extension `key` of the check, or nullopt.
std::optional<std::string_view> Extension(const CheckRequest& request, const std::string& key) {
  const auto& ext = request.attributes().context_extensions();
  auto it = ext.find(key);
  if (it == ext.end()) return std::nullopt;
  return std::string_view(it->second);
}

// The callback API: Check() runs on gRPC's own threads and answers at once
// (validation never blocks), so no thread waits per call.
class AuthorizationService final : public envoy::service::auth::v3::Authorization::CallbackService {
 public:
  explicit AuthorizationService(ExtAuthz* authz) : authz_(authz) {}
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context, const CheckRequest* request,
                                  CheckResponse* response) override {
    authz_->Check(*request, response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  ExtAuthz* authz_;
};

// True when something accepts connections on `path` (a live daemon, not a
// stale socket file left by a crash).
bool SomeoneListens(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

struct ExtAuthz::Slot {
  std::unique_ptr<RequestValidator> validator;
  ServiceCounters counters;
  std::string scratch;  // a percent-decoded query value
};

ExtAuthz::ExtAuthz(ValidatorFactory factory, ExtAuthzOptions options)
    : factory_(std::move(factory)), options_(std::move(options)) {}

ExtAuthz::~ExtAuthz() = default;

ExtAuthz::Slot* ExtAuthz::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      Slot* s = free_.back();
      free_.pop_back();
      return s;
    }
  }
  auto slot = std::make_unique<Slot>();
  slot->validator = factory_();
  Slot* s = slot.get();
  std::lock_guard<std::mutex> lock(mu_);
  slots_.push_back(std::move(slot));
  return s;
}

void ExtAuthz::Release(Slot* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(slot);
}

ServiceStats ExtAuthz::stats() const {
  ServiceStats total;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<Slot>& s : slots_) total += s->counters.Snapshot();
  return total;
}

void ExtAuthz::Check(const CheckRequest& request, CheckResponse* response) {
  const uint64_t start = options_.clock();
  Slot* slot = Acquire();
  Decide(*slot, request, response);
  slot->counters.latency.Record(options_.clock() - start);
  Release(slot);
}

void ExtAuthz::Decide(Slot& slot, const CheckRequest& request, CheckResponse* response) {
  ServiceCounters& counters = slot.counters;
  const auto& httpreq = request.attributes().request().http();
  const auto& headers = httpreq.headers();
  const auto& raw_headers = httpreq.header_map().headers();
  // Envoy sends the headers in `headers`, or, with encode_raw_headers, in
  // `header_map` (names lower-case in both).
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    if (!headers.empty()) {
      auto it = headers.find(std::string(name));
      if (it == headers.end()) return std::nullopt;
      return std::string_view(it->second);
    }
    for (const envoy::config::core::v3::HeaderValue& h : raw_headers) {
      if (h.key() == name)
        return std::string_view(h.raw_value().empty() ? h.value() : h.raw_value());
    }
    return std::nullopt;
  };
  std::string_view path = httpreq.path();
  if (path.empty()) path = lookup(":path").value_or(std::string_view());

  const std::optional<bool> want_claims = http::WantClaims(Extension(request, "claims"));
  const http::TokenLookup token = http::ExtractTokenFromHeaders(lookup, path, &slot.scratch);
  if (!want_claims.has_value() || token.source == http::TokenSource::kBadQuery) {
    ServiceCounters::Bump(counters.protocol_errors);
    Deny(kRpcInvalidArgument, envoy::type::v3::BadRequest,
         want_claims.has_value() ? "BAD_QUERY" : "BAD_CLAIMS_EXTENSION", "", response);
    return;
  }
  if (token.source == http::TokenSource::kNone) {
    ServiceCounters::Bump(counters.missing_token);
    Deny(kRpcUnauthenticated, envoy::type::v3::Unauthorized, "MISSING_TOKEN",
         "Bearer realm=\"tokend\"", response);
    return;
  }
  const std::string_view audience = Extension(request, "audience").value_or(std::string_view());
  ServiceCounters::Bump(counters.validate_requests);
  if (!http::AudienceAllowed(audience, options_.audiences)) {
    // A route's extension must not widen what the daemon is configured to
    // accept.
    counters.CountStatus(protocol::kStatusAudienceMismatch);
    Refuse(protocol::kStatusAudienceMismatch, response);
    return;
  }
  const RequestValidator::Outcome o = slot.validator->Validate(token.token, audience, *want_claims);
  if (o.cache_hit) ServiceCounters::Bump(counters.cache_hits);
  uint8_t status = o.status;
  // As on HTTP: a subject that would not arrive unchanged upstream is
  // refused rather than passed on as someone else.
  if (status == protocol::kStatusOk && !http::SafeHeaderValue(o.subject)) {
    status = protocol::kStatusMalformed;
  }
  counters.CountStatus(status);
  if (status != protocol::kStatusOk) {
    Refuse(status, response);
    return;
  }
  response->mutable_status()->set_code(kRpcOk);
  envoy::service::auth::v3::OkHttpResponse* ok = response->mutable_ok_response();
  AddHeader(ok->mutable_headers(), "x-auth-subject", o.subject);
  AddHeader(ok->mutable_headers(), "x-auth-expires", StrCat(o.exp));
  if (*want_claims) {
    std::string b64;
    http::Base64UrlEncode(o.claims, &b64);
    AddHeader(ok->mutable_headers(), "x-auth-claims", b64);
  } else {
    ok->add_headers_to_remove("x-auth-claims");
  }
  auto* fields = response->mutable_dynamic_metadata()->mutable_fields();
  (*fields)["subject"].set_string_value(std::string(o.subject));
  (*fields)["expires"].set_number_value(static_cast<double>(o.exp));
}

absl::StatusOr<std::unique_ptr<GrpcFront>> GrpcFront::Start(ExtAuthz* authz,
                                                            GrpcFrontOptions options) {
  if (SomeoneListens(options.path)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--grpc-socket ", options.path, ": another process is listening there"));
  }
  // protobuf logs every request it refuses to parse (invalid UTF-8 in a
  // string field): a client could fill the journal. gRPC answers such a
  // call with an error status, which is enough.
  google::protobuf::SetLogHandler(nullptr);
  std::unique_ptr<GrpcFront> front(new GrpcFront());
  front->options_ = std::move(options);
  front->service_ = std::make_unique<AuthorizationService>(authz);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("unix:", front->options_.path),
                           grpc::InsecureServerCredentials());
  builder.RegisterService(front->service_.get());
  builder.SetMaxReceiveMessageSize(1 << 20);
  // HTTP/2 streams open at once on one connection: a client past it waits,
  // as gRPC clients do, rather than costing memory. (gRPC's connections
  // are not counted in --max-connections.)
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 1000);
  // The socket is created with the process umask: keep it closed to
  // everyone until its mode and group are set below.
  const mode_t old_umask = ::umask(0177);
  front->server_ = builder.BuildAndStart();
  ::umask(old_umask);
  if (front->server_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("--grpc-socket ", front->options_.path, ": gRPC could not listen there"));
  }
  const std::string& path = front->options_.path;
  if (front->options_.group.has_value() && ::chown(path.c_str(), -1, *front->options_.group) != 0) {
    const int e = errno;
    front->Shutdown(std::chrono::milliseconds(0));
    return absl::PermissionDeniedError(
        absl::StrCat("--grpc-socket ", path, ": chown: ", std::strerror(e)));
  }
  if (::chmod(path.c_str(), front->options_.mode) != 0) {
    const int e = errno;
    front->Shutdown(std::chrono::milliseconds(0));
    return absl::PermissionDeniedError(
        absl::StrCat("--grpc-socket ", path, ": chmod: ", std::strerror(e)));
  }
  grpc::HealthCheckServiceInterface* health = front->server_->GetHealthCheckService();
  health->SetServingStatus(envoy::service::auth::v3::Authorization::service_full_name(), true);
  health->SetServingStatus(!front->options_.healthy || front->options_.healthy());
  if (front->options_.healthy) {
    front->health_ = std::thread([f = front.get()] { f->PollHealth(); });
  }
  return front;
}

void GrpcFront::PollHealth() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, options_.health_poll, [this] { return stop_; })) break;
    lock.unlock();
    server_->GetHealthCheckService()->SetServingStatus(options_.healthy());
    lock.lock();
  }
}

void GrpcFront::Shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (health_.joinable()) health_.join();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    ::unlink(options_.path.c_str());
  }
}

GrpcFront::~GrpcFront() { Shutdown(); }

}  // namespace tokend::server::grpcfront

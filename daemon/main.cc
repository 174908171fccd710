// SPDX-License-Identifier: Apache-2.0
// main.cc
//
// tokend's entry point: flags -> Config -> wire the parts -> run. The parts
// do the work; this file only builds them in dependency order, reports
// setup failures, and turns signals into reloads and a clean stop.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/key_watcher.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth_adapter.h"
#include "daemon/config.h"
#include "daemon/server/event_loop.h"
#include "daemon/server/grpc/ext_authz_service.h"
#include "daemon/server/health.h"
#include "daemon/server/http/http_service.h"
#include "daemon/server/listener.h"
#include "daemon/server/metrics.h"
#include "daemon/server/service.h"
#include "daemon/server/systemd_notify.h"
#include "daemon/signal_thread.h"
#include "daemon/util/log.h"

#ifndef TOKEND_VERSION
#define TOKEND_VERSION "unknown"
#endif

namespace tokend {
namespace {

// "1 key", "2 keys".
std::string Count(uint64_t n, absl::string_view one, absl::string_view many = "") {
  if (n == 1) return absl::StrCat(n, " ", one);
  if (many.empty()) return absl::StrCat(n, " ", one, "s");
  return absl::StrCat(n, " ", many);
}

auth::Policy PolicyFrom(const Config& config) {
  auth::Policy policy;
  policy.audiences = config.audiences;
  policy.issuers = config.issuers;
  policy.leeway_seconds = config.leeway_seconds;
  policy.max_token_bytes = config.max_token_bytes;
  policy.required_claims = config.required_claims;
  policy.allowed_algs = config.allowed_algs;
  return policy;
}

server::LoopOptions LoopOptionsFrom(const Config& config) {
  server::LoopOptions options;
  options.threads = config.threads;
  options.max_connections = config.max_connections;
  options.max_connections_per_uid = config.max_connections_per_uid;
  options.max_buffered_bytes = config.max_buffered_bytes;
  options.write_stall_timeout = std::chrono::seconds(config.write_stall_timeout_seconds);
  options.allow_uids = config.allow_uids;
  options.allow_gids = config.allow_gids;
  return options;
}

// Each client connection is a descriptor: raise the soft RLIMIT_NOFILE
// towards the hard limit when --max-connections needs it.
void RaiseFileLimit(size_t max_connections) {
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + 256;
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  rlim_t target = lim.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, lim.rlim_max);
  if (target > lim.rlim_cur) {
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < wanted) {
    LogWarning(absl::StrCat("open-file limit is ", lim.rlim_cur, ", below the ", wanted,
                            " that --max-connections ", max_connections, " needs"));
  }
}

absl::StatusOr<server::Listener> CreateSocket(const Config& config, const std::string& path) {
  server::ListenerOptions options;
  options.path = path;
  options.mode = config.socket_mode;
  options.group = config.socket_group;
  absl::StatusOr<server::Listener> listener = server::Listener::Bind(options);
  if (!listener.ok()) return listener.status();
  if (listener->replaced_stale()) LogInfo(absl::StrCat("replaced stale socket file ", path));
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(config.socket_mode));
  LogInfo(absl::StrCat("listening on ", path, " (mode ", mode,
                       config.socket_group ? absl::StrCat(", group ", *config.socket_group) : "",
                       ")"));
  return listener;
}

// The listening sockets: those systemd passed (socket activation), matched
// by name (FileDescriptorName=protocol / http, as tokend.socket and
// tokend-http.socket set) or else to --socket, --http-socket and
// --admin-socket by path, and created for a path it did not pass. A socket
// named "http" serves HTTP even without --http-socket. A single passed
// socket that matches nothing serves
// the protocol.
struct Sockets {
  std::optional<server::Listener> protocol;
  std::optional<server::Listener> http;
  std::optional<server::Listener> admin;
};

absl::StatusOr<Sockets> OpenSockets(const Config& config) {
  absl::StatusOr<std::vector<server::Listener>> inherited = server::Listener::FromSystemd();
  if (!inherited.ok()) return inherited.status();
  Sockets sockets;
  if (!inherited->empty()) {
    sockets.protocol = server::Listener::TakeByName(&*inherited, "protocol");
    if (!sockets.protocol.has_value()) {
      sockets.protocol = server::Listener::TakeByPath(&*inherited, config.socket_path);
    }
    sockets.http = server::Listener::TakeByName(&*inherited, "http");
    if (!sockets.http.has_value() && !config.http_socket_path.empty()) {
      sockets.http = server::Listener::TakeByPath(&*inherited, config.http_socket_path);
    }
    if (!config.admin_socket_path.empty()) {
      sockets.admin = server::Listener::TakeByPath(&*inherited, config.admin_socket_path);
    }
    if (!sockets.protocol.has_value() && inherited->size() == 1) {
      sockets.protocol = std::move(inherited->front());
      inherited->clear();
    }
    if (!inherited->empty()) {
      std::vector<std::string> paths;
      for (const server::Listener& l : *inherited) paths.push_back(l.path());
      return absl::InvalidArgumentError(
          absl::StrCat("systemd passed sockets that match none of --socket, --http-socket and "
                       "--admin-socket: ",
                       absl::StrJoin(paths, ", ")));
    }
    for (const std::optional<server::Listener>* l :
         {&sockets.protocol, &sockets.http, &sockets.admin}) {
      if (l->has_value()) {
        LogInfo(absl::StrCat("listening on ", (*l)->path(),
                             " (socket activation: the socket unit sets its mode and group)"));
      }
    }
  }
  if (!sockets.protocol.has_value()) {
    absl::StatusOr<server::Listener> created = CreateSocket(config, config.socket_path);
    if (!created.ok()) return created.status();
    sockets.protocol = *std::move(created);
  }
  if (!config.http_socket_path.empty() && !sockets.http.has_value()) {
    absl::StatusOr<server::Listener> created = CreateSocket(config, config.http_socket_path);
    if (!created.ok()) return created.status();
    sockets.http = *std::move(created);
  }
  if (!config.admin_socket_path.empty() && !sockets.admin.has_value()) {
    absl::StatusOr<server::Listener> created = CreateSocket(config, config.admin_socket_path);
    if (!created.ok()) return created.status();
    sockets.admin = *std::move(created);
  }
  return sockets;
}

// Healthz()
//
// The one place that decides GET /healthz on the admin socket: the JSON of
// health.h (keys loaded, the latest reload's outcome) and its status code,
// 200 while keys are loaded, else 503.
int Healthz(const auth::KeySetPublisher& publisher, const auth::KeyWatcher& keys,
            std::string* body) {
  const auth::KeyWatcherStats k = keys.stats();
  server::HealthSnapshot h;
  const std::shared_ptr<const auth::KeySet> set = publisher.Current();
  // API keys alone will do: either kind of key can validate.
  h.keys_loaded = set->keys->size() + (set->api_keys != nullptr ? set->api_keys->size() : 0);
  h.reload_failed = k.last_load_failed;
  h.reload_failure = k.last_failure;
  h.failing_since_unix = k.failing_since_unix;
  h.last_good_load_unix = k.last_good_load_unix;
  return server::AppendHealthJson(h, body);
}

// --event-loop auto tries io_uring and falls back to epoll only when the
// kernel refuses io_uring (kUnavailable); any other failure is an error.
absl::StatusOr<std::unique_ptr<server::EventLoop>> MakeLoop(
    const Config& config, const std::vector<server::Endpoint>& endpoints) {
  server::LoopOptions options = LoopOptionsFrom(config);
  if (config.event_loop == EventLoopKind::kEpoll) {
    LogInfo("event loop: epoll (--event-loop epoll)");
    return server::MakeEpollLoop(endpoints, options);
  }
  absl::StatusOr<std::unique_ptr<server::EventLoop>> uring =
      server::MakeUringLoop(endpoints, options);
  if (uring.ok()) {
    LogInfo(config.event_loop == EventLoopKind::kAuto
                ? "event loop: io_uring (--event-loop auto; the kernel allows io_uring)"
                : "event loop: io_uring (--event-loop io_uring)");
    return uring;
  }
  if (config.event_loop == EventLoopKind::kIoUring || !absl::IsUnavailable(uring.status())) {
    return absl::Status(uring.status().code(),
                        absl::StrCat("io_uring event loop: ", uring.status().message()));
  }
  LogWarning(absl::StrCat("event loop: epoll, because io_uring is unavailable (",
                          uring.status().message(), ")"));
  return server::MakeEpollLoop(endpoints, options);
}

int Run(const Config& config) {
  RaiseFileLimit(config.max_connections);
  const auth::Policy policy = PolicyFrom(config);

  auth::KeyWatcherOptions watch;
  watch.keys_path = config.keys_path;
  watch.revoked_path = config.revoked_path;
  watch.poll_interval = std::chrono::seconds(config.poll_interval_seconds);
  watch.log = [](LogLevel level, std::string_view line) { Log(level, line); };
  watch.allowed_algs = config.allowed_algs;

  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const auth::KeySet>> initial = LoadInitialKeySet(watch, &warnings);
  for (const std::string& w : warnings) LogWarning(w);
  if (!initial.ok()) {
    LogError(absl::StrCat("refusing to start: ", initial.status().message()));
    return 1;
  }
  const size_t key_count = (*initial)->keys->size();
  auth::KeySetPublisher publisher(*std::move(initial));
  watch.initial_warnings = std::move(warnings);  // logged above: not repeated

  std::unique_ptr<auth::TokenCache> cache;
  if (config.cache_entries > 0) {
    auth::TokenCache::Options cache_options;
    cache_options.max_entries = config.cache_entries;
    cache_options.leeway_seconds = config.leeway_seconds;
    absl::StatusOr<std::unique_ptr<auth::TokenCache>> made =
        auth::TokenCache::Create(cache_options);
    if (!made.ok()) {
      LogError(absl::StrCat("token cache: ", made.status().message()));
      return 1;
    }
    cache = *std::move(made);
  }

  absl::StatusOr<Sockets> sockets = OpenSockets(config);
  if (!sockets.ok()) {
    LogError(absl::StrCat("refusing to start: ", sockets.status().message()));
    return 1;
  }
  server::Listener& listener = *sockets->protocol;

  absl::StatusOr<std::unique_ptr<auth::KeyWatcher>> watcher =
      auth::KeyWatcher::Create(watch, &publisher);
  if (!watcher.ok()) {
    LogError(absl::StrCat("key watcher: ", watcher.status().message()));
    return 1;
  }

  // The gRPC front (--grpc-socket): its own threads, sharing the policy, key
  // set and cache with the loop's workers.
  std::unique_ptr<server::grpcfront::ExtAuthz> ext_authz;
  if (!config.grpc_socket_path.empty()) {
    server::grpcfront::ExtAuthzOptions grpc_options;
    grpc_options.audiences = config.audiences;
    ext_authz = std::make_unique<server::grpcfront::ExtAuthz>(
        [&policy, &publisher, cache = cache.get()] {
          return std::make_unique<AuthRequestValidator>(policy, publisher, cache);
        },
        grpc_options);
  }

  // Set before Run(), which starts the workers whose /metrics reads it.
  server::EventLoop* loop_for_metrics = nullptr;
  std::vector<std::string> protocols = {"binary"};
  std::vector<server::Endpoint> endpoints;
  endpoints.push_back(
      server::ServiceEndpoint(listener.fd(), [&policy, &publisher, cache = cache.get()](int) {
        return std::make_unique<server::Service>(
            std::make_unique<AuthRequestValidator>(policy, publisher, cache));
      }));
  if (sockets->http.has_value()) {
    server::http::HttpServiceOptions http_options;
    http_options.role = server::http::HttpRole::kAuth;
    http_options.audiences = config.audiences;
    server::Endpoint http;
    http.listen_fd = sockets->http->fd();
    http.factory = [&policy, &publisher, cache = cache.get(), http_options](int) {
      return std::make_unique<server::http::HttpService>(
          std::make_unique<AuthRequestValidator>(policy, publisher, cache), http_options);
    };
    endpoints.push_back(std::move(http));
    protocols.push_back("http");
  }
  if (sockets->admin.has_value()) {
    server::http::HttpServiceOptions admin_options;
    admin_options.role = server::http::HttpRole::kAdmin;
    admin_options.health = [&publisher, keys = watcher->get()](std::string* body) {
      return Healthz(publisher, *keys, body);
    };
    admin_options.metrics = [&loop_for_metrics, &protocols, keys = watcher->get(),
                             cache_on = cache != nullptr,
                             grpc = ext_authz.get()](std::string* out) {
      server::MetricsSnapshot m;
      if (loop_for_metrics != nullptr) m.loop = loop_for_metrics->stats();
      m.protocols = protocols;
      if (grpc != nullptr) {
        // After the loop's endpoints, as one more protocol.
        m.loop.endpoints.resize(m.protocols.size());
        const server::ServiceStats g = grpc->stats();
        m.loop.endpoints.push_back(g);
        m.loop.service += g;
        m.protocols.push_back("grpc");
      }
      const auth::KeyWatcherStats k = keys->stats();
      m.reloads = k.reloads;
      m.reload_failures = k.reload_failures;
      m.keys_loaded = k.keys_loaded;
      m.revoked_entries = k.revoked_entries;
      m.last_reload_unix = k.last_reload_unix;
      m.reload_failed = k.last_load_failed;
      m.last_good_load_unix = k.last_good_load_unix;
      m.cache_enabled = cache_on;
      server::AppendPrometheusText(m, out);
    };
    server::Endpoint admin;
    admin.listen_fd = sockets->admin->fd();
    admin.factory = [admin_options](int) {
      return std::make_unique<server::http::HttpService>(nullptr, admin_options);
    };
    endpoints.push_back(std::move(admin));
    protocols.push_back("admin");
  }
  absl::StatusOr<std::unique_ptr<server::EventLoop>> loop = MakeLoop(config, endpoints);
  if (!loop.ok()) {
    LogError(absl::StrCat("refusing to start: ", loop.status().message()));
    return 1;
  }
  loop_for_metrics = loop->get();

  std::unique_ptr<server::grpcfront::GrpcFront> grpc_front;
  if (ext_authz != nullptr) {
    server::grpcfront::GrpcFrontOptions front;
    front.path = config.grpc_socket_path;
    front.mode = config.socket_mode;
    front.group = config.socket_group;
    front.healthy = [&publisher] {
      // Serving while keys (of either kind) are loaded, as /healthz's 200.
      const std::shared_ptr<const auth::KeySet> set = publisher.Current();
      return set->keys->size() > 0 || set->api_keys != nullptr;
    };
    absl::StatusOr<std::unique_ptr<server::grpcfront::GrpcFront>> started =
        server::grpcfront::GrpcFront::Start(ext_authz.get(), std::move(front));
    if (!started.ok()) {
      LogError(absl::StrCat("refusing to start: ", started.status().message()));
      return 1;
    }
    grpc_front = *std::move(started);
    LogInfo(absl::StrCat("gRPC (Envoy ext_authz, grpc.health.v1) on ", config.grpc_socket_path));
  }

  server::SystemdNotifier notifier;
  absl::StatusOr<std::chrono::microseconds> watchdog = notifier.StartWatchdog();
  if (!watchdog.ok()) {
    LogWarning(absl::StrCat("watchdog: ", watchdog.status().message()));
  } else if (watchdog->count() > 0) {
    LogInfo(absl::StrCat("watchdog: pinging every ", watchdog->count() / 2000, " ms"));
  }

  server::EventLoop* running = loop->get();
  auth::KeyWatcher* keys = watcher->get();
  const std::string serving = absl::StrCat(
      "serving on ", listener.path(),
      sockets->http.has_value() ? absl::StrCat(", HTTP on ", sockets->http->path()) : "",
      sockets->admin.has_value() ? absl::StrCat(", admin on ", sockets->admin->path()) : "",
      grpc_front != nullptr ? absl::StrCat(", gRPC on ", config.grpc_socket_path) : "", " with ",
      running->name(), ", ", config.threads, config.threads == 1 ? " thread" : " threads");
  std::atomic<bool> stopping{false};
  SignalThread::Handlers handlers;
  handlers.reload = [&] {
    if (stopping.load()) return;
    LogInfo("SIGHUP: reloading keys");
    notifier.Reloading("reloading keys");
    absl::Status st = keys->ReloadAndWait();
    auth::KeyWatcherStats stats = keys->stats();
    if (st.ok()) {
      LogInfo(absl::StrCat("SIGHUP: reload done; ", Count(stats.keys_loaded, "key"), ", ",
                           Count(stats.revoked_entries, "revocation entry", "revocation entries")));
    } else {
      LogError(absl::StrCat("SIGHUP: reload failed, keeping the current keys: ", st.message()));
    }
    notifier.Ready(absl::StrCat(serving, "; ", Count(stats.keys_loaded, "key")));
  };
  handlers.stop = [&](int signo) {
    if (stopping.exchange(true)) return;
    LogInfo(absl::StrCat(signo == SIGINT ? "SIGINT" : "SIGTERM",
                         ": stopping after answering what was received"));
    notifier.Stopping("stopping");
    running->Stop();
  };
  absl::StatusOr<std::unique_ptr<SignalThread>> signals = SignalThread::Start(std::move(handlers));
  if (!signals.ok()) {
    LogError(absl::StrCat("signals: ", signals.status().message()));
    return 1;
  }

  LogInfo(absl::StrCat(serving, "; ", Count(key_count, "key"), " from ", config.keys_path,
                       cache ? absl::StrCat("; cache of ", cache->capacity(), " entries (tag ",
                                            cache->tag_name(), ")")
                             : std::string("; cache off")));
  notifier.Ready(absl::StrCat(serving, "; ", Count(key_count, "key")));

  absl::Status run = running->Run();
  signals->reset();  // no handler runs past this point
  if (grpc_front != nullptr) grpc_front->Shutdown();
  if (!run.ok()) {
    LogError(absl::StrCat("event loop failed: ", run.message()));
    return 1;
  }
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace tokend

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the mask.
  if (absl::Status st = tokend::SignalThread::BlockSignals(); !st.ok()) {
    std::fprintf(stderr, "tokend: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  absl::StatusOr<tokend::Config> config =
      tokend::ParseConfig(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    std::fprintf(stderr, "tokend: %s\nRun 'tokend --help' for the options.\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(tokend::Usage().c_str(), stdout);
    return 0;
  }
  if (config->version) {
    std::printf("tokend %s\n", TOKEND_VERSION);
    return 0;
  }
  return tokend::Run(*config);
}

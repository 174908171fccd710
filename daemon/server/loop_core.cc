// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/loop_core.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/util/log.h"

namespace tokend::server::internal {
namespace {

// Timeouts are checked this many times per (shortest) timeout period, so a
// timeout fires at most a quarter late; never more often than every
// millisecond nor less often than every half second.
std::chrono::milliseconds TickFor(const LoopOptions& o) {
  auto t = std::min(o.frame_timeout, o.drain_timeout) / 4;
  if (o.write_stall_timeout.count() > 0) t = std::min(t, o.write_stall_timeout / 4);
  return std::clamp(t, std::chrono::milliseconds(1), std::chrono::milliseconds(500));
}

// Reads per connection at Stop(), after its loop receive ended.
constexpr int kStopReads = 64;

}  // namespace

std::string ErrnoMessage(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return m;
}

absl::StatusOr<std::unique_ptr<LoopCore>> LoopCore::Create(std::vector<Endpoint> endpoints,
                                                           LoopOptions options) {
  if (endpoints.empty()) return absl::InvalidArgumentError("event loop: no endpoint");
  if (endpoints.size() > kMaxEndpoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("event loop: more than ", kMaxEndpoints, " endpoints"));
  }
  for (size_t e = 0; e < endpoints.size(); ++e) {
    if (endpoints[e].listen_fd < 0) {
      return absl::InvalidArgumentError("event loop: no listening socket");
    }
    if (!endpoints[e].factory) return absl::InvalidArgumentError("event loop: no service factory");
    for (size_t f = 0; f < e; ++f) {
      if (endpoints[f].listen_fd == endpoints[e].listen_fd) {
        return absl::InvalidArgumentError("event loop: a listening socket given twice");
      }
    }
  }
  if (options.threads < 1) return absl::InvalidArgumentError("event loop: threads must be >= 1");
  if (options.max_connections == 0 || options.max_unsent_bytes == 0 ||
      options.recv_buffer_size == 0 || options.recv_buffers == 0 ||
      options.frame_timeout.count() <= 0 || options.drain_timeout.count() < 0 ||
      options.write_stall_timeout.count() < 0) {
    return absl::InvalidArgumentError("event loop: limits must be positive");
  }
  std::unique_ptr<LoopCore> core(new LoopCore(std::move(endpoints), std::move(options)));
  for (int i = 0; i < core->options_.threads; ++i) {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, ErrnoMessage("event loop: eventfd", errno));
    }
    core->wake_fds_.push_back(fd);
  }
  return core;
}

LoopCore::LoopCore(std::vector<Endpoint> endpoints, LoopOptions options)
    : endpoints_(std::move(endpoints)),
      options_(std::move(options)),
      peer_policy_(options_.allow_uids, options_.allow_gids),
      tick_(TickFor(options_)),
      accept_(options_.max_connections, options_.max_connections_per_uid),
      budget_(options_.max_buffered_bytes) {
  for (int i = 0; i < options_.threads; ++i) {
    counters_.push_back(std::make_unique<WorkerCounters>());
  }
  handlers_.resize(endpoints_.size());
  for (auto& per_worker : handlers_) per_worker.resize(options_.threads);
}

LoopCore::~LoopCore() {
  for (int fd : wake_fds_) ::close(fd);
}

absl::Status LoopCore::RunWorkers(const std::function<absl::Status(int)>& worker) {
  if (ran_.exchange(true)) return absl::FailedPreconditionError("event loop: Run() called twice");
  std::mutex mu;
  absl::Status first_error;
  auto run_one = [&](int i) {
    absl::Status st = worker(i);
    if (!st.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = st;
      }
      Stop();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(options_.threads - 1);
  for (int i = 1; i < options_.threads; ++i) threads.emplace_back(run_one, i);
  run_one(0);
  for (auto& t : threads) t.join();
  return first_error;
}

void LoopCore::Stop() {
  stop_.store(true, std::memory_order_release);
  for (int fd : wake_fds_) {
    const uint64_t one = 1;
    // EAGAIN (counter saturated) still leaves the eventfd readable.
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
  }
}

absl::StatusOr<std::vector<ProtocolHandler*>> LoopCore::CreateHandlers(int worker) {
  std::vector<ProtocolHandler*> made;
  for (size_t e = 0; e < endpoints_.size(); ++e) {
    std::unique_ptr<ProtocolHandler> h = endpoints_[e].factory(worker);
    if (h == nullptr) {
      return absl::InternalError(
          absl::StrCat("event loop: no service for worker ", worker, " (endpoint ", e, ")"));
    }
    made.push_back(h.get());
    std::lock_guard<std::mutex> lock(handlers_mu_);
    handlers_[e][worker] = std::move(h);
  }
  return made;
}

LoopCore::Admission LoopCore::Admit(int worker, int fd, uid_t* uid) {
  WorkerCounters& c = counters(worker);
  Admission result = Admission::kAdmitted;
  absl::Status peer;
  *uid = 0;
  // The credentials are read only when something depends on them.
  if (!peer_policy_.allows_everyone() || options_.max_connections_per_uid != 0) {
    absl::StatusOr<PeerCredentials> creds = GetPeerCredentials(fd);
    if (!creds.ok()) {
      peer = creds.status();
    } else {
      *uid = creds->uid;
      if (!peer_policy_.allows_everyone() && !peer_policy_.Allows(*creds)) {
        peer =
            absl::PermissionDeniedError(absl::StrCat("peer uid ", creds->uid, " gid ", creds->gid,
                                                     " (pid ", creds->pid, ") is not allowed"));
      }
    }
  }
  std::string why;
  if (!peer.ok()) {
    result = Admission::kPeerRefused;
    WorkerCounters::Bump(c.refused_peer);
    why = std::string(peer.message());
  } else {
    switch (accept_.Admit(*uid)) {
      case AcceptPolicy::Decision::kAdmit:
        WorkerCounters::Bump(c.accepted);
        return Admission::kAdmitted;
      case AcceptPolicy::Decision::kFull:
        result = Admission::kFull;
        WorkerCounters::Bump(c.refused_max_connections);
        why = absl::StrCat(options_.max_connections, " connections open (max_connections)");
        break;
      case AcceptPolicy::Decision::kUidFull:
        result = Admission::kPerUid;
        WorkerCounters::Bump(c.refused_per_uid);
        why = absl::StrCat("uid ", *uid, " holds ", options_.max_connections_per_uid,
                           " connections (max_connections_per_uid)");
        break;
      case AcceptPolicy::Decision::kReserved:
        result = Admission::kPerUid;
        WorkerCounters::Bump(c.refused_per_uid);
        why = absl::StrCat("uid ", *uid, " holds ", accept_.open_for(*uid),
                           " connections and only the reserve for other users is left");
        break;
    }
  }
  // At most one line per second for all refusals, so that a flood of
  // connections cannot flood the log.
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_refusal_log_ns_.load(std::memory_order_relaxed);
  if (now - last >= 1'000'000'000 &&
      last_refusal_log_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    LogWarning(result == Admission::kPeerRefused
                   ? absl::StrCat("connection refused by the peer allow-list (--allow-uid, "
                                  "--allow-gid): ",
                                  why)
                   : absl::StrCat("connection refused: ", why));
  }
  return result;
}

void LoopCore::SendRefusal(int fd, std::string_view reply) {
  if (reply.empty()) return;
  // A fresh connection's send buffer is empty: the reply goes out whole or
  // (peer already gone) not at all.
  (void)::send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void LoopCore::Release(int worker, uid_t uid) {
  WorkerCounters::Bump(counters(worker).closed);
  accept_.Release(uid);
}

std::unique_ptr<Connection> LoopCore::NewConnection(int fd, Connection::TimePoint now) {
  return std::make_unique<Connection>(fd, options_.max_unsent_bytes, now, &budget_);
}

LoopStats LoopCore::Stats() const {
  LoopStats s;
  for (const auto& c : counters_) {
    const auto get = [](const std::atomic<uint64_t>& a) {
      return a.load(std::memory_order_relaxed);
    };
    const uint64_t accepted = get(c->accepted);
    const uint64_t closed = get(c->closed);
    s.connections_accepted += accepted;
    s.connections_open += accepted - std::min(accepted, closed);
    s.refused_max_connections += get(c->refused_max_connections);
    s.refused_peer += get(c->refused_peer);
    s.refused_per_uid += get(c->refused_per_uid);
    s.write_stall_timeouts += get(c->write_stall_timeouts);
    s.frame_timeouts += get(c->frame_timeouts);
    s.drain_timeouts += get(c->drain_timeouts);
    s.read_pauses += get(c->read_pauses);
    s.recv_no_buffers += get(c->recv_no_buffers);
  }
  s.buffered_bytes = budget_.used();
  s.endpoints.resize(endpoints_.size());
  std::lock_guard<std::mutex> lock(handlers_mu_);
  for (size_t e = 0; e < handlers_.size(); ++e) {
    for (const auto& h : handlers_[e]) {
      if (h != nullptr) s.endpoints[e] += h->stats();
    }
    s.service += s.endpoints[e];
  }
  return s;
}

LoopCore::SweepResult LoopCore::SweepConnection(int worker, Connection& conn,
                                                Connection::TimePoint now,
                                                bool past_stop_deadline) {
  WorkerCounters& counters = *counters_[worker];
  switch (conn.CheckTimers(now, options_.frame_timeout, options_.drain_timeout,
                           options_.write_stall_timeout)) {
    case Connection::TimerAction::kWriteStall:
      WorkerCounters::Bump(counters.write_stall_timeouts);
      return SweepResult::kClose;
    case Connection::TimerAction::kFrameTimeout:
      WorkerCounters::Bump(counters.frame_timeouts);
      conn.StartDrain(Connection::DrainReason::kFrameTimeout, now);
      return SweepResult::kDrain;
    case Connection::TimerAction::kDrainTimeout:
      WorkerCounters::Bump(counters.drain_timeouts);
      return SweepResult::kClose;
    case Connection::TimerAction::kNone:
      break;
  }
  if (!past_stop_deadline) return SweepResult::kNone;
  WorkerCounters::Bump(counters.drain_timeouts);
  return SweepResult::kClose;
}

bool LoopCore::ReadAvailable(Connection& conn, ProtocolHandler& handler, std::vector<char>& scratch,
                             Connection::TimePoint now, int max_reads) {
  for (int i = 0; i < max_reads && conn.WantsRead(); ++i) {
    const ssize_t n = ::recv(conn.fd(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n > 0) {
      conn.OnInput(std::string_view(scratch.data(), static_cast<size_t>(n)), handler, now);
      continue;
    }
    if (n == 0) {
      conn.OnPeerClosed(now);
      return true;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
  return true;
}

bool LoopCore::DrainForStop(Connection& conn, ProtocolHandler& handler, std::vector<char>& scratch,
                            Connection::TimePoint now) {
  if (!ReadAvailable(conn, handler, scratch, now, kStopReads)) return false;
  conn.StartDrain(Connection::DrainReason::kStopping, now);
  return true;
}

void LoopCore::AfterIo(int worker, Connection& conn, ProtocolHandler& handler,
                       uint64_t* pauses_seen, Connection::TimePoint now) {
  conn.HandleHeld(handler, now);
  if (conn.pause_count() != *pauses_seen) {
    WorkerCounters::Bump(counters(worker).read_pauses, conn.pause_count() - *pauses_seen);
    *pauses_seen = conn.pause_count();
  }
}

}  // namespace tokend::server::internal

namespace tokend::server {

Endpoint ServiceEndpoint(int listen_fd, ServiceFactory factory) {
  Endpoint e;
  e.listen_fd = listen_fd;
  if (factory) {
    e.factory = [f = std::move(factory)](int worker) -> std::unique_ptr<ProtocolHandler> {
      return f(worker);
    };
  }
  return e;
}

}  // namespace tokend::server

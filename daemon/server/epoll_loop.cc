// SPDX-License-Identifier: Apache-2.0
// The epoll event loop, for kernels or sandboxes that refuse io_uring. Same
// behaviour as the io_uring loop (event_loop.h); the differences are only in
// how bytes move:
//
//   - Each worker has its own epoll set holding the shared listening sockets
//     (EPOLLEXCLUSIVE, so a new connection wakes one worker), its eventfd,
//     and its connections, level-triggered.
//   - A ready connection gets one read per wake-up (into the worker's buffer
//     of recv_buffer_size), so one busy client cannot starve the others;
//     what is left is reported again by the next epoll_wait.
//   - After a batch of events, each connection touched gets one send of all
//     it has to say; what the socket does not take waits for EPOLLOUT.
//
// epoll_event.data.u64 holds a Tag: the slot index in the low 32 bits and
// the slot's generation in the high 32; the listening sockets (endpoint e
// at kListenSlot + e) and the eventfd use slot indices no connection has.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/server/connection.h"
#include "daemon/server/event_loop.h"
#include "daemon/server/loop_core.h"
#include "daemon/util/log.h"

namespace tokend::server {
namespace {

using internal::ErrnoMessage;
using internal::LoopCore;
using Clock = Connection::Clock;
using TimePoint = Connection::TimePoint;

constexpr uint32_t kListenSlot = 0xffffff00u;  // + endpoint index
constexpr uint32_t kWakeSlot = 0xfffffffeu;
constexpr uint32_t kMaxSlots = 0xffffff00u;
static_assert(kListenSlot + kMaxEndpoints < kWakeSlot);

constexpr uint64_t Encode(uint32_t slot, uint32_t gen) {
  return static_cast<uint64_t>(slot) | (static_cast<uint64_t>(gen) << 32);
}
constexpr uint32_t SlotOf(uint64_t u) { return static_cast<uint32_t>(u); }
constexpr uint32_t GenOf(uint64_t u) { return static_cast<uint32_t>(u >> 32); }

constexpr int kMaxEvents = 256;
constexpr int kAcceptsPerWake = 64;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

absl::Status EpollError(int err, const char* what) {
  return absl::ErrnoToStatus(err, ErrnoMessage(absl::StrCat("epoll loop: ", what), err));
}

class EpollWorker {
 public:
  EpollWorker(LoopCore& core, int index) : core_(core), index_(index) {}
  EpollWorker(const EpollWorker&) = delete;
  EpollWorker& operator=(const EpollWorker&) = delete;
  ~EpollWorker();

  absl::Status Run();

 private:
  struct Slot {
    std::unique_ptr<Connection> conn;
    ProtocolHandler* handler = nullptr;  // its endpoint's, this worker's
    uint32_t gen = 0;
    uid_t uid = 0;             // the peer's, for LoopCore::Release()
    uint32_t events = 0;       // the interest registered with epoll
    bool dirty = false;        // on the SlotTable's dirty list
    bool force_close = false;  // close without sending the rest
    uint64_t pauses_seen = 0;

    bool closing() const { return force_close; }
    void ForceClose() { force_close = true; }
  };

  absl::Status Setup();
  void AcceptSome(size_t endpoint);
  void SetListening(bool on);
  void OnConnEvent(uint64_t tag, uint32_t events);
  void BeginStop();
  void Update(uint32_t i);
  void FinishClose(uint32_t i);
  void Sweep();

  LoopCore& core_;
  const int index_;
  int epfd_ = -1;
  std::vector<ProtocolHandler*> handlers_;  // by endpoint
  internal::SlotTable<Slot> slots_;
  std::vector<char> buf_;
  TimePoint now_;

  bool listening_ = false;  // the listening sockets are in the epoll set
  bool accept_retry_ = false;
  TimePoint accept_retry_at_;
  bool stopping_ = false;
  TimePoint stop_deadline_;
  absl::Status fatal_;
};

EpollWorker::~EpollWorker() {
  internal::CloseAllSlots(core_, index_, slots_);
  if (epfd_ >= 0) ::close(epfd_);
}

absl::Status EpollWorker::Setup() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return EpollError(errno, "epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Encode(kWakeSlot, 0);
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, core_.wake_fd(index_), &ev) != 0) {
    return EpollError(errno, "epoll_ctl(eventfd)");
  }
  absl::StatusOr<std::vector<ProtocolHandler*>> handlers = core_.CreateHandlers(index_);
  if (!handlers.ok()) return handlers.status();
  handlers_ = *std::move(handlers);
  buf_.resize(core_.options().recv_buffer_size);
  return absl::OkStatus();
}

void EpollWorker::SetListening(bool on) {
  if (on == listening_) return;
  for (size_t e = 0; e < core_.endpoint_count(); ++e) {
    if (on) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.u64 = Encode(kListenSlot + static_cast<uint32_t>(e), 0);
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, core_.listen_fd(e), &ev) != 0) {
        if (fatal_.ok()) fatal_ = EpollError(errno, "epoll_ctl(listening socket)");
        return;
      }
    } else {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, core_.listen_fd(e), nullptr);
    }
  }
  listening_ = on;
}

absl::Status EpollWorker::Run() {
  if (absl::Status st = Setup(); !st.ok()) return st;
  now_ = Clock::now();
  if (core_.stop_requested()) {
    BeginStop();
  } else {
    SetListening(true);
  }
  const auto tick = core_.tick_interval();
  TimePoint next_tick = now_ + tick;
  epoll_event events[kMaxEvents];
  while (fatal_.ok()) {
    if (stopping_ && slots_.live() == 0) break;
    const auto wait = std::max(next_tick - now_, Clock::duration::zero());
    // Rounded up, so the wait never returns just before the tick is due.
    const int timeout_ms = static_cast<int>(
        (std::chrono::duration_cast<std::chrono::microseconds>(wait).count() + 999) / 1000);
    const int n = ::epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) {
      fatal_ = EpollError(errno, "epoll_wait");
      break;
    }
    now_ = Clock::now();
    for (int k = 0; k < n; ++k) {
      const uint64_t tag = events[k].data.u64;
      const uint32_t slot = SlotOf(tag);
      if (slot >= kListenSlot && slot < kListenSlot + core_.endpoint_count()) {
        AcceptSome(slot - kListenSlot);
      } else if (slot == kWakeSlot) {
        if (core_.stop_requested() && !stopping_) BeginStop();
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(core_.wake_fd(index_), &v, sizeof(v));
      } else {
        OnConnEvent(tag, events[k].events);
      }
    }
    if (now_ >= next_tick) {
      Sweep();
      next_tick = now_ + tick;
    }
    slots_.FlushDirty([this](uint32_t i) { Update(i); });
  }
  return fatal_;
}

void EpollWorker::AcceptSome(size_t endpoint) {
  for (int k = 0; k < kAcceptsPerWake && !stopping_ && listening_; ++k) {
    const int fd =
        ::accept4(core_.listen_fd(endpoint), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
        return;
      }
      // EMFILE, ENFILE, ENOMEM...: the socket stays readable, so leave the
      // epoll set for a while rather than spin.
      LogWarning(ErrnoMessage(absl::StrCat("epoll worker ", index_, ": accept"), errno));
      SetListening(false);
      accept_retry_ = true;
      accept_retry_at_ = now_ + kAcceptRetry;
      return;
    }
    uid_t uid = 0;
    if (slots_.live() >= kMaxSlots) {
      ::close(fd);
      continue;
    }
    if (const LoopCore::Admission a = core_.Admit(index_, fd, &uid);
        a != LoopCore::Admission::kAdmitted) {
      if (a == LoopCore::Admission::kPeerRefused) {
        LoopCore::SendRefusal(fd, handlers_[endpoint]->RefusalReply());
      }
      ::close(fd);
      continue;
    }
    const uint32_t i = slots_.Allocate();
    Slot& s = slots_.at(i);
    s.conn = core_.NewConnection(fd, now_);
    s.uid = uid;
    s.handler = handlers_[endpoint];
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Encode(i, s.gen);
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      LogWarning(ErrnoMessage(absl::StrCat("epoll worker ", index_, ": epoll_ctl"), errno));
      FinishClose(i);
      continue;
    }
    s.events = EPOLLIN;
  }
}

void EpollWorker::OnConnEvent(uint64_t tag, uint32_t events) {
  const uint32_t i = SlotOf(tag);
  Slot* s = slots_.Find(i, GenOf(tag));
  if (s == nullptr || s->force_close) return;
  Connection& c = *s->conn;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c.WantsRead()) {
    const ssize_t n = ::recv(c.fd(), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n > 0) {
      c.OnInput(std::string_view(buf_.data(), static_cast<size_t>(n)), *s->handler, now_);
    } else if (n == 0) {
      c.OnPeerClosed(now_);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      s->force_close = true;
    }
  }
  // EPOLLOUT, or a hang-up on a connection that is not reading: the send in
  // Update() makes progress or finds the error.
  slots_.MarkDirty(i);
}

void EpollWorker::BeginStop() {
  stopping_ = true;
  stop_deadline_ = now_ + core_.options().drain_timeout;
  accept_retry_ = false;
  SetListening(false);
  slots_.MarkAllDirty();
}

void EpollWorker::Update(uint32_t i) {
  Slot& s = slots_.at(i);
  if (s.conn == nullptr) return;
  Connection& c = *s.conn;
  if (stopping_ && !s.force_close && !c.draining() &&
      !LoopCore::DrainForStop(c, *s.handler, buf_, now_)) {
    s.force_close = true;
  }
  if (s.force_close) {
    FinishClose(i);
    return;
  }
  core_.AfterIo(index_, c, *s.handler, &s.pauses_seen, now_);
  if (c.unsent() > 0) {
    const std::string_view out = c.PrepareSend();
    const ssize_t n = ::send(c.fd(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.OnSent(static_cast<size_t>(n), now_);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      FinishClose(i);  // EPIPE, ECONNRESET
      return;
    }
  }
  // The send may have lifted a pause: answer what was held, and count a
  // pause it brought.
  core_.AfterIo(index_, c, *s.handler, &s.pauses_seen, now_);
  if (c.ShouldClose()) {
    FinishClose(i);
    return;
  }
  const uint32_t want = (c.WantsRead() ? EPOLLIN : 0u) | (c.unsent() > 0 ? EPOLLOUT : 0u);
  if (want != s.events) {
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = Encode(i, s.gen);
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd(), &ev) != 0) {
      FinishClose(i);
      return;
    }
    s.events = want;
  }
}

void EpollWorker::FinishClose(uint32_t i) {
  internal::CloseSlot(core_, index_, slots_, i);  // closing also leaves the epoll set
}

void EpollWorker::Sweep() {
  internal::SweepSlots(core_, index_, slots_, now_, stopping_ && now_ >= stop_deadline_);
  if (accept_retry_ && !stopping_ && now_ >= accept_retry_at_) {
    accept_retry_ = false;
    SetListening(true);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> MakeEpollLoop(std::vector<Endpoint> endpoints,
                                                         LoopOptions options) {
  absl::StatusOr<std::unique_ptr<LoopCore>> core =
      LoopCore::Create(std::move(endpoints), std::move(options));
  if (!core.ok()) return core.status();
  // Workers share the listening sockets: one that finds another took the
  // connection must get EAGAIN, not block.
  for (size_t e = 0; e < (*core)->endpoint_count(); ++e) {
    const int fd = (*core)->listen_fd(e);
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
      return EpollError(errno, "fcntl(O_NONBLOCK) on the listening socket");
    }
  }
  return std::unique_ptr<EventLoop>(new internal::CoreLoop<EpollWorker>(*std::move(core), "epoll"));
}

}  // namespace tokend::server

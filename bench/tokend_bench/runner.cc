// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/runner.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/tokend_bench/cpu.h"
#include "daemon/server/uring_setup.h"
#include "protocol/codec.h"

namespace tokend::bench {
namespace {

namespace protocol = tokend::protocol;
using Nanos = uint64_t;

constexpr size_t kReadBuffer = 256 * 1024;
// io_uring: each connection's receive buffer (one receive in flight per
// connection; a frame split across receives waits in Conn::in).
constexpr size_t kUringRecvBytes = 16 * 1024;
// io_uring, closed loop: how long a thread with nothing to do keeps asking
// the kernel for completions before it sleeps. A sleeping thread's vCPU
// halts, and waking it costs tens of microseconds on a virtual machine:
// without polling, client and server took turns waiting for each other and
// neither reached its limit. The polling time is left out of the client's
// busy share (RunResult::client_poll_ns).
constexpr uint64_t kUringPollNs = 30000;
// io_uring: after the run, how long to wait for the cancelled operations.
constexpr uint64_t kUringDrainNs = 2000000000;
// An operation's user data: the connection's index, shifted, and its kind.
enum UringOp : uint64_t { kOpRecv = 0, kOpSend = 1, kOpCancel = 2 };
constexpr int kOpBits = 2;
constexpr int kMaxEvents = 256;
constexpr size_t kMaxErrorsListed = 8;
// The open loop's timer granularity (see NextWake()).
constexpr uint64_t kOpenLoopTick = 20000;  // ns
// The longest the priming phase may take before its unanswered requests
// count as NO_ANSWER.
constexpr double kPrimeTimeoutSeconds = 120;

Nanos Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanos>(ts.tv_sec) * 1000000000u + static_cast<Nanos>(ts.tv_nsec);
}

Nanos Seconds(double s) { return static_cast<Nanos>(s * 1e9); }

// `ns` as a timespec (or the kernel's __kernel_timespec, for io_uring).
template <typename Timespec = timespec>
Timespec ToTimespec(Nanos ns) {
  Timespec ts{};
  ts.tv_sec = static_cast<decltype(ts.tv_sec)>(ns / 1000000000u);
  ts.tv_nsec = static_cast<decltype(ts.tv_nsec)>(ns % 1000000000u);
  return ts;
}

void SleepUntil(Nanos t) {
  const timespec ts = ToTimespec(t);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// One request in flight. Its id is (generation << 16) | slot index, so a
// response finds its slot at once and a stale or invented id is caught.
struct Slot {
  Nanos stamp = 0;  // closed loop: when sent; open loop: when it was due
  uint32_t id = 0;
  Outcome expected = Outcome::kOk;
  bool busy = false;
};

struct Conn {
  int fd = -1;
  int index = 0;  // among all of the run's connections
  std::string out;
  size_t out_off = 0;
  std::string in;  // the start of a response not yet whole
  std::vector<Slot> slots;
  std::vector<uint16_t> free_slots;
  uint16_t generation = 0;
  int inflight = 0;
  bool dirty = false;        // has requests appended since the last flush
  bool waiting_out = false;  // EPOLLOUT armed: the socket buffer was full
  bool dead = false;
  uint64_t next_k = 0;   // open loop: the next request of its schedule
  double offset_ns = 0;  // open loop: where its schedule starts
  // Open loop: when a slot last came free on a connection that had `depth`
  // in flight (the response that freed it was read then).
  Nanos room_since = 0;
  // io_uring: the bytes a send in flight owns (requests issued meanwhile
  // wait in `out`), and the receive in flight's buffer.
  std::string sending;
  size_t sending_off = 0;
  bool send_busy = false;
  bool recv_busy = false;
  std::unique_ptr<char[]> recv_buf;
};

// Priming: a worker that sends tokens [first, end) once each, closed loop,
// measures nothing, and leaves its connections open.
struct PrimeRange {
  uint64_t first = 0;
  uint64_t end = 0;
};

class Worker {
 public:
  Worker(const RunConfig& config, std::vector<Conn> conns, uint64_t first_seq, Nanos t_start)
      : config_(config),
        workload_(*config.workload),
        conns_(std::move(conns)),
        seq_(first_seq),
        open_loop_(config.spec.open_loop()),
        prime_(false),
        t_start_(t_start),
        t_measure_(t_start + Seconds(config.warmup_seconds)),
        t_end_(t_measure_ + Seconds(config.duration_seconds)),
        buf_(kReadBuffer) {
    if (open_loop_) {
      interval_ns_ = 1e9 * config.spec.connections / config.spec.rate;
      for (Conn& c : conns_) c.offset_ns = 1e9 * c.index / config.spec.rate;
    }
  }

  // A priming worker (see PrimeRange).
  Worker(const RunConfig& config, std::vector<Conn> conns, PrimeRange range, Nanos t_start)
      : config_(config),
        workload_(*config.workload),
        conns_(std::move(conns)),
        seq_(range.first),
        prime_end_(range.end),
        open_loop_(false),
        prime_(true),
        t_start_(t_start),
        t_measure_(t_start + Seconds(kPrimeTimeoutSeconds)),
        t_end_(t_measure_),
        buf_(kReadBuffer) {}

  void Run();
  RunResult& result() { return result_; }
  std::vector<Conn> TakeConns() { return std::move(conns_); }

 private:
  Nanos Due(const Conn& c) const {
    return t_start_ +
           static_cast<Nanos>(c.offset_ns + static_cast<double>(c.next_k) * interval_ns_);
  }
  bool Measured(Nanos stamp) const { return stamp >= t_measure_ && stamp < t_end_; }
  bool MayIssue() const { return !prime_ || seq_ < prime_end_; }
  void SampleCpu(Nanos now);
  // The work between two waits, shared by both loops: false when the run
  // (or the priming) is over.
  bool BeforeWait(Nanos now);
  void IssueFirst();
  void RunEpoll();
  // io_uring: false when the kernel refuses a ring (the epoll loop runs).
  bool SetupUring();
  void RunUring();
  io_uring_sqe* Sqe();
  // An operation's user data: the connection's index and the kind.
  uint64_t OpData(const Conn& c, UringOp op) const {
    return (static_cast<uint64_t>(&c - conns_.data()) << kOpBits) | op;
  }
  void ArmRecv(Conn& c);
  void SubmitSend(Conn& c);
  void ReapUring(Nanos now);
  // Submits what is queued and polls for completions until one is ready or
  // `until`; true when one is.
  bool PollUring(Nanos until);
  void OnRecv(Conn& c, int res, Nanos now);
  void OnSend(Conn& c, int res);
  void DrainUring();
  void Consume(Conn& c, const char* data, size_t n, Nanos now);
  void Issue(Conn& c, Nanos due);
  void StampAndFlush();
  void Flush(Conn& c);
  void ReadFrom(Conn& c, Nanos now);
  void Parse(Conn& c, std::string_view data, Nanos now, size_t* consumed);
  void Handle(Conn& c, const protocol::RequestFrame& frame, Nanos now);
  void Count(Outcome got, Outcome expected);
  void Fail(Conn& c, const std::string& why);
  void IssueDue(Nanos now);
  Nanos NextWake(Nanos now) const;

  const RunConfig& config_;
  const Workload& workload_;
  std::vector<Conn> conns_;
  uint64_t seq_;
  uint64_t prime_end_ = 0;
  const bool open_loop_;
  const bool prime_;
  double interval_ns_ = 0;
  const Nanos t_start_, t_measure_, t_end_;
  Nanos drain_deadline_ = 0;
  bool stopping_ = false;
  int epoll_fd_ = -1;
  io_uring ring_{};
  bool uring_ = false;
  bool draining_ = false;  // io_uring: after the run, answers are ignored
  int64_t uring_ops_ = 0;  // io_uring: operations submitted and not yet complete
  uint64_t poll_ns_ = 0;   // time spent polling inside the measured window
  int64_t inflight_ = 0;
  std::vector<std::pair<Conn*, uint16_t>> unstamped_;  // closed loop
  std::vector<Conn*> dirty_;
  // Open loop, issued this round: (due time, when its connection had room).
  std::vector<std::pair<Nanos, Nanos>> issued_due_;
  std::vector<char> buf_;
  RunResult result_;
  // The client thread's CPU clock as the window opened (cpu_open_ set).
  bool cpu_open_ = false;
  bool cpu_closed_ = false;
  uint64_t cpu_at_open_ = 0;
  Nanos window_opened_ = 0;
};

void Worker::SampleCpu(Nanos now) {
  if (prime_ || cpu_closed_) return;
  if (!cpu_open_ && now >= t_measure_) {
    cpu_open_ = true;
    cpu_at_open_ = ThreadCpuNs();
    window_opened_ = now;
  }
  if (cpu_open_ && now >= t_end_) {
    cpu_closed_ = true;
    result_.client_cpu_ns = ThreadCpuNs() - cpu_at_open_;
    const Nanos wall = now - window_opened_;
    // Polling is waiting done on the CPU: not work (kUringPollNs).
    const uint64_t busy = result_.client_cpu_ns - std::min(result_.client_cpu_ns, poll_ns_);
    result_.client_poll_ns = poll_ns_;
    result_.client_busiest_share =
        wall > 0 ? static_cast<double>(busy) / static_cast<double>(wall) : 0;
  }
}

void Worker::Count(Outcome got, Outcome expected) {
  ++result_.outcomes[static_cast<size_t>(got)];
  if (got != expected) {
    if (result_.unexpected++ == 0) {
      result_.first_unexpected = absl::StrCat("expected ", OutcomeName(static_cast<int>(expected)),
                                              ", got ", OutcomeName(static_cast<int>(got)));
    }
  }
}

void Worker::Issue(Conn& c, Nanos due) {
  const uint16_t s = c.free_slots.back();
  c.free_slots.pop_back();
  Slot& slot = c.slots[s];
  slot.id = (static_cast<uint32_t>(c.generation++) << 16) | s;
  slot.expected = prime_
                      ? workload_.AppendValidRequest(static_cast<size_t>(seq_++), slot.id, &c.out)
                      : workload_.AppendRequest(seq_++, slot.id, &c.out);
  slot.busy = true;
  slot.stamp = due;
  if (!open_loop_) unstamped_.emplace_back(&c, s);
  ++c.inflight;
  ++inflight_;
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
}

void Worker::StampAndFlush() {
  const Nanos now = Now();
  for (auto& [c, s] : unstamped_) c->slots[s].stamp = now;
  unstamped_.clear();
  for (const auto& [due, room] : issued_due_) {
    if (!Measured(due)) continue;
    result_.send_lag.Record(now > due ? now - due : 0);
    // The part of the delay the full connection does not explain: the
    // client was late.
    const Nanos could_send = std::max(due, room);
    result_.client_lag.Record(now > could_send ? now - could_send : 0);
  }
  issued_due_.clear();
  for (Conn* c : dirty_) {
    c->dirty = false;
    if (!c->dead) Flush(*c);
  }
  dirty_.clear();
}

void Worker::Flush(Conn& c) {
  if (uring_) {
    if (c.send_busy || c.out.empty()) return;
    c.sending.swap(c.out);
    c.out.clear();
    c.sending_off = 0;
    SubmitSend(c);
    return;
  }
  while (c.out_off < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.waiting_out) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = &c;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
        c.waiting_out = true;
      }
      return;
    }
    Fail(c, absl::StrCat("send: ", std::strerror(errno)));
    return;
  }
  c.out.clear();
  c.out_off = 0;
  if (c.waiting_out) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.waiting_out = false;
  }
}

void Worker::Fail(Conn& c, const std::string& why) {
  if (c.dead) return;
  c.dead = true;
  if (uring_) {
    // Ends the operations in flight on it (they hold the socket open).
    ::shutdown(c.fd, SHUT_RDWR);
  } else {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  }
  ::close(c.fd);
  c.fd = -1;
  for (Slot& s : c.slots) {
    if (!s.busy) continue;
    s.busy = false;
    Count(Outcome::kConnectionLost, s.expected);
  }
  inflight_ -= c.inflight;
  c.inflight = 0;
  if (result_.connection_errors.size() < kMaxErrorsListed) {
    result_.connection_errors.push_back(absl::StrCat("connection ", c.index, ": ", why));
  }
}

void Worker::Handle(Conn& c, const protocol::RequestFrame& frame, Nanos now) {
  const uint32_t id = frame.header.request_id;
  const uint16_t s = static_cast<uint16_t>(id & 0xffff);
  if (s >= c.slots.size() || !c.slots[s].busy || c.slots[s].id != id) {
    Count(Outcome::kBadResponse, Outcome::kOk);
    return;
  }
  Slot& slot = c.slots[s];
  if (open_loop_ && c.inflight == config_.spec.depth) c.room_since = now;
  Outcome got = Outcome::kBadResponse;
  const uint8_t want_op = workload_.op() == Op::kPing ? protocol::kOpPing : protocol::kOpValidate;
  if (protocol::IsProtocolErrorBody(frame.body)) {
    got = Outcome::kProtocolError;
  } else if (frame.header.opcode != want_op) {
    got = Outcome::kBadResponse;
  } else if (want_op == protocol::kOpPing) {
    got = Outcome::kOk;
  } else {
    protocol::ValidateResponse v;
    if (protocol::DecodeValidateResponse(frame.body, &v)) {
      got = v.status < static_cast<uint8_t>(Outcome::kUnknownStatus)
                ? static_cast<Outcome>(v.status)
                : Outcome::kUnknownStatus;
    }
  }
  Count(got, slot.expected);
  if (Measured(slot.stamp)) result_.latency.Record(now > slot.stamp ? now - slot.stamp : 0);
  if (now >= t_measure_ && now < t_end_) ++result_.completed_in_window;
  slot.busy = false;
  c.free_slots.push_back(s);
  --c.inflight;
  --inflight_;
  if (!open_loop_ && !stopping_ && now < t_end_ && MayIssue()) Issue(c, 0);
}

void Worker::Parse(Conn& c, std::string_view data, Nanos now, size_t* consumed) {
  *consumed = 0;
  while (!c.dead) {
    protocol::RequestFrame frame;
    size_t n = 0;
    const protocol::FrameStatus st = protocol::NextResponseFrame(data, &frame, &n);
    if (st == protocol::FrameStatus::kNeedMore) return;
    if (st == protocol::FrameStatus::kProtocolError) {
      Count(Outcome::kBadResponse, Outcome::kOk);
      Fail(c, "undecodable response header");
      return;
    }
    Handle(c, frame, now);
    data.remove_prefix(n);
    *consumed += n;
  }
}

void Worker::Consume(Conn& c, const char* data, size_t n, Nanos now) {
  size_t used = 0;
  if (c.in.empty()) {
    const std::string_view view(data, n);
    Parse(c, view, now, &used);
    if (!c.dead) c.in.assign(view.substr(used));
  } else {
    c.in.append(data, n);
    Parse(c, c.in, now, &used);
    if (!c.dead) c.in.erase(0, used);
  }
}

void Worker::ReadFrom(Conn& c, Nanos now) {
  while (!c.dead) {
    const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n > 0) {
      Consume(c, buf_.data(), static_cast<size_t>(n), now);
      if (static_cast<size_t>(n) < buf_.size()) return;
      continue;
    }
    if (n == 0) {
      Fail(c, "closed by the server");
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Fail(c, absl::StrCat("recv: ", std::strerror(errno)));
    return;
  }
}

void Worker::IssueDue(Nanos now) {
  for (Conn& c : conns_) {
    if (c.dead) continue;
    while (c.inflight < config_.spec.depth) {
      const Nanos due = Due(c);
      if (due >= t_end_ || due > now) break;
      Issue(c, due);
      issued_due_.emplace_back(due, c.room_since);
      ++c.next_k;
    }
  }
}

Nanos Worker::NextWake(Nanos now) const {
  Nanos wake = stopping_ ? drain_deadline_ : t_end_;
  if (!prime_ && !cpu_open_) wake = std::min(wake, t_measure_);
  if (open_loop_) {
    for (const Conn& c : conns_) {
      if (c.dead || c.inflight >= config_.spec.depth) continue;
      const Nanos due = Due(c);
      if (due < t_end_) wake = std::min(wake, due);
    }
    // Requests due within one tick go out together: fewer wakeups and
    // sends, at the cost of up to one tick of lateness, which their
    // latency (counted from the due time) includes.
    wake = std::max(wake, now + kOpenLoopTick);
  }
  return wake > now ? wake : now;
}

bool Worker::BeforeWait(Nanos now) {
  SampleCpu(now);
  if (!stopping_ && now >= t_end_) {
    stopping_ = true;
    drain_deadline_ = now + static_cast<Nanos>(config_.drain_timeout.count()) * 1000000u;
  }
  if (open_loop_) IssueDue(now);
  StampAndFlush();
  if (prime_ && !MayIssue() && inflight_ == 0) return false;
  if (stopping_) {
    bool due_left = false;
    if (open_loop_) {
      for (const Conn& c : conns_) due_left = due_left || (!c.dead && Due(c) < t_end_);
    }
    if ((inflight_ == 0 && !due_left) || now >= drain_deadline_) return false;
  }
  return true;
}

void Worker::IssueFirst() {
  if (open_loop_) return;
  for (Conn& c : conns_) {
    if (c.dead) continue;
    for (int i = 0; i < config_.spec.depth && MayIssue(); ++i) Issue(c, 0);
  }
}

void Worker::RunEpoll() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  for (Conn& c : conns_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  }
  SleepUntil(t_start_);
  IssueFirst();
  std::vector<epoll_event> events(kMaxEvents);
  for (;;) {
    Nanos now = Now();
    if (!BeforeWait(now)) break;
    const Nanos wait = NextWake(now) - now;
    const timespec ts = ToTimespec(wait);
    const int n = ::epoll_pwait2(epoll_fd_, events.data(), kMaxEvents, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      result_.connection_errors.push_back(absl::StrCat("epoll_pwait2: ", std::strerror(errno)));
      break;
    }
    now = Now();
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(events[i].data.ptr);
      if (c.dead) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadFrom(c, now);
      if (!c.dead && (events[i].events & EPOLLOUT)) Flush(c);
    }
  }
  ::close(epoll_fd_);
}

bool Worker::SetupUring() {
  // Room for every connection's receive, send and cancellation at once.
  const unsigned entries = static_cast<unsigned>(std::min<size_t>(3 * conns_.size() + 8, 4096));
  // Made as the daemon's loop makes its rings, on the thread that submits to
  // it (SINGLE_ISSUER).
  return tokend::server::SetupRing(&ring_, entries, 0) == 0;
}

io_uring_sqe* Worker::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {  // the queue is full: hand it to the kernel
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Worker::ArmRecv(Conn& c) {
  if (!c.recv_buf) c.recv_buf = std::make_unique<char[]>(kUringRecvBytes);
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) {
    Fail(c, "io_uring: no submission entry");
    return;
  }
  io_uring_prep_recv(sqe, c.fd, c.recv_buf.get(), kUringRecvBytes, 0);
  io_uring_sqe_set_data64(sqe, OpData(c, kOpRecv));
  c.recv_busy = true;
  ++uring_ops_;
}

void Worker::SubmitSend(Conn& c) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) {
    Fail(c, "io_uring: no submission entry");
    return;
  }
  io_uring_prep_send(sqe, c.fd, c.sending.data() + c.sending_off, c.sending.size() - c.sending_off,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, OpData(c, kOpSend));
  c.send_busy = true;
  ++uring_ops_;
}

void Worker::OnRecv(Conn& c, int res, Nanos now) {
  c.recv_busy = false;
  if (c.dead || draining_ || res == -ECANCELED) return;
  if (res > 0) {
    Consume(c, c.recv_buf.get(), static_cast<size_t>(res), now);
    if (!c.dead) ArmRecv(c);
    return;
  }
  if (res == 0) {
    Fail(c, "closed by the server");
  } else if (res == -EINTR || res == -EAGAIN) {
    ArmRecv(c);
  } else {
    Fail(c, absl::StrCat("recv: ", std::strerror(-res)));
  }
}

void Worker::OnSend(Conn& c, int res) {
  c.send_busy = false;
  if (c.dead || draining_ || res == -ECANCELED) return;
  if (res == -EINTR || res == -EAGAIN) {
    SubmitSend(c);
    return;
  }
  if (res < 0) {
    Fail(c, absl::StrCat("send: ", std::strerror(-res)));
    return;
  }
  c.sending_off += static_cast<size_t>(res);
  if (c.sending_off < c.sending.size()) {
    SubmitSend(c);  // the socket took part of it
    return;
  }
  c.sending.clear();
  c.sending_off = 0;
  Flush(c);  // what was issued while it was out
}

void Worker::ReapUring(Nanos now) {
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    --uring_ops_;
    const uint64_t data = io_uring_cqe_get_data64(cqe);
    Conn& c = conns_[static_cast<size_t>(data >> kOpBits)];
    switch (data & ((1u << kOpBits) - 1)) {
      case kOpRecv:
        OnRecv(c, cqe->res, now);
        break;
      case kOpSend:
        OnSend(c, cqe->res);
        break;
      default:  // a cancellation's own completion
        break;
    }
  }
  io_uring_cq_advance(&ring_, seen);
}

bool Worker::PollUring(Nanos until) {
  io_uring_submit(&ring_);
  const Nanos start = Now();
  Nanos now = start;
  // io_uring_get_events runs the completions the kernel deferred to this
  // thread (DEFER_TASKRUN) without waiting.
  while (io_uring_cq_ready(&ring_) == 0 && now < until) {
    io_uring_get_events(&ring_);
    now = Now();
  }
  if (cpu_open_ && !cpu_closed_) poll_ns_ += now - start;
  return io_uring_cq_ready(&ring_) > 0;
}

void Worker::RunUring() {
  for (Conn& c : conns_) {
    if (!c.dead) ArmRecv(c);
  }
  io_uring_submit(&ring_);
  SleepUntil(t_start_);
  IssueFirst();
  for (;;) {
    Nanos now = Now();
    if (!BeforeWait(now)) break;
    const Nanos wait = NextWake(now) - now;
    __kernel_timespec ts = ToTimespec<__kernel_timespec>(wait);
    io_uring_cqe* cqe = nullptr;
    if (!open_loop_ && PollUring(now + std::min(kUringPollNs, wait))) {
      ReapUring(Now());
      continue;
    }
    // Submits what the pass queued and waits for one completion, in one
    // system call.
    const int ret = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
      result_.connection_errors.push_back(
          absl::StrCat("io_uring_submit_and_wait_timeout: ", std::strerror(-ret)));
      break;
    }
    ReapUring(Now());
  }
  DrainUring();
}

void Worker::DrainUring() {
  // The connections may outlive this worker (priming hands them on), so no
  // operation of this ring may be left to take their bytes: cancel each,
  // and wait for every completion.
  draining_ = true;
  for (Conn& c : conns_) {
    for (UringOp op : {kOpRecv, kOpSend}) {
      if (!(op == kOpRecv ? c.recv_busy : c.send_busy)) continue;
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) break;
      io_uring_prep_cancel64(sqe, OpData(c, op), 0);
      io_uring_sqe_set_data64(sqe, OpData(c, kOpCancel));
      ++uring_ops_;
    }
  }
  const Nanos deadline = Now() + kUringDrainNs;
  while (uring_ops_ > 0 && Now() < deadline) {
    __kernel_timespec ts = ToTimespec<__kernel_timespec>(100000000);
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    ReapUring(Now());
  }
  if (uring_ops_ > 0) {
    result_.connection_errors.push_back(
        absl::StrCat("io_uring: ", uring_ops_, " operations still in flight after the run"));
  }
  io_uring_queue_exit(&ring_);
}

void Worker::Run() {
  if (open_loop_) ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  uring_ = config_.client_loop == ClientLoop::kUring && SetupUring();
  result_.client_uring = uring_;
  if (uring_) {
    RunUring();
  } else {
    RunEpoll();
  }
  // Whatever is still owed counts against the server.
  for (Conn& c : conns_) {
    for (Slot& s : c.slots) {
      if (s.busy) Count(Outcome::kNoAnswer, s.expected);
    }
    if (open_loop_ && !c.dead) {
      while (Due(c) < t_end_) {
        Count(Outcome::kNoAnswer, Outcome::kOk);
        ++c.next_k;
      }
    }
    if (c.fd >= 0 && !(prime_ && !stopping_)) {
      ::close(c.fd);
      c.fd = -1;
      c.dead = true;
    }
  }
}

}  // namespace

uint64_t RunResult::total_responses() const {
  uint64_t n = 0;
  for (uint64_t v : outcomes) n += v;
  return n;
}

absl::StatusOr<int> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("--socket ", path, ": path too long"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  for (;;) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect ", path, ": ", std::strerror(err)));
  }
}

absl::StatusOr<RunResult> RunLoad(const RunConfig& config) {
  const RunSpec& spec = config.spec;
  const int threads = std::max(1, std::min(config.threads, spec.connections));
  std::vector<std::vector<Conn>> shares(static_cast<size_t>(threads));
  auto close_all = [&shares] {
    for (auto& share : shares) {
      for (Conn& c : share) ::close(c.fd);
    }
  };
  for (int i = 0; i < spec.connections; ++i) {
    absl::StatusOr<int> fd = ConnectUnix(spec.socket_path);
    if (!fd.ok()) {
      close_all();
      return absl::Status(
          fd.status().code(),
          absl::StrCat("connection ", i, " of ", spec.connections, ": ", fd.status().message()));
    }
    ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK);
    Conn c;
    c.fd = *fd;
    c.index = i;
    c.slots.resize(static_cast<size_t>(spec.depth));
    for (int s = spec.depth - 1; s >= 0; --s) c.free_slots.push_back(static_cast<uint16_t>(s));
    shares[static_cast<size_t>(i % threads)].push_back(std::move(c));
  }

  // Priming: each thread sends its slice of the distinct tokens once.
  std::vector<RunResult> parts;
  const uint64_t distinct = config.workload->distinct_tokens();
  if (spec.op == Op::kValidate && distinct > 0) {
    const Nanos t_prime = Now();
    std::vector<std::unique_ptr<Worker>> primers;
    for (int t = 0; t < threads; ++t) {
      PrimeRange range{distinct * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads),
                       distinct * static_cast<uint64_t>(t + 1) / static_cast<uint64_t>(threads)};
      primers.push_back(std::make_unique<Worker>(config, std::move(shares[static_cast<size_t>(t)]),
                                                 range, t_prime));
    }
    std::vector<std::thread> running;
    for (auto& w : primers) running.emplace_back([&w] { w->Run(); });
    for (std::thread& t : running) t.join();
    for (int t = 0; t < threads; ++t) {
      shares[static_cast<size_t>(t)] = primers[static_cast<size_t>(t)]->TakeConns();
      parts.push_back(std::move(primers[static_cast<size_t>(t)]->result()));
    }
  }
  uint64_t primed = 0;
  for (const RunResult& p : parts) primed += p.total_responses();

  // Each thread starts its token sequence at its own point of the set, so
  // that threads do not send the same token at the same moment.
  const uint64_t stride = std::max<uint64_t>(1, distinct / static_cast<uint64_t>(threads));
  const Nanos t_start = Now() + 20000000u;  // every thread starts together
  const Nanos t_measure = t_start + Seconds(config.warmup_seconds);
  const Nanos t_end = t_measure + Seconds(config.duration_seconds);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(config, std::move(shares[static_cast<size_t>(t)]),
                                               stride * static_cast<uint64_t>(t), t_start));
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });

  // The server's CPU time at the window's edges, read from this thread,
  // which has nothing else to do meanwhile.
  bool server_ok = false;
  uint64_t server_ns = 0;
  double server_seconds = 0;
  std::string server_error;
  if (!spec.server_pids.empty()) {
    SleepUntil(t_measure);
    const Nanos at_open = Now();
    absl::StatusOr<uint64_t> open = ReadProcessesCpuNs(spec.server_pids);
    SleepUntil(t_end);
    const Nanos at_close = Now();
    absl::StatusOr<uint64_t> close = ReadProcessesCpuNs(spec.server_pids);
    if (!open.ok() || !close.ok()) {
      server_error = std::string((open.ok() ? close : open).status().message());
    } else {
      server_ok = true;
      server_ns = *close >= *open ? *close - *open : 0;
      server_seconds = static_cast<double>(at_close - at_open) / 1e9;
    }
  }
  for (std::thread& t : running) t.join();

  for (auto& w : workers) parts.push_back(std::move(w->result()));
  RunResult total = MergeResults(parts, config.duration_seconds, threads);
  total.primed = primed;
  if (!spec.server_pids.empty()) {
    total.server_measured = server_ok;
    total.server_cpu_ns = server_ns;
    total.server_window_seconds = server_seconds;
    total.server_error = std::move(server_error);
    total.server_cores = spec.server_cores > 0 ? spec.server_cores : AllowedCpus(spec.server_pids);
  }
  return total;
}

RunResult MergeResults(std::vector<RunResult>& parts, double window_seconds, int client_threads) {
  RunResult total;
  total.window_seconds = window_seconds;
  total.client_threads = client_threads;
  for (RunResult& r : parts) {
    total.latency.Merge(r.latency);
    total.send_lag.Merge(r.send_lag);
    total.client_lag.Merge(r.client_lag);
    total.completed_in_window += r.completed_in_window;
    for (int i = 0; i < kOutcomeCount; ++i) total.outcomes[i] += r.outcomes[i];
    if (total.unexpected == 0 && r.unexpected > 0) total.first_unexpected = r.first_unexpected;
    total.unexpected += r.unexpected;
    for (std::string& e : r.connection_errors) {
      if (total.connection_errors.size() < kMaxErrorsListed) {
        total.connection_errors.push_back(std::move(e));
      }
    }
    total.client_cpu_ns += r.client_cpu_ns;
    total.client_poll_ns += r.client_poll_ns;
    total.client_busiest_share = std::max(total.client_busiest_share, r.client_busiest_share);
  }
  // The measured threads' loops: the last client_threads parts (priming
  // parts may come first).
  const size_t measured = std::min(parts.size(), static_cast<size_t>(std::max(client_threads, 0)));
  total.client_uring = measured > 0;
  for (size_t i = parts.size() - measured; i < parts.size(); ++i) {
    total.client_uring = total.client_uring && parts[i].client_uring;
  }
  return total;
}

}  // namespace tokend::bench

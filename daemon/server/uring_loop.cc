// SPDX-License-Identifier: Apache-2.0
// The io_uring event loop (see event_loop.h for the behaviour both loops
// share). Modelled on liburing's examples/proxy.c and echo-server:
//
//   - One ring per worker, created on the worker's thread (a ring set up
//     with IORING_SETUP_SINGLE_ISSUER refuses submissions from any other
//     thread with -EEXIST). Setup flags are tried newest first:
//     SINGLE_ISSUER|DEFER_TASKRUN (6.1), then COOP_TASKRUN (5.19), then none,
//     each time -EINVAL says the kernel does not know a flag.
//   - A multishot accept on each shared listening socket per worker; one
//     receive at a time per connection over a ring of provided buffers
//     (io_uring_register_buf_ring; the ring memory is mapped page-aligned
//     here, as liburing 2.3 has no io_uring_setup_buf_ring), re-armed after
//     each completion while the connection wants to read. Not a multishot
//     receive: the kernel retries one up to 32 times per wake-up, so a
//     client that writes without reading would have up to 32 buffers
//     delivered past its pause, which the daemon must then hold; one
//     receive at a time stops reading a paused client at once. An
//     operation whose completion lacks IORING_CQE_F_MORE has ended and is
//     re-armed; -ENOBUFS (the buffers ran out) ends one too.
//   - Completions are reaped in batches (io_uring_for_each_cqe, one
//     io_uring_cq_advance); the buffers a batch used go back to the kernel
//     in one io_uring_buf_ring_advance; then each connection the batch
//     touched is updated once: at most one send, of everything it has to
//     say, and at most one re-arm.
//   - Stop() writes each worker's eventfd, which the worker polls.
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/server/connection.h"
#include "daemon/server/event_loop.h"
#include "daemon/server/loop_core.h"
#include "daemon/server/uring_setup.h"
#include "daemon/util/log.h"

namespace tokend::server {
namespace {

using internal::ErrnoMessage;
using internal::LoopCore;
using internal::WorkerCounters;
using Clock = Connection::Clock;
using TimePoint = Connection::TimePoint;

// ---- user_data ---------------------------------------------------------
//
// Every SQE carries a Tag packed into its 64-bit user_data:
//
//   bits  0..7   Op: what the operation was
//   bits  8..31  slot: the connection's index in the worker's SlotTable
//                (kRecv, kSend, kCancel), the endpoint's index (kAccept,
//                kAcceptPoll), 0 otherwise
//   bits 32..63  gen: the slot's generation when the operation was queued
//
// A completion whose (slot, gen) no longer names a live connection belongs
// to one that has closed; it is ignored (its provided buffer, if any, is
// still given back).
enum class Op : uint8_t {
  kAccept = 1,      // multishot accept on an endpoint's listening socket
  kAcceptPoll = 2,  // readiness of a non-blocking listening socket (old kernels)
  kWake = 3,        // poll on the worker's eventfd: Stop() was called
  kRecv = 4,        // receive of a connection
  kSend = 5,        // send of a connection's unsent output
  kCancel = 6,      // a cancellation; its own completion needs no action
};

struct Tag {
  Op op;
  uint32_t slot = 0;
  uint32_t gen = 0;
};

constexpr uint32_t kMaxSlots = 1u << 24;

constexpr uint64_t Encode(Tag t) {
  return static_cast<uint64_t>(t.op) | (static_cast<uint64_t>(t.slot & (kMaxSlots - 1)) << 8) |
         (static_cast<uint64_t>(t.gen) << 32);
}

constexpr Tag Decode(uint64_t u) {
  return Tag{static_cast<Op>(u & 0xff), static_cast<uint32_t>((u >> 8) & (kMaxSlots - 1)),
             static_cast<uint32_t>(u >> 32)};
}

static_assert(Decode(Encode(Tag{Op::kSend, 12345, 0xdeadbeef})).slot == 12345);
static_assert(Decode(Encode(Tag{Op::kSend, 12345, 0xdeadbeef})).gen == 0xdeadbeef);
static_assert(Decode(Encode(Tag{Op::kSend, 12345, 0xdeadbeef})).op == Op::kSend);

constexpr uint16_t kBufferGroup = 0;
constexpr unsigned kSqEntries = 512;
constexpr unsigned kCqEntries = 8192;
constexpr unsigned kMaxBuffers = 32768;  // the buffer ring's tail is 16 bits
// After Stop(), a worker waits this long past drain_timeout for the kernel
// to finish the operations it cancelled, then exits regardless.
constexpr auto kExitGrace = std::chrono::seconds(1);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

absl::Status UringError(int neg_err, const char* what) {
  return absl::ErrnoToStatus(-neg_err, ErrnoMessage(absl::StrCat("io_uring: ", what), -neg_err));
}

unsigned RoundUpPow2(size_t n) {
  unsigned p = 1;
  while (p < n && p < kMaxBuffers) p <<= 1;
  return p;
}

// A ring of provided buffers of one size, registered as kBufferGroup.
// Release() after the ring is gone (or unregistered).
class BufferRing {
 public:
  BufferRing() = default;
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;
  ~BufferRing() { Release(); }

  // Maps and registers `entries` (a power of two) buffers of `size` bytes,
  // all handed to the kernel. Returns 0 or -errno.
  int Setup(io_uring* ring, unsigned entries, size_t size) {
    size_ = size;
    mask_ = io_uring_buf_ring_mask(entries);
    ring_bytes_ = entries * sizeof(io_uring_buf);
    void* r =
        ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return -errno;
    br_ = static_cast<io_uring_buf_ring*>(r);
    bufs_bytes_ = static_cast<size_t>(entries) * size;
    void* b =
        ::mmap(nullptr, bufs_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) return -errno;
    bufs_ = static_cast<char*>(b);

    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(br_);
    reg.ring_entries = entries;
    reg.bgid = kBufferGroup;
    const int ret = io_uring_register_buf_ring(ring, &reg, 0);
    if (ret < 0) return ret;
    io_uring_buf_ring_init(br_);
    for (unsigned i = 0; i < entries; ++i) Recycle(static_cast<uint16_t>(i));
    Publish();
    return 0;
  }

  char* Buffer(uint16_t bid) { return bufs_ + static_cast<size_t>(bid) * size_; }

  // Queues buffer `bid` for the kernel again; visible after Publish().
  void Recycle(uint16_t bid) {
    io_uring_buf_ring_add(br_, Buffer(bid), static_cast<unsigned>(size_), bid, mask_, added_++);
  }
  void Publish() {
    if (added_ > 0) io_uring_buf_ring_advance(br_, added_);
    added_ = 0;
  }

  void Release() {
    if (bufs_ != nullptr) ::munmap(bufs_, bufs_bytes_);
    if (br_ != nullptr) ::munmap(br_, ring_bytes_);
    bufs_ = nullptr;
    br_ = nullptr;
  }

 private:
  io_uring_buf_ring* br_ = nullptr;
  size_t ring_bytes_ = 0;
  char* bufs_ = nullptr;
  size_t bufs_bytes_ = 0;
  size_t size_ = 0;
  int mask_ = 0;
  int added_ = 0;
};

// ProbeUring()
//
// Sets up a ring and a buffer ring and receives one byte over a socketpair
// into a provided buffer: everything the loop relies on (a kernel with
// buffer rings also has the multishot accept), so that a kernel or sandbox
// that refuses any of it is found before the loop is chosen.
absl::Status ProbeUring() {
  io_uring ring;
  int ret = SetupRing(&ring, 8, 16);
  if (ret < 0) {
    return absl::UnavailableError(ErrnoMessage("io_uring refused (io_uring_setup)", -ret));
  }
  absl::Status result = absl::OkStatus();
  BufferRing bufs;
  int sv[2] = {-1, -1};
  if ((ret = bufs.Setup(&ring, 2, 64)) < 0) {
    result = absl::UnavailableError(ErrnoMessage("io_uring provided buffer ring refused", -ret));
  } else if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    result = absl::ErrnoToStatus(errno, ErrnoMessage("io_uring probe: socketpair", errno));
  } else {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, sv[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    sqe->user_data = 1;
    const char byte = 'x';
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{.tv_sec = 2, .tv_nsec = 0};
    if (::write(sv[1], &byte, 1) != 1) {
      result = absl::ErrnoToStatus(errno, ErrnoMessage("io_uring probe: write", errno));
    } else if ((ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr)) < 0 ||
               cqe == nullptr) {
      result = absl::UnavailableError(
          ErrnoMessage("io_uring probe: no completion", ret < 0 ? -ret : ETIME));
    } else if (cqe->res != 1 || (cqe->flags & IORING_CQE_F_BUFFER) == 0) {
      result = absl::UnavailableError(
          cqe->res < 0 ? ErrnoMessage("io_uring receive into a provided buffer refused", -cqe->res)
                       : std::string("io_uring receive into a provided buffer misbehaved"));
    }
  }
  io_uring_queue_exit(&ring);
  bufs.Release();
  if (sv[0] >= 0) ::close(sv[0]);
  if (sv[1] >= 0) ::close(sv[1]);
  return result;
}

class UringWorker {
 public:
  UringWorker(LoopCore& core, int index)
      : core_(core), index_(index), counters_(core.counters(index)) {}
  UringWorker(const UringWorker&) = delete;
  UringWorker& operator=(const UringWorker&) = delete;
  ~UringWorker();

  absl::Status Run();

 private:
  // The receive of a connection, as far as the kernel is concerned.
  enum class Recv : uint8_t {
    kIdle,        // no receive in the kernel
    kArmed,       // a receive is in the kernel
    kCancelling,  // ... and a cancellation of it was queued
  };
  // Whether a connection is being torn down without sending the rest.
  enum class Teardown : uint8_t {
    kNone,       // serving, or draining its output normally
    kForced,     // close as soon as the kernel holds nothing of it
    kCancelled,  // ... and every operation on its descriptor was cancelled
  };

  // One connection's record. Invariants, kept by the functions that change
  // the fields and relied on everywhere else:
  //   1. conn == nullptr iff the slot is free; a free slot has every other
  //      field at its default and the next generation (SlotTable::Free()).
  //   2. recv != kIdle iff a receive tagged (slot, gen) is in the
  //      kernel; kCancelling once its cancellation was queued. Only a
  //      completion without IORING_CQE_F_MORE makes it kIdle again.
  //   3. send_inflight iff a send tagged (slot, gen) is in the kernel; it
  //      points into the Connection's output, which stays unchanged until
  //      OnSend() (Connection::PrepareSend()).
  //   4. dirty iff the slot is on the SlotTable's dirty list.
  //   5. teardown only moves forward (kNone, kForced, kCancelled); past
  //      kNone no received byte is answered and nothing more is sent.
  //   6. The descriptor is closed and the slot freed (FinishClose()) only
  //      with recv == kIdle and !send_inflight: the kernel then holds no
  //      pointer into the slot's memory and no operation on its descriptor.
  struct Slot {
    std::unique_ptr<Connection> conn;
    ProtocolHandler* handler = nullptr;  // its endpoint's, this worker's
    uint32_t gen = 0;
    uid_t uid = 0;  // the peer's, for LoopCore::Release()
    Recv recv = Recv::kIdle;
    Teardown teardown = Teardown::kNone;
    bool send_inflight = false;
    bool dirty = false;
    uint64_t pauses_seen = 0;

    bool kernel_idle() const { return recv == Recv::kIdle && !send_inflight; }
    bool closing() const { return teardown != Teardown::kNone; }
    void ForceClose() {
      if (teardown == Teardown::kNone) teardown = Teardown::kForced;
    }
  };

  absl::Status Setup();
  io_uring_sqe* Sqe();
  void ArmAccept(size_t endpoint);
  void ArmAcceptAll();
  void ArmWake();
  void ArmRecv(uint32_t i, Slot& s);
  void CancelRecv(uint32_t i, Slot& s);
  void Send(uint32_t i, Slot& s);

  void Handle(const io_uring_cqe& cqe);
  void OnAccept(size_t endpoint, int res, unsigned flags);
  void OnRecv(Tag t, int res, unsigned flags);
  void OnSend(Tag t, int res);
  void BeginStop();

  void Update(uint32_t i);
  void FinishClose(uint32_t i);
  void Sweep();
  bool Done() const {
    if (slots_.live() != 0) return false;
    for (size_t e = 0; e < kMaxEndpoints; ++e) {
      if (accept_armed_[e] || accept_poll_armed_[e]) return false;
    }
    return true;
  }

  LoopCore& core_;
  const int index_;
  WorkerCounters& counters_;
  io_uring ring_{};
  bool ring_ready_ = false;
  BufferRing bufs_;
  std::vector<ProtocolHandler*> handlers_;  // by endpoint
  internal::SlotTable<Slot> slots_;
  std::vector<char> scratch_;  // for the reads at Stop()
  TimePoint now_;

  // By endpoint.
  bool accept_armed_[kMaxEndpoints] = {};
  bool accept_poll_armed_[kMaxEndpoints] = {};
  bool accept_retry_ = false;  // re-arm the accepts at accept_retry_at_
  TimePoint accept_retry_at_;
  bool stopping_ = false;
  TimePoint stop_deadline_;
  TimePoint exit_deadline_;
  absl::Status fatal_;
};

UringWorker::~UringWorker() {
  // The ring goes first: after it, the kernel holds no buffer or send
  // pointer into this worker's memory.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  bufs_.Release();
  internal::CloseAllSlots(core_, index_, slots_);
}

absl::Status UringWorker::Setup() {
  int ret = SetupRing(&ring_, kSqEntries, kCqEntries);
  if (ret < 0) return UringError(ret, "setup");
  ring_ready_ = true;
  (void)io_uring_register_ring_fd(&ring_);  // an optimisation only
  const LoopOptions& o = core_.options();
  ret = bufs_.Setup(&ring_, RoundUpPow2(o.recv_buffers), o.recv_buffer_size);
  if (ret < 0) return UringError(ret, "provided buffer ring");
  absl::StatusOr<std::vector<ProtocolHandler*>> handlers = core_.CreateHandlers(index_);
  if (!handlers.ok()) return handlers.status();
  handlers_ = *std::move(handlers);
  scratch_.resize(o.recv_buffer_size);
  return absl::OkStatus();
}

absl::Status UringWorker::Run() {
  if (absl::Status st = Setup(); !st.ok()) return st;
  now_ = Clock::now();
  ArmWake();
  if (core_.stop_requested()) {
    BeginStop();
  } else {
    ArmAcceptAll();
  }
  const auto tick = core_.tick_interval();
  TimePoint next_tick = now_ + tick;
  while (fatal_.ok()) {
    if (stopping_ && Done()) break;
    if (stopping_ && now_ >= exit_deadline_) {
      LogWarning(absl::StrCat("io_uring worker ", index_, ": exiting with ", slots_.live(),
                              " connections still closing"));
      break;
    }
    const auto wait = std::max(next_tick - now_, Clock::duration::zero());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    __kernel_timespec ts{.tv_sec = ns / 1'000'000'000, .tv_nsec = ns % 1'000'000'000};
    io_uring_cqe* first = nullptr;
    const int ret = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
      fatal_ = UringError(ret, "submit_and_wait");
      break;
    }
    now_ = Clock::now();
    unsigned head;
    unsigned count = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      Handle(*cqe);
      ++count;
    }
    io_uring_cq_advance(&ring_, count);
    bufs_.Publish();
    if (now_ >= next_tick) {
      Sweep();
      next_tick = now_ + tick;
    }
    slots_.FlushDirty([this](uint32_t i) { Update(i); });
  }
  return fatal_;
}

io_uring_sqe* UringWorker::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  // The submission queue is full: hand it to the kernel and retry.
  const int ret = io_uring_submit(&ring_);
  if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && fatal_.ok()) {
    fatal_ = UringError(ret, "submit");
  }
  sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr && fatal_.ok()) {
    // Still full (the kernel pushed back): rather than lose track of an
    // operation, the worker stops with an error.
    fatal_ = absl::ResourceExhaustedError("io_uring: submission queue full");
  }
  return sqe;
}

void UringWorker::ArmAccept(size_t e) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  io_uring_prep_multishot_accept(sqe, core_.listen_fd(e), nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kAccept, static_cast<uint32_t>(e)}));
  accept_armed_[e] = true;
}

void UringWorker::ArmAcceptAll() {
  for (size_t e = 0; e < core_.endpoint_count(); ++e) {
    if (!accept_armed_[e] && !accept_poll_armed_[e]) ArmAccept(e);
  }
}

void UringWorker::ArmWake() {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  io_uring_prep_poll_add(sqe, core_.wake_fd(index_), POLLIN);
  io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kWake}));
}

void UringWorker::ArmRecv(uint32_t i, Slot& s) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  // len 0: the selected buffer's size.
  io_uring_prep_recv(sqe, s.conn->fd(), nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kRecv, i, s.gen}));
  s.recv = Recv::kArmed;
}

void UringWorker::CancelRecv(uint32_t i, Slot& s) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  io_uring_prep_cancel64(sqe, Encode(Tag{Op::kRecv, i, s.gen}), 0);
  io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kCancel, i, s.gen}));
  s.recv = Recv::kCancelling;
}

void UringWorker::Send(uint32_t i, Slot& s) {
  const std::string_view out = s.conn->PrepareSend();
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  io_uring_prep_send(sqe, s.conn->fd(), out.data(), out.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kSend, i, s.gen}));
  s.send_inflight = true;
}

void UringWorker::Handle(const io_uring_cqe& cqe) {
  const Tag t = Decode(cqe.user_data);
  switch (t.op) {
    case Op::kAccept:
      if (t.slot < core_.endpoint_count()) OnAccept(t.slot, cqe.res, cqe.flags);
      return;
    case Op::kAcceptPoll:
      if (t.slot >= core_.endpoint_count()) return;
      accept_poll_armed_[t.slot] = false;
      if (!stopping_ && !accept_armed_[t.slot]) ArmAccept(t.slot);
      return;
    case Op::kWake:
      if (core_.stop_requested()) {
        if (!stopping_) BeginStop();
      } else {
        uint64_t v;
        [[maybe_unused]] ssize_t n = ::read(core_.wake_fd(index_), &v, sizeof(v));
        ArmWake();
      }
      return;
    case Op::kRecv:
      OnRecv(t, cqe.res, cqe.flags);
      return;
    case Op::kSend:
      OnSend(t, cqe.res);
      return;
    case Op::kCancel:
      return;
  }
}

void UringWorker::OnAccept(size_t e, int res, unsigned flags) {
  if ((flags & IORING_CQE_F_MORE) == 0) accept_armed_[e] = false;
  if (res >= 0) {
    uid_t uid = 0;
    if (stopping_ || slots_.live() >= kMaxSlots) {
      ::close(res);
    } else if (const LoopCore::Admission a = core_.Admit(index_, res, &uid);
               a != LoopCore::Admission::kAdmitted) {
      if (a == LoopCore::Admission::kPeerRefused) {
        LoopCore::SendRefusal(res, handlers_[e]->RefusalReply());
      }
      ::close(res);
    } else {
      const uint32_t i = slots_.Allocate();
      Slot& s = slots_.at(i);
      s.conn = core_.NewConnection(res, now_);
      s.uid = uid;
      s.handler = handlers_[e];
      slots_.MarkDirty(i);  // Update() arms its receive
    }
  } else if (res == -EAGAIN || res == -EWOULDBLOCK) {
    // A non-blocking listening socket on a kernel that does not poll it for
    // us: wait for readiness, then accept again.
    if (!accept_armed_[e] && !stopping_ && !accept_poll_armed_[e]) {
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) return;
      io_uring_prep_poll_add(sqe, core_.listen_fd(e), POLLIN);
      io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kAcceptPoll, static_cast<uint32_t>(e)}));
      accept_poll_armed_[e] = true;
    }
    return;
  } else if (res != -ECANCELED && !stopping_) {
    // EMFILE, ENFILE, ENOMEM...: retry later rather than spin.
    LogWarning(ErrnoMessage(absl::StrCat("io_uring worker ", index_, ": accept"), -res));
    accept_retry_ = true;
    accept_retry_at_ = now_ + kAcceptRetry;
  }
  if (!accept_armed_[e] && !accept_poll_armed_[e] && !accept_retry_ && !stopping_) ArmAccept(e);
}

void UringWorker::OnRecv(Tag t, int res, unsigned flags) {
  Slot* s = slots_.Find(t.slot, t.gen);
  if (flags & IORING_CQE_F_BUFFER) {
    const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (res > 0 && s != nullptr && s->teardown == Teardown::kNone) {
      s->conn->OnInput(std::string_view(bufs_.Buffer(bid), static_cast<size_t>(res)), *s->handler,
                       now_);
    }
    bufs_.Recycle(bid);
  }
  if (s == nullptr) return;
  if ((flags & IORING_CQE_F_MORE) == 0) s->recv = Recv::kIdle;
  if (res == 0) {
    s->conn->OnPeerClosed(now_);
  } else if (res == -ENOBUFS) {
    WorkerCounters::Bump(counters_.recv_no_buffers);
  } else if (res < 0 && res != -ECANCELED) {
    s->ForceClose();  // ECONNRESET and the like
  }
  slots_.MarkDirty(t.slot);
}

void UringWorker::OnSend(Tag t, int res) {
  Slot* s = slots_.Find(t.slot, t.gen);
  if (s == nullptr) return;
  s->send_inflight = false;
  if (res > 0) {
    s->conn->OnSent(static_cast<size_t>(res), now_);
  } else {
    s->ForceClose();  // EPIPE, ECONNRESET; 0 would never progress
  }
  slots_.MarkDirty(t.slot);
}

void UringWorker::BeginStop() {
  stopping_ = true;
  stop_deadline_ = now_ + core_.options().drain_timeout;
  exit_deadline_ = stop_deadline_ + kExitGrace;
  accept_retry_ = false;
  for (size_t e = 0; e < core_.endpoint_count(); ++e) {
    const auto ep = static_cast<uint32_t>(e);
    if (accept_armed_[e]) {
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) return;
      io_uring_prep_cancel64(sqe, Encode(Tag{Op::kAccept, ep}), 0);
      io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kCancel}));
    }
    if (accept_poll_armed_[e]) {
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) return;
      io_uring_prep_cancel64(sqe, Encode(Tag{Op::kAcceptPoll, ep}), 0);
      io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kCancel}));
    }
  }
  slots_.MarkAllDirty();
}

void UringWorker::Update(uint32_t i) {
  Slot& s = slots_.at(i);
  if (s.conn == nullptr) return;
  Connection& c = *s.conn;

  // Stop(): once the loop's own receive has ended, read what the client had
  // already sent, then drain.
  if (stopping_ && s.teardown == Teardown::kNone && !c.draining()) {
    if (s.recv == Recv::kArmed) {
      CancelRecv(i, s);
    } else if (s.recv == Recv::kIdle && !LoopCore::DrainForStop(c, *s.handler, scratch_, now_)) {
      s.ForceClose();
    }
  }

  if (s.teardown != Teardown::kNone) {
    if (s.kernel_idle()) {
      FinishClose(i);
    } else if (s.teardown == Teardown::kForced) {
      io_uring_sqe* sqe = Sqe();
      if (sqe == nullptr) return;
      io_uring_prep_cancel_fd(sqe, c.fd(), IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(sqe, Encode(Tag{Op::kCancel, i, s.gen}));
      s.teardown = Teardown::kCancelled;
    }
    return;
  }

  core_.AfterIo(index_, c, *s.handler, &s.pauses_seen, now_);
  if (c.WantsRead()) {
    if (s.recv == Recv::kIdle && !stopping_) ArmRecv(i, s);
  } else if (s.recv == Recv::kArmed) {
    // Paused or draining: stop the receive now; what it still brings is
    // held (paused) or dropped (draining), never answered meanwhile.
    CancelRecv(i, s);
  }
  if (!s.send_inflight && c.unsent() > 0) Send(i, s);
  if (c.ShouldClose() && s.kernel_idle()) FinishClose(i);
}

void UringWorker::FinishClose(uint32_t i) { internal::CloseSlot(core_, index_, slots_, i); }

void UringWorker::Sweep() {
  internal::SweepSlots(core_, index_, slots_, now_, stopping_ && now_ >= stop_deadline_);
  if (accept_retry_ && !stopping_ && now_ >= accept_retry_at_) {
    accept_retry_ = false;
    ArmAcceptAll();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> MakeUringLoop(std::vector<Endpoint> endpoints,
                                                         LoopOptions options) {
  if (options.recv_buffer_size > (1u << 30)) {
    return absl::InvalidArgumentError("event loop: recv_buffer_size above 1 GiB");
  }
  absl::StatusOr<std::unique_ptr<LoopCore>> core =
      LoopCore::Create(std::move(endpoints), std::move(options));
  if (!core.ok()) return core.status();
  if (absl::Status st = ProbeUring(); !st.ok()) return st;
  return std::unique_ptr<EventLoop>(
      new internal::CoreLoop<UringWorker>(*std::move(core), "io_uring"));
}

}  // namespace tokend::server

// SPDX-License-Identifier: Apache-2.0
// loop_core.h
//
// What the io_uring and epoll loops share, internal to the event_loop
// target: the state every worker of one loop sees (endpoints, options, allow
// lists, stop flag and wake-up descriptors, the connection count, counters),
// the
// running of workers on threads, and a table of connections addressed by a
// slot index plus a generation, so that an event for a connection that has
// since closed (and whose slot was reused) is recognised and ignored.
//
// Thread-safety: LoopCore's methods are thread-safe unless marked
// "worker only". A SlotTable belongs to one worker. Ownership: LoopCore
// owns the wake-up eventfds and the handlers (kept until the loop is
// destroyed, so stats() stays valid); it does not own the listening sockets.
#ifndef TOKEND_DAEMON_SERVER_LOOP_CORE_H_
#define TOKEND_DAEMON_SERVER_LOOP_CORE_H_

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "daemon/server/accept_policy.h"
#include "daemon/server/connection.h"
#include "daemon/server/event_loop.h"
#include "daemon/server/peer_auth.h"
#include "daemon/server/protocol_handler.h"
#include "daemon/server/service.h"

namespace tokend::server::internal {

// Per-worker counters: one writer (the worker), relaxed readers.
struct WorkerCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> refused_max_connections{0};
  std::atomic<uint64_t> refused_peer{0};
  std::atomic<uint64_t> refused_per_uid{0};
  std::atomic<uint64_t> write_stall_timeouts{0};
  std::atomic<uint64_t> frame_timeouts{0};
  std::atomic<uint64_t> drain_timeouts{0};
  std::atomic<uint64_t> read_pauses{0};
  std::atomic<uint64_t> recv_no_buffers{0};

  static void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class LoopCore {
 public:
  // Creates one wake-up eventfd per worker. Fails on a bad option or
  // endpoint (see MakeUringLoop()) or when an eventfd cannot be created.
  static absl::StatusOr<std::unique_ptr<LoopCore>> Create(std::vector<Endpoint> endpoints,
                                                          LoopOptions options);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  const LoopOptions& options() const { return options_; }
  size_t endpoint_count() const { return endpoints_.size(); }
  int listen_fd(size_t endpoint) const { return endpoints_[endpoint].listen_fd; }
  // Readable once Stop() was called (an eventfd, non-blocking).
  int wake_fd(int worker) const { return wake_fds_[worker]; }
  WorkerCounters& counters(int worker) { return *counters_[worker]; }

  // RunWorkers()
  //
  // Runs worker(i) for each i in [0, threads): worker 0 on the calling
  // thread, the others on threads of their own. The first error stops the
  // other workers (through Stop()) and is returned once all have exited.
  // Fails with kFailedPrecondition when called a second time.
  absl::Status RunWorkers(const std::function<absl::Status(int)>& worker);

  // Sets the stop flag and wakes every worker. Idempotent.
  void Stop();
  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }

  // CreateHandlers()
  //
  // Worker only: calls each endpoint's factory for `worker` (on that
  // worker's thread) and keeps the handlers for stats(). Returns them by
  // endpoint. Fails when a factory returns null.
  absl::StatusOr<std::vector<ProtocolHandler*>> CreateHandlers(int worker);

  enum class Admission { kAdmitted, kFull, kPeerRefused, kPerUid };
  // Admit()
  //
  // Worker only: checks the peer of `fd` against the allow lists, then
  // takes one place from the AcceptPolicy (max_connections,
  // max_connections_per_uid and the reserve) for the peer's uid, stored in
  // *uid. On anything but kAdmitted nothing is taken, the refusal is
  // counted and logged (rate-limited); the caller closes `fd`. An admitted
  // connection is given back with Release(worker, *uid).
  Admission Admit(int worker, int fd, uid_t* uid);
  void Release(int worker, uid_t uid);
  // Worker only: after kPeerRefused, sends `reply` (the handler's
  // RefusalReply()) without blocking and ignores failure; the caller then
  // closes `fd`.
  static void SendRefusal(int fd, std::string_view reply);

  // A Connection for the admitted `fd`, with the loop's limits and sharing
  // its buffer budget.
  std::unique_ptr<Connection> NewConnection(int fd, Connection::TimePoint now);
  const BufferBudget& budget() const { return budget_; }

  LoopStats Stats() const;

  // Worker only: reads `fd` (MSG_DONTWAIT) until it has nothing more to
  // give, the connection pauses or drains, or `max_reads` reads were made,
  // feeding `conn`. Used once per connection at Stop(), after the loop's own
  // receive for it has ended. Returns false when the socket failed (the
  // caller closes the connection at once).
  static bool ReadAvailable(Connection& conn, ProtocolHandler& handler, std::vector<char>& scratch,
                            Connection::TimePoint now, int max_reads);

  enum class SweepResult { kNone, kDrain, kClose };
  // SweepConnection()
  //
  // Worker only: the periodic timeout check of one connection, counted in
  // `worker`'s counters. kDrain: a frame sat past the frame timeout, and
  // the connection now drains; kClose: a drain ran past its deadline, the
  // output stalled past write_stall_timeout, or the stop deadline has
  // passed (`past_stop_deadline`), and the caller closes it at once; kNone:
  // nothing changed.
  SweepResult SweepConnection(int worker, Connection& conn, Connection::TimePoint now,
                              bool past_stop_deadline);

  // How often workers sweep their connections for timeouts.
  std::chrono::milliseconds tick_interval() const { return tick_; }

  // DrainForStop()
  //
  // Worker only: at Stop(), for a connection not yet draining whose loop
  // receive has ended: reads what the client had already sent (see
  // ReadAvailable()) and starts the drain (kStopping). False when the
  // socket failed: the caller closes the connection at once.
  static bool DrainForStop(Connection& conn, ProtocolHandler& handler, std::vector<char>& scratch,
                           Connection::TimePoint now);

  // AfterIo()
  //
  // Worker only: the bookkeeping both loops do on a connection they update,
  // before deciding what to read, send or close: answers the input held
  // while it was paused once the pause has lifted, and counts new pauses
  // (`*pauses_seen`: the pauses already counted).
  void AfterIo(int worker, Connection& conn, ProtocolHandler& handler, uint64_t* pauses_seen,
               Connection::TimePoint now);

 private:
  LoopCore(std::vector<Endpoint> endpoints, LoopOptions options);

  const std::vector<Endpoint> endpoints_;
  const LoopOptions options_;
  const PeerPolicy peer_policy_;
  const std::chrono::milliseconds tick_;

  std::vector<int> wake_fds_;
  std::vector<std::unique_ptr<WorkerCounters>> counters_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ran_{false};
  AcceptPolicy accept_;  // admitted connections, all workers
  BufferBudget budget_;  // their buffers

  mutable std::mutex handlers_mu_;
  // [endpoint][worker]; guarded by handlers_mu_.
  std::vector<std::vector<std::unique_ptr<ProtocolHandler>>> handlers_;

  std::atomic<int64_t> last_refusal_log_ns_{0};
};

// A worker's connections, addressed by (slot, generation), and the list of
// those to update after a batch of events (the dirty list: each live slot
// at most once). Slot records are never moved: the loops keep pointers into
// them only within one event.
template <typename Slot>
class SlotTable {
 public:
  // Slot must have `std::unique_ptr<Connection> conn`, `uint32_t gen` and
  // `bool dirty` (true exactly while the slot is on the dirty list).
  uint32_t Allocate() {
    if (!free_.empty()) {
      const uint32_t i = free_.back();
      free_.pop_back();
      return i;
    }
    slots_.push_back(std::make_unique<Slot>());
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  // Frees slot `i`: its record is reset to a fresh Slot with the next
  // generation, so events tagged with the old one no longer match.
  void Free(uint32_t i) {
    const uint32_t next_gen = slots_[i]->gen + 1;
    *slots_[i] = Slot();
    slots_[i]->gen = next_gen;
    free_.push_back(i);
  }
  // The live slot `i` of generation `gen`, or null.
  Slot* Find(uint32_t i, uint32_t gen) {
    if (i >= slots_.size()) return nullptr;
    Slot* s = slots_[i].get();
    return (s->conn != nullptr && s->gen == gen) ? s : nullptr;
  }
  Slot& at(uint32_t i) { return *slots_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  size_t live() const { return slots_.size() - free_.size(); }

  // Puts slot `i` on the dirty list, once.
  void MarkDirty(uint32_t i) {
    Slot& s = *slots_[i];
    if (!s.dirty) {
      s.dirty = true;
      dirty_.push_back(i);
    }
  }
  // Puts every live slot on the dirty list (at Stop()).
  void MarkAllDirty() {
    for (uint32_t i = 0; i < size(); ++i) {
      if (slots_[i]->conn != nullptr) MarkDirty(i);
    }
  }
  // Calls update(i) for each slot on the dirty list, in the order marked,
  // taking it off first, and empties the list. `update` may free the slot;
  // it must not mark slots dirty.
  template <typename F>
  void FlushDirty(F&& update) {
    for (uint32_t i : dirty_) {
      slots_[i]->dirty = false;
      update(i);
    }
    dirty_.clear();
  }

 private:
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> dirty_;
};

// What both loops do with their SlotTable. A Slot here also has
// `uid_t uid` (the peer's, for Release()), `bool closing() const` (being
// torn down without sending the rest) and `void ForceClose()`.

// CloseSlot()
//
// Worker only: closes slot `i`'s descriptor, gives its place back and frees
// the slot. REQUIRES: the slot is live and the kernel holds nothing of it.
template <typename Slot>
void CloseSlot(LoopCore& core, int worker, SlotTable<Slot>& slots, uint32_t i) {
  Slot& s = slots.at(i);
  ::close(s.conn->fd());
  core.Release(worker, s.uid);
  slots.Free(i);
}

// Worker only: CloseSlot() on every live slot (a worker that exits).
template <typename Slot>
void CloseAllSlots(LoopCore& core, int worker, SlotTable<Slot>& slots) {
  for (uint32_t i = 0; i < slots.size(); ++i) {
    if (slots.at(i).conn != nullptr) CloseSlot(core, worker, slots, i);
  }
}

// SweepSlots()
//
// Worker only: LoopCore::SweepConnection() on every live slot not already
// closing; one that must close is ForceClose()d, and every slot that
// changed is marked dirty.
template <typename Slot>
void SweepSlots(LoopCore& core, int worker, SlotTable<Slot>& slots, Connection::TimePoint now,
                bool past_stop_deadline) {
  for (uint32_t i = 0; i < slots.size(); ++i) {
    Slot& s = slots.at(i);
    if (s.conn == nullptr || s.closing()) continue;
    const LoopCore::SweepResult r = core.SweepConnection(worker, *s.conn, now, past_stop_deadline);
    if (r == LoopCore::SweepResult::kNone) continue;
    if (r == LoopCore::SweepResult::kClose) s.ForceClose();
    slots.MarkDirty(i);
  }
}

// The EventLoop of a LoopCore whose workers are `Worker`s: a class with
// Worker(LoopCore&, int index) and absl::Status Run(), one per thread.
template <typename Worker>
class CoreLoop final : public EventLoop {
 public:
  CoreLoop(std::unique_ptr<LoopCore> core, const char* name)
      : core_(std::move(core)), name_(name) {}

  absl::Status Run() override {
    return core_->RunWorkers([this](int i) {
      Worker worker(*core_, i);
      return worker.Run();
    });
  }
  void Stop() override { core_->Stop(); }
  const char* name() const override { return name_; }
  LoopStats stats() const override { return core_->Stats(); }

 private:
  std::unique_ptr<LoopCore> core_;
  const char* const name_;
};

// "function: strerror" for logs and Status messages.
std::string ErrnoMessage(std::string_view what, int err);

}  // namespace tokend::server::internal

#endif  // TOKEND_DAEMON_SERVER_LOOP_CORE_H_

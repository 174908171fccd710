// SPDX-License-Identifier: Apache-2.0
// connection.h
//
// The state of one client connection that both event loops share: the input
// bytes of a frame not yet complete, the responses not yet sent, and when
// things happened. It decides, from bytes in and bytes out, whether the loop
// should read, send or close; the loop does the I/O. It never touches the
// descriptor itself.
//
// Output is two buffers: `sending_`, which a send in flight may point into
// and which does not change until OnSent(), and `pending_`, where the
// responses of the current batch of completions accumulate. PrepareSend()
// joins them into one contiguous run, so one batch costs one send.
//
// Reading stops when the unsent output exceeds `max_unsent_bytes` (a client
// that does not read its responses gets no more of its requests read) and
// resumes once the unsent output is down to half of that. With a shared
// BufferBudget that is over its limit, the cap drops to kTightUnsentBytes:
// while the daemon as a whole holds too much, no connection with more than
// that unsent gets more of its requests read. Bytes that arrive while paused
// (an io_uring receive already under way) are kept, not answered, until the
// pause lifts (HandleHeld()).
//
// A write stall: output that has not moved for `write_stall` (CheckTimers())
// closes the connection; a client that never reads cannot hold its buffers
// forever.
//
// Thread-safety: none; a Connection belongs to one worker. Ownership: the
// loop owns the Connection and its descriptor; time is passed in.
#ifndef TOKEND_DAEMON_SERVER_CONNECTION_H_
#define TOKEND_DAEMON_SERVER_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/server/protocol_handler.h"

namespace tokend::server {

// BufferBudget
//
// The bytes of buffer memory (string capacities: input and output) held by
// every Connection that shares it, against a limit (0 = none). Each
// Connection adds what it grows and gives back what it frees, including at
// destruction. Thread-safe (relaxed atomics: the figure steers pauses, it
// orders nothing).
class BufferBudget {
 public:
  explicit BufferBudget(size_t limit) : limit_(limit) {}
  BufferBudget(const BufferBudget&) = delete;
  BufferBudget& operator=(const BufferBudget&) = delete;

  void Add(int64_t delta) { used_.fetch_add(delta, std::memory_order_relaxed); }
  size_t used() const {
    const int64_t u = used_.load(std::memory_order_relaxed);
    return u > 0 ? static_cast<size_t>(u) : 0;
  }
  size_t limit() const { return limit_; }
  bool over() const { return limit_ != 0 && used() > limit_; }

 private:
  const size_t limit_;
  std::atomic<int64_t> used_{0};
};

class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // Why a connection stops reading for good.
  enum class DrainReason {
    kNone,           // still reading
    kPeerClosed,     // end of stream from the client
    kProtocolError,  // the handler asked to close: a frame the server cannot
                     // process was answered with 255, or an HTTP request
                     // was answered with 400 or asked to close
    kFrameTimeout,   // an incomplete frame sat longer than the frame timeout
    kStopping,       // the loop is stopping
  };

  // What a timer sweep asks of the loop.
  enum class TimerAction {
    kNone,
    kFrameTimeout,  // start draining (reason kFrameTimeout)
    kDrainTimeout,  // draining took too long: close now, unsent output lost
    kWriteStall,    // unsent output has not moved for write_stall: close now
  };

  // The unsent-output cap while the budget is over its limit.
  static constexpr size_t kTightUnsentBytes = 4096;

  // `budget` (may be null: no shared limit) must outlive the Connection.
  Connection(int fd, size_t max_unsent_bytes, TimePoint now, BufferBudget* budget = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }

  // OnInput()
  //
  // Feeds bytes read from the socket through `handler` (the Service of the
  // binary protocol, or another protocol's handler), with this
  // connection's ProtocolSession: complete requests are answered into the
  // output, an incomplete one is kept (and the handler may keep its parse
  // of it in the session, so that only new bytes are read next time). A handler asking
  // to close (a protocol error, or an HTTP request that ends its
  // connection) starts draining (kProtocolError) and drops everything after
  // the bytes it consumed. Bytes arriving while draining are dropped; bytes
  // arriving while paused are kept unread until HandleHeld().
  void OnInput(std::string_view data, ProtocolHandler& handler, TimePoint now);

  // HandleHeld()
  //
  // Once the pause has lifted, answers the bytes OnInput() kept while
  // paused (as OnInput() would have). Does nothing otherwise.
  void HandleHeld(ProtocolHandler& handler, TimePoint now);
  // True when bytes kept while paused wait for HandleHeld().
  bool has_held_input() const { return held_; }

  // OnPeerClosed()
  //
  // End of stream: an incomplete frame is dropped, the output is still sent,
  // then the connection closes.
  void OnPeerClosed(TimePoint now);

  // StartDrain()
  //
  // Stop reading for `reason`; close once the output is sent. A connection
  // already draining keeps its first reason and its drain start time.
  void StartDrain(DrainReason reason, TimePoint now);

  // True while the loop should read: not draining and not paused.
  bool WantsRead() const { return drain_reason_ == DrainReason::kNone && !paused_; }
  bool draining() const { return drain_reason_ != DrainReason::kNone; }
  DrainReason drain_reason() const { return drain_reason_; }
  // True while reading is held back by the unsent-output cap.
  bool paused() const { return paused_; }
  // True when bytes of an incomplete frame are waiting for the rest.
  bool has_partial_frame() const { return !input_.empty(); }

  size_t unsent() const { return sending_.size() - sent_ + pending_.size(); }

  // PrepareSend()
  //
  // REQUIRES: no send in flight (the last PrepareSend() was followed by
  // OnSent()). Returns all of the unsent output as one run of bytes, which
  // stays valid and unchanged until the next OnSent(); empty when nothing is
  // unsent.
  std::string_view PrepareSend();

  // OnSent()
  //
  // `n` bytes from the front of the last PrepareSend() went out. May lift
  // the pause on reading.
  void OnSent(size_t n, TimePoint now);

  // True when the connection has nothing more to do: draining and nothing
  // unsent. The loop closes it.
  bool ShouldClose() const { return draining() && unsent() == 0; }

  // CheckTimers()
  //
  // kWriteStall when output has been unsent and none of it went out for
  // longer than `write_stall` (zero: never); else kFrameTimeout when an
  // incomplete frame has waited longer than `frame_timeout` while the
  // connection was reading (time spent paused by the unsent cap does not
  // count); kDrainTimeout when the connection has been draining longer than
  // `drain_timeout`.
  TimerAction CheckTimers(TimePoint now, std::chrono::milliseconds frame_timeout,
                          std::chrono::milliseconds drain_timeout,
                          std::chrono::milliseconds write_stall = {}) const;

  // The buffer memory this connection holds (counted in its budget).
  size_t buffered_bytes() const { return accounted_; }

  // Times the connection was paused by the unsent cap (for stats).
  uint64_t pause_count() const { return pause_count_; }

 private:
  void UpdatePause(TimePoint now);
  // Brings the budget up to date with the buffers' capacities; releases
  // emptied buffers first.
  void Account();
  void Answer(ProtocolHandler& handler, TimePoint now);

  int fd_;
  size_t max_unsent_;
  BufferBudget* budget_;  // may be null
  size_t accounted_ = 0;  // what this connection has added to budget_
  // Bytes of one incomplete frame (never a whole one), unless held_: then
  // bytes received while paused, not yet given to the handler.
  std::string input_;
  bool held_ = false;
  // The handler's state for this connection (an HTTP parse in progress).
  std::unique_ptr<ProtocolSession> session_;
  TimePoint partial_since_;  // when the first byte of input_ arrived
  std::string sending_;      // output handed to the last PrepareSend()
  size_t sent_ = 0;          // bytes of sending_ already sent
  std::string pending_;      // output produced since
  TimePoint output_since_;   // last time output went out or began waiting
  bool paused_ = false;
  uint64_t pause_count_ = 0;
  DrainReason drain_reason_ = DrainReason::kNone;
  TimePoint drain_since_;
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_CONNECTION_H_

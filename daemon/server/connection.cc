// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/connection.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace tokend::server {
namespace {

// Buffers grown past this by a burst are released once empty, so that many
// idle connections do not each keep a burst's worth of memory.
constexpr size_t kKeepCapacity = 64 * 1024;

void ReleaseIfLarge(std::string& s, size_t keep) {
  if (s.empty() && s.capacity() > keep) std::string().swap(s);
}

// The heap bytes behind `s` (none while it fits in the string itself).
size_t HeapBytes(const std::string& s) {
  static const size_t kInline = std::string().capacity();
  return s.capacity() > kInline ? s.capacity() + 1 : 0;
}

}  // namespace

Connection::Connection(int fd, size_t max_unsent_bytes, TimePoint now, BufferBudget* budget)
    : fd_(fd),
      max_unsent_(max_unsent_bytes),
      budget_(budget),
      partial_since_(now),
      output_since_(now),
      drain_since_(now) {}

Connection::~Connection() {
  if (budget_ != nullptr) budget_->Add(-static_cast<int64_t>(accounted_));
}

void Connection::OnInput(std::string_view data, ProtocolHandler& handler, TimePoint now) {
  if (draining() || data.empty()) return;
  if (paused_ || held_) {
    // Not read, only kept: a paused connection answers nothing more until
    // its output has gone (HandleHeld()).
    input_.append(data);
    held_ = true;
    Account();
    return;
  }
  const bool had_output = unsent() > 0;
  bool close = false;
  if (input_.empty()) {
    // Fast path: frames are answered straight from the read buffer; only an
    // incomplete tail is copied.
    const size_t n = handler.HandleConnection(data, &pending_, &close, &session_);
    if (!close && n < data.size()) {
      input_.assign(data.substr(n));
      partial_since_ = now;
    }
  } else {
    input_.append(data);
    const size_t n = handler.HandleConnection(input_, &pending_, &close, &session_);
    if (n > 0) {
      input_.erase(0, n);
      // What is left began in this chunk: the previous frame ended in it.
      partial_since_ = now;
    }
  }
  if (close) {
    input_.clear();
    StartDrain(DrainReason::kProtocolError, now);
  }
  if (!had_output && unsent() > 0) output_since_ = now;
  Account();
  UpdatePause(now);
}

void Connection::HandleHeld(ProtocolHandler& handler, TimePoint now) {
  if (!held_ || paused_) return;
  held_ = false;
  // Bytes held were received before any end of stream or stop: they are
  // answered as they would have been without the pause.
  if (drain_reason_ != DrainReason::kProtocolError) {
    const bool had_output = unsent() > 0;
    bool close = false;
    const size_t n = handler.HandleConnection(input_, &pending_, &close, &session_);
    input_.erase(0, n);
    partial_since_ = now;
    if (close) StartDrain(DrainReason::kProtocolError, now);
    if (!had_output && unsent() > 0) output_since_ = now;
  }
  // A draining connection reads nothing more: an incomplete frame is dropped.
  if (draining()) input_.clear();
  Account();
  UpdatePause(now);
}

void Connection::OnPeerClosed(TimePoint now) {
  // Bytes held while paused are answered by HandleHeld(), which then drops
  // what is left of them.
  if (!held_) input_.clear();
  StartDrain(DrainReason::kPeerClosed, now);
  Account();
}

void Connection::StartDrain(DrainReason reason, TimePoint now) {
  assert(reason != DrainReason::kNone);
  if (draining()) return;
  drain_reason_ = reason;
  drain_since_ = now;
}

std::string_view Connection::PrepareSend() {
  if (sent_ == sending_.size()) {
    // The common case: everything handed out before has gone; the batch's
    // output becomes the next send without a copy.
    sending_.clear();
    sent_ = 0;
    sending_.swap(pending_);
  } else if (!pending_.empty()) {
    // A short send left a tail: join it with the new output.
    sending_.erase(0, sent_);
    sent_ = 0;
    sending_.append(pending_);
    pending_.clear();
  }
  Account();
  return std::string_view(sending_).substr(sent_);
}

void Connection::OnSent(size_t n, TimePoint now) {
  assert(sent_ + n <= sending_.size());
  sent_ += n;
  if (n > 0) output_since_ = now;
  if (sent_ == sending_.size()) {
    sending_.clear();
    sent_ = 0;
  }
  Account();
  UpdatePause(now);
}

void Connection::Account() {
  const bool tight = budget_ != nullptr && budget_->over();
  // Under pressure an emptied buffer keeps nothing.
  const size_t keep = tight ? 0 : kKeepCapacity;
  if (!held_) ReleaseIfLarge(input_, keep);
  ReleaseIfLarge(sending_, keep);
  ReleaseIfLarge(pending_, keep);
  const size_t now_held = HeapBytes(input_) + HeapBytes(sending_) + HeapBytes(pending_);
  if (budget_ != nullptr && now_held != accounted_) {
    budget_->Add(static_cast<int64_t>(now_held) - static_cast<int64_t>(accounted_));
  }
  accounted_ = now_held;
}

void Connection::UpdatePause(TimePoint now) {
  const size_t u = unsent();
  const size_t cap = budget_ != nullptr && budget_->over()
                         ? std::min(max_unsent_, kTightUnsentBytes)
                         : max_unsent_;
  if (!paused_ && u > cap) {
    paused_ = true;
    ++pause_count_;
  } else if (paused_ && u <= cap / 2) {
    paused_ = false;
    // The frame timer counts only time spent reading.
    if (!input_.empty()) partial_since_ = now;
  }
}

Connection::TimerAction Connection::CheckTimers(TimePoint now,
                                                std::chrono::milliseconds frame_timeout,
                                                std::chrono::milliseconds drain_timeout,
                                                std::chrono::milliseconds write_stall) const {
  if (write_stall.count() > 0 && unsent() > 0 && now - output_since_ > write_stall) {
    return TimerAction::kWriteStall;
  }
  if (draining()) {
    return now - drain_since_ > drain_timeout ? TimerAction::kDrainTimeout : TimerAction::kNone;
  }
  if (!paused_ && !input_.empty() && now - partial_since_ > frame_timeout) {
    return TimerAction::kFrameTimeout;
  }
  return TimerAction::kNone;
}

}  // namespace tokend::server

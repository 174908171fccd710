#include "daemon/server/connection.h"

#include <cassert>
#include <utility>

namespace tokend::server {
namespace {

// Buffers grown past this by a burst are released once empty, so that many
// idle connections do not each keep a burst's worth of memory.
constexpr size_t kKeepCapacity = 64 * 1024;

void ReleaseIfLarge(std::string& s) {
  if (s.empty() && s.capacity() > kKeepCapacity) std::string().swap(s);
}

}  // namespace

Connection::Connection(int fd, size_t max_unsent_bytes, TimePoint now)
    : fd_(fd), max_unsent_(max_unsent_bytes), partial_since_(now), drain_since_(now) {}

void Connection::OnInput(std::string_view data, ProtocolHandler& handler, TimePoint now) {
  if (draining() || data.empty()) return;
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
  ReleaseIfLarge(input_);
  UpdatePause(now);
}

void Connection::OnPeerClosed(TimePoint now) {
  input_.clear();
  ReleaseIfLarge(input_);
  StartDrain(DrainReason::kPeerClosed, now);
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
  return std::string_view(sending_).substr(sent_);
}

void Connection::OnSent(size_t n, TimePoint now) {
  assert(sent_ + n <= sending_.size());
  sent_ += n;
  if (sent_ == sending_.size()) {
    sending_.clear();
    sent_ = 0;
    ReleaseIfLarge(sending_);
    ReleaseIfLarge(pending_);
  }
  UpdatePause(now);
}

void Connection::UpdatePause(TimePoint now) {
  const size_t u = unsent();
  if (!paused_ && u > max_unsent_) {
    paused_ = true;
    ++pause_count_;
  } else if (paused_ && u <= max_unsent_ / 2) {
    paused_ = false;
    // The frame timer counts only time spent reading.
    if (!input_.empty()) partial_since_ = now;
  }
}

Connection::TimerAction Connection::CheckTimers(TimePoint now,
                                                std::chrono::milliseconds frame_timeout,
                                                std::chrono::milliseconds drain_timeout) const {
  if (draining()) {
    return now - drain_since_ > drain_timeout ? TimerAction::kDrainTimeout : TimerAction::kNone;
  }
  if (!paused_ && !input_.empty() && now - partial_since_ > frame_timeout) {
    return TimerAction::kFrameTimeout;
  }
  return TimerAction::kNone;
}

}  // namespace tokend::server

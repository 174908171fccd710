// SPDX-License-Identifier: Apache-2.0
// latency.h
//
// A log-linear histogram of durations in nanoseconds, for the request
// latency that /metrics reports. Values below 4 ns have a bucket each; above
// that, each power of two [2^k, 2^(k+1)) is split into 4 equal buckets, so a
// bucket is never wider than a quarter of its lower bound (relative error
// under 25 %); values from 2^kMaxOctave ns (about 69 s) on share the last
// bucket. Recording is a bit scan and two relaxed stores.
//
// Thread-safety: a LatencyRecorder has one writer (the worker thread that
// owns it) and any number of readers: counters are relaxed atomics updated
// by plain load + store, so each value is exact but a Snapshot() may mix
// values a few records apart. A LatencySnapshot is a plain value.
//
// Ownership: none; time is passed in (MonotonicNanos() reads the clock for
// callers that have no clock of their own).
#ifndef TOKEND_DAEMON_SERVER_LATENCY_H_
#define TOKEND_DAEMON_SERVER_LATENCY_H_

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tokend::server {

// Nanoseconds on a monotonic clock; a plain function pointer so that the
// request path pays no std::function indirection.
using NanoClock = uint64_t (*)();

// CLOCK_MONOTONIC in nanoseconds (a vDSO read).
uint64_t MonotonicNanos();

inline constexpr int kLatencySubBits = 2;  // 4 buckets per power of two
inline constexpr int kLatencyMaxOctave = 36;
inline constexpr size_t kLatencyBuckets =
    static_cast<size_t>((kLatencyMaxOctave - 1) << kLatencySubBits);

// LatencyBucket()
//
// The bucket of a duration of `ns` nanoseconds.
constexpr size_t LatencyBucket(uint64_t ns) {
  constexpr uint64_t kLinear = uint64_t{1} << kLatencySubBits;
  if (ns < kLinear) return static_cast<size_t>(ns);
  const int msb = 63 - std::countl_zero(ns);
  if (msb >= kLatencyMaxOctave) return kLatencyBuckets - 1;
  const uint64_t sub = (ns >> (msb - kLatencySubBits)) & (kLinear - 1);
  return static_cast<size_t>((static_cast<uint64_t>(msb - kLatencySubBits + 1) << kLatencySubBits) +
                             sub);
}

// LatencyBucketLowerBound()
//
// The smallest duration in bucket `i` (REQUIRES: i < kLatencyBuckets). The
// bucket's values are [LowerBound(i), LowerBound(i + 1)); the last bucket
// has no upper bound.
constexpr uint64_t LatencyBucketLowerBound(size_t i) {
  constexpr uint64_t kLinear = uint64_t{1} << kLatencySubBits;
  if (i < kLinear) return i;
  const uint64_t octave = (i >> kLatencySubBits) + kLatencySubBits - 1;  // the msb
  const uint64_t sub = i & (kLinear - 1);
  return (kLinear + sub) << (octave - kLatencySubBits);
}

static_assert(LatencyBucket(0) == 0 && LatencyBucket(3) == 3);
static_assert(LatencyBucket(4) == 4 && LatencyBucket(7) == 7 && LatencyBucket(8) == 8);
static_assert(LatencyBucket(9) == 8 && LatencyBucket(10) == 9);
static_assert(LatencyBucketLowerBound(LatencyBucket(1000)) <= 1000);
static_assert(LatencyBucketLowerBound(LatencyBucket(1000) + 1) > 1000);
static_assert(LatencyBucket(~uint64_t{0}) == kLatencyBuckets - 1);
static_assert(LatencyBucket((uint64_t{1} << kLatencyMaxOctave) - 1) == kLatencyBuckets - 1);

// A point-in-time copy of one or more recorders.
struct LatencySnapshot {
  std::array<uint64_t, kLatencyBuckets> buckets{};
  uint64_t count = 0;   // durations recorded
  uint64_t sum_ns = 0;  // their sum (wraps after ~584 years of latency)

  LatencySnapshot& operator+=(const LatencySnapshot& o);

  // CountBelow()
  //
  // How many recorded durations are below `ns`, exactly when `ns` is a
  // bucket's lower bound (a power of two is), else counting whole buckets
  // that start below `ns`.
  uint64_t CountBelow(uint64_t ns) const;

  // Quantile()
  //
  // The lower bound of the bucket holding the q-quantile (0 <= q <= 1) of
  // the recorded durations; 0 when nothing was recorded.
  uint64_t Quantile(double q) const;
};

class LatencyRecorder {
 public:
  LatencyRecorder() = default;
  LatencyRecorder(const LatencyRecorder&) = delete;
  LatencyRecorder& operator=(const LatencyRecorder&) = delete;

  // Record()
  //
  // Counts `n` durations of `ns` nanoseconds each. Owning thread only.
  void Record(uint64_t ns, uint64_t n = 1) {
    Add(buckets_[LatencyBucket(ns)], n);
    Add(count_, n);
    Add(sum_ns_, ns * n);
  }

  // Thread-safe (see the file comment).
  LatencySnapshot Snapshot() const;

 private:
  static void Add(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  std::array<std::atomic<uint64_t>, kLatencyBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_LATENCY_H_

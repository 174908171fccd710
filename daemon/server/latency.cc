// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/latency.h"

#include <time.h>

#include <cmath>

namespace tokend::server {

uint64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

LatencySnapshot& LatencySnapshot::operator+=(const LatencySnapshot& o) {
  for (size_t i = 0; i < kLatencyBuckets; ++i) buckets[i] += o.buckets[i];
  count += o.count;
  sum_ns += o.sum_ns;
  return *this;
}

uint64_t LatencySnapshot::CountBelow(uint64_t ns) const {
  uint64_t n = 0;
  for (size_t i = 0; i < kLatencyBuckets && LatencyBucketLowerBound(i) < ns; ++i) {
    n += buckets[i];
  }
  return n;
}

uint64_t LatencySnapshot::Quantile(double q) const {
  uint64_t total = 0;
  for (uint64_t b : buckets) total += b;
  if (total == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  // The rank (1-based) of the quantile's value among the sorted durations.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank) return LatencyBucketLowerBound(i);
  }
  return LatencyBucketLowerBound(kLatencyBuckets - 1);
}

LatencySnapshot LatencyRecorder::Snapshot() const {
  LatencySnapshot s;
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  s.count = count_.load(std::memory_order_relaxed);
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tokend::server

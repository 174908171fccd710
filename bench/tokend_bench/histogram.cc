// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace tokend::bench {
namespace {

// Every value below kLinear has its own bucket; above, each power of two
// [2^m, 2^(m+1)) is split into kHalf buckets of width 2^(m - 7).
constexpr unsigned kSubBits = 8;
constexpr uint64_t kLinear = uint64_t{1} << kSubBits;  // 256
constexpr uint64_t kHalf = kLinear / 2;                // 128

}  // namespace

size_t Histogram::BucketIndex(uint64_t ns) {
  if (ns >= kMaxTrackable) ns = kMaxTrackable - 1;
  if (ns < kLinear) return static_cast<size_t>(ns);
  const unsigned top = 63 - static_cast<unsigned>(std::countl_zero(ns));  // >= kSubBits
  const unsigned shift = top - (kSubBits - 1);
  return static_cast<size_t>(shift * kHalf + (ns >> shift));
}

uint64_t Histogram::BucketLow(size_t index) {
  if (index < kLinear) return index;
  const uint64_t shift = index / kHalf - 1;
  const uint64_t sub = index - shift * kHalf;  // in [kHalf, kLinear)
  return sub << shift;
}

uint64_t Histogram::BucketWidth(size_t index) {
  if (index < kLinear) return 1;
  return uint64_t{1} << (index / kHalf - 1);
}

size_t Histogram::BucketCount() { return BucketIndex(kMaxTrackable - 1) + 1; }

Histogram::Histogram() : buckets_(BucketCount(), 0) {}

void Histogram::Record(uint64_t ns, uint64_t count) {
  if (count == 0) return;
  buckets_[BucketIndex(ns)] += count;
  if (count_ == 0 || ns < min_) min_ = ns;
  max_ = std::max(max_, ns);
  count_ += count;
  sum_ += ns * count;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = min_ = max_ = sum_ = 0;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const uint64_t high = BucketLow(i) + BucketWidth(i) - 1;
      return std::clamp(high, min_, max_);
    }
  }
  assert(false && "bucket counts disagree with count_");
  return max_;
}

}  // namespace tokend::bench

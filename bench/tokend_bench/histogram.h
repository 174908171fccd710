// SPDX-License-Identifier: Apache-2.0
// histogram.h
//
// A log-linear latency histogram in the manner of HdrHistogram: values are
// nanoseconds; below 256 ns every nanosecond has its own bucket, and above
// that each power of two is split into 128 equal buckets, so a recorded
// value is known to within 1/128 (0.8 %) of itself: within a microsecond up
// to 128 us, within 8 us at 1 ms. The exact minimum, maximum and sum are
// kept beside the buckets. Values past kMaxTrackable (about 18 minutes)
// share the top bucket; the maximum stays exact.
//
// Thread-safety: none; each runner thread records into its own Histogram
// and the results are merged once the threads have stopped. Plain value
// type, copyable.
#ifndef TOKEND_BENCH_TOKEND_BENCH_HISTOGRAM_H_
#define TOKEND_BENCH_TOKEND_BENCH_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tokend::bench {

class Histogram {
 public:
  // Values at or above this are counted in the top bucket.
  static constexpr uint64_t kMaxTrackable = uint64_t{1} << 40;

  Histogram();

  // Record()
  //
  // Counts one value (`count` values) of `ns` nanoseconds.
  void Record(uint64_t ns, uint64_t count = 1);

  // Merge()
  //
  // Adds every value `other` recorded.
  void Merge(const Histogram& other);

  void Reset();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  // Percentile()
  //
  // The nearest-rank value at quantile `q` in [0, 1] (the value at rank
  // ceil(q * count), at least rank 1): the highest value its bucket holds,
  // clamped to [min(), max()], so it is never below the true value and
  // exceeds it by less than one bucket width. Percentile(1) is max();
  // Percentile(0) is min(). 0 when empty.
  uint64_t Percentile(double q) const;

  // Bucket geometry, exposed for tests.
  static size_t BucketIndex(uint64_t ns);
  static uint64_t BucketLow(size_t index);
  static uint64_t BucketWidth(size_t index);
  static size_t BucketCount();

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_HISTOGRAM_H_

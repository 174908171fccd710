// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::bench {
namespace {

// The nearest-rank percentile of a sorted sample: the value at rank
// ceil(q * n), at least rank 1.
uint64_t NearestRank(const std::vector<uint64_t>& sorted, double q) {
  const size_t n = sorted.size();
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  return sorted[rank - 1];
}

void ExpectPercentilesMatch(const std::vector<uint64_t>& values) {
  Histogram h;
  for (uint64_t v : values) h.Record(v);
  std::vector<uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const uint64_t truth = q == 0.0 ? sorted.front() : NearestRank(sorted, q);
    const uint64_t got = h.Percentile(q);
    // Never below the true value, and above it by less than one bucket
    // (1/128 of the value, or 1 ns below 256 ns).
    EXPECT_GE(got, truth) << "q=" << q;
    EXPECT_LE(got - truth, truth / 128) << "q=" << q;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  EXPECT_EQ(h.Percentile(1.0), sorted.back());
}

TEST(HistogramTest, EmptyHistogramAnswersZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 256; ++v) values.push_back(255 - v);
  Histogram h;
  for (uint64_t v : values) h.Record(v);
  std::vector<uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99}) {
    EXPECT_EQ(h.Percentile(q), NearestRank(sorted, q)) << "q=" << q;
  }
}

TEST(HistogramTest, PercentilesMatchASortedArrayOfLatencyLikeValues) {
  std::mt19937_64 rng(42);
  // Log-normal around 20 us with a long tail, as socket round trips are.
  std::lognormal_distribution<double> dist(std::log(20000.0), 0.8);
  std::vector<uint64_t> values;
  for (int i = 0; i < 200000; ++i) values.push_back(static_cast<uint64_t>(dist(rng)));
  values.push_back(750000000);  // one 750 ms stall
  ExpectPercentilesMatch(values);
}

TEST(HistogramTest, PercentilesMatchASortedArrayOfUniformValues) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> dist(0, 5000000);
  std::vector<uint64_t> values;
  for (int i = 0; i < 50001; ++i) values.push_back(dist(rng));
  ExpectPercentilesMatch(values);
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGapsAndWithinRelativeError) {
  uint64_t expected_low = 0;
  for (size_t i = 0; i < Histogram::BucketCount(); ++i) {
    ASSERT_EQ(Histogram::BucketLow(i), expected_low) << "bucket " << i;
    ASSERT_EQ(Histogram::BucketIndex(expected_low), i);
    const uint64_t width = Histogram::BucketWidth(i);
    ASSERT_EQ(Histogram::BucketIndex(expected_low + width - 1), i);
    if (expected_low >= 256) {
      ASSERT_LE(width * 128, expected_low) << "bucket " << i;
    }
    expected_low += width;
  }
  EXPECT_GE(expected_low, Histogram::kMaxTrackable);
}

TEST(HistogramTest, ValuesBeyondTheRangeKeepAnExactMaximum) {
  Histogram h;
  h.Record(Histogram::kMaxTrackable * 4);
  h.Record(10);
  EXPECT_EQ(h.max(), Histogram::kMaxTrackable * 4);
  EXPECT_EQ(h.Percentile(1.0), Histogram::kMaxTrackable * 4);
  EXPECT_EQ(h.Percentile(0.5), 10u);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<uint64_t> dist(1000, 900000);
  Histogram a, b, all;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = dist(rng);
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  Histogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    EXPECT_EQ(merged.Percentile(q), all.Percentile(q)) << "q=" << q;
  }
}

TEST(HistogramTest, RecordWithCountWeighsTheValue) {
  Histogram h;
  h.Record(100, 99);
  h.Record(5000, 1);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.Percentile(0.99), 100u);
  EXPECT_GE(h.Percentile(0.995), 5000u);
  EXPECT_DOUBLE_EQ(h.mean(), (100.0 * 99 + 5000) / 100);
}

TEST(HistogramTest, ResetForgetsEverything) {
  Histogram h;
  h.Record(12345);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  h.Record(7);
  EXPECT_EQ(h.min(), 7u);
  EXPECT_EQ(h.Percentile(0.5), 7u);
}

}  // namespace
}  // namespace tokend::bench

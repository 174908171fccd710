// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/latency.h"

#include <cstdint>
#include <random>

#include "gtest/gtest.h"

namespace tokend::server {
namespace {

TEST(LatencyBucketTest, EveryValueFallsInItsBucketsRange) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const size_t b = LatencyBucket(v);
    ASSERT_LT(b, kLatencyBuckets);
    EXPECT_LE(LatencyBucketLowerBound(b), v);
    if (b + 1 < kLatencyBuckets) {
      EXPECT_LT(v, LatencyBucketLowerBound(b + 1)) << v;
    }
  }
}

TEST(LatencyBucketTest, BoundsIncreaseAndBucketsAreAtMostAQuarterWide) {
  for (size_t i = 1; i < kLatencyBuckets; ++i) {
    const uint64_t lo = LatencyBucketLowerBound(i - 1);
    const uint64_t hi = LatencyBucketLowerBound(i);
    ASSERT_LT(lo, hi);
    EXPECT_EQ(LatencyBucket(hi), i);
    EXPECT_EQ(LatencyBucket(hi - 1), i - 1);
    if (lo >= 4) {
      EXPECT_LE((hi - lo) * 4, lo) << i;
    }
  }
}

TEST(LatencyRecorderTest, SnapshotCountsSumsAndQuantiles) {
  LatencyRecorder r;
  for (int i = 0; i < 90; ++i) r.Record(1000);  // 1 µs
  r.Record(1'000'000, 10);                      // 10 x 1 ms
  const LatencySnapshot s = r.Snapshot();
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.sum_ns, 90u * 1000 + 10u * 1'000'000);
  EXPECT_EQ(s.Quantile(0.5), LatencyBucketLowerBound(LatencyBucket(1000)));
  EXPECT_EQ(s.Quantile(0.9), LatencyBucketLowerBound(LatencyBucket(1000)));
  EXPECT_EQ(s.Quantile(0.91), LatencyBucketLowerBound(LatencyBucket(1'000'000)));
  EXPECT_EQ(s.Quantile(1.0), LatencyBucketLowerBound(LatencyBucket(1'000'000)));
  EXPECT_EQ(s.CountBelow(1024), 90u);  // a power of two is a bucket bound: exact
  EXPECT_EQ(s.CountBelow(1000), 90u);  // 1000's bucket starts at 896: counted whole
  EXPECT_EQ(s.CountBelow(896), 0u);
  EXPECT_EQ(s.CountBelow(uint64_t{1} << 20), 100u);
  EXPECT_EQ(LatencySnapshot().Quantile(0.5), 0u);
}

TEST(LatencyRecorderTest, SnapshotsAdd) {
  LatencyRecorder a;
  LatencyRecorder b;
  a.Record(5);
  b.Record(5);
  b.Record(~uint64_t{0});  // clamps into the last bucket
  LatencySnapshot s = a.Snapshot();
  s += b.Snapshot();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.buckets[LatencyBucket(5)], 2u);
  EXPECT_EQ(s.buckets[kLatencyBuckets - 1], 1u);
}

TEST(MonotonicNanosTest, DoesNotGoBack) {
  const uint64_t a = MonotonicNanos();
  const uint64_t b = MonotonicNanos();
  EXPECT_LE(a, b);
  EXPECT_GT(a, 0u);
}

}  // namespace
}  // namespace tokend::server

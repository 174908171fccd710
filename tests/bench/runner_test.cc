// SPDX-License-Identifier: Apache-2.0
// MergeResults(): how the client threads' results of one run add up.
#include "bench/tokend_bench/runner.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::bench {
namespace {

RunResult Part(uint64_t first_ns, uint64_t n, uint64_t completed, uint64_t cpu_ns, double share) {
  RunResult r;
  for (uint64_t i = 0; i < n; ++i) r.latency.Record(first_ns + i);
  r.completed_in_window = completed;
  r.outcomes[0] = completed;
  r.client_cpu_ns = cpu_ns;
  r.client_busiest_share = share;
  return r;
}

TEST(MergeResultsTest, ThroughputAddsUpAndHistogramsMerge) {
  std::vector<RunResult> parts;
  parts.push_back(Part(1000, 100, 3000, 1500000000, 0.75));
  parts.push_back(Part(5000, 300, 5000, 1900000000, 0.95));
  parts[1].send_lag.Record(7);
  const RunResult total = MergeResults(parts, 2.0, 2);
  EXPECT_EQ(total.completed_in_window, 8000u);
  EXPECT_DOUBLE_EQ(total.requests_per_second(), 4000.0);
  EXPECT_EQ(total.latency.count(), 400u);
  EXPECT_EQ(total.latency.min(), 1000u);
  EXPECT_EQ(total.latency.max(), 5299u);
  // A quarter of the values are the first thread's, all below the second's.
  EXPECT_LT(total.latency.Percentile(0.2), 1100u);
  EXPECT_GE(total.latency.Percentile(0.3), 5000u);
  EXPECT_EQ(total.send_lag.count(), 1u);
  EXPECT_EQ(total.outcomes[0], 8000u);
  EXPECT_EQ(total.client_threads, 2);
  EXPECT_EQ(total.client_cpu_ns, 3400000000u);
  EXPECT_DOUBLE_EQ(total.client_busiest_share, 0.95);
  EXPECT_DOUBLE_EQ(total.client_mean_share(), 0.85);
  EXPECT_FALSE(total.server_measured);
}

TEST(MergeResultsTest, KeepsTheFirstUnexpectedOutcomeAndTheErrors) {
  std::vector<RunResult> parts(3);
  parts[1].unexpected = 2;
  parts[1].first_unexpected = "expected OK, got EXPIRED";
  parts[1].outcomes[static_cast<int>(Outcome::kNoAnswer)] = 1;
  parts[2].unexpected = 1;
  parts[2].first_unexpected = "expected OK, got MALFORMED";
  parts[2].outcomes[static_cast<int>(Outcome::kNoAnswer)] = 4;
  for (int i = 0; i < 10; ++i)
    parts[2].connection_errors.push_back("connection " + std::to_string(i));
  parts[0].connection_errors.push_back("first");
  const RunResult total = MergeResults(parts, 1.0, 3);
  EXPECT_EQ(total.unexpected, 3u);
  EXPECT_EQ(total.first_unexpected, "expected OK, got EXPIRED");
  EXPECT_EQ(total.outcomes[static_cast<int>(Outcome::kNoAnswer)], 5u);
  ASSERT_EQ(total.connection_errors.size(), 8u);  // the first eight
  EXPECT_EQ(total.connection_errors[0], "first");
  EXPECT_EQ(total.connection_errors[7], "connection 6");
}

TEST(MergeResultsTest, ServerFiguresFollowFromTheWindow) {
  RunResult r;
  r.completed_in_window = 2000000;
  r.window_seconds = 2;
  r.server_measured = true;
  r.server_cpu_ns = 1800000000;  // 1.8 s of CPU over a 2 s window
  r.server_window_seconds = 2;
  EXPECT_DOUBLE_EQ(r.server_cpu_share(), 0.9);
  EXPECT_DOUBLE_EQ(r.server_ns_per_request(), 900.0);
  EXPECT_EQ(RunResult().server_ns_per_request(), 0.0);
  EXPECT_EQ(RunResult().client_mean_share(), 0.0);
}

}  // namespace
}  // namespace tokend::bench

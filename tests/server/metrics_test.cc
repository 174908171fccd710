// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/metrics.h"

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

MetricsSnapshot Sample() {
  MetricsSnapshot m;
  m.protocols = {"binary", "http"};
  m.loop.endpoints.resize(2);
  m.loop.endpoints[0].responses_by_status[0] = 7;
  m.loop.endpoints[0].protocol_errors = 2;
  m.loop.endpoints[1].responses_by_status[5] = 3;
  m.loop.endpoints[1].missing_token = 4;
  m.loop.endpoints[1].ping_requests = 1;
  m.loop.endpoints[1].responses_by_status[13] = 2;
  m.loop.endpoints[1].validate_requests = 9;
  m.loop.endpoints[1].api_key_requests = 4;
  LatencyRecorder r;
  r.Record(300);        // 300 ns
  r.Record(2'000'000);  // 2 ms
  m.loop.endpoints[1].latency = r.Snapshot();
  m.loop.service.validate_requests = 10;
  m.loop.service.cache_hits = 6;
  m.loop.connections_open = 5;
  m.loop.refused_peer = 1;
  m.loop.refused_per_uid = 8;
  m.loop.write_stall_timeouts = 9;
  m.loop.buffered_bytes = 4096;
  m.reloads = 2;
  m.reload_failures = 1;
  m.keys_loaded = 3;
  m.last_reload_unix = 1700000000;
  m.reload_failed = true;
  m.last_good_load_unix = 1700000600;
  m.cache_enabled = true;
  return m;
}

// name{labels} -> value, for every sample line.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

TEST(MetricsTest, CountersAppearWithTheirLabels) {
  std::string text;
  AppendPrometheusText(Sample(), &text);
  const auto s = Samples(text);
  EXPECT_EQ(s.at("tokend_requests_total{protocol=\"binary\",status=\"OK\"}"), "7");
  EXPECT_EQ(s.at("tokend_requests_total{protocol=\"http\",status=\"EXPIRED\"}"), "3");
  EXPECT_EQ(s.at("tokend_requests_total{protocol=\"http\",status=\"MISSING_TOKEN\"}"), "4");
  EXPECT_EQ(s.at("tokend_requests_total{protocol=\"http\",status=\"UNKNOWN_TOKEN\"}"), "2");
  EXPECT_EQ(s.at("tokend_validations_total{protocol=\"http\",kind=\"jwt\"}"), "5");
  EXPECT_EQ(s.at("tokend_validations_total{protocol=\"http\",kind=\"api_key\"}"), "4");
  EXPECT_EQ(s.at("tokend_validations_total{protocol=\"binary\",kind=\"api_key\"}"), "0");
  EXPECT_EQ(s.at("tokend_protocol_errors_total{protocol=\"binary\"}"), "2");
  EXPECT_EQ(s.at("tokend_ping_requests_total{protocol=\"http\"}"), "1");
  EXPECT_EQ(s.at("tokend_cache_hits_total"), "6");
  EXPECT_EQ(s.at("tokend_cache_misses_total"), "4");
  EXPECT_EQ(s.at("tokend_key_reloads_total"), "2");
  EXPECT_EQ(s.at("tokend_keys_reload_failures_total"), "1");
  EXPECT_EQ(s.at("tokend_keys_reload_failed"), "1");
  EXPECT_EQ(s.at("tokend_keys_last_good_load_timestamp_seconds"), "1700000600");
  EXPECT_EQ(s.at("tokend_keys_loaded"), "3");
  EXPECT_EQ(s.at("tokend_keys_loaded_timestamp_seconds"), "1700000000");
  EXPECT_EQ(s.at("tokend_connections_open"), "5");
  EXPECT_EQ(s.at("tokend_connections_refused_total{reason=\"peer\"}"), "1");
  EXPECT_EQ(s.at("tokend_connections_refused_total{reason=\"per_uid\"}"), "8");
  EXPECT_EQ(s.at("tokend_connection_timeouts_total{kind=\"write_stall\"}"), "9");
  EXPECT_EQ(s.at("tokend_connection_buffer_bytes"), "4096");
}

TEST(MetricsTest, ReloadFailedGaugeIsZeroAfterAGoodLoad) {
  MetricsSnapshot m = Sample();
  m.reload_failed = false;
  std::string text;
  AppendPrometheusText(m, &text);
  EXPECT_EQ(Samples(text).at("tokend_keys_reload_failed"), "0");
}

TEST(MetricsTest, HistogramIsCumulativeAndEndsWithCount) {
  std::string text;
  AppendPrometheusText(Sample(), &text);
  const auto s = Samples(text);
  EXPECT_EQ(s.at("tokend_request_duration_seconds_bucket{protocol=\"http\",le=\"0.000000256\"}"),
            "0");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_bucket{protocol=\"http\",le=\"0.000000384\"}"),
            "1");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_bucket{protocol=\"http\",le=\"0.001048576\"}"),
            "1");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_bucket{protocol=\"http\",le=\"0.002097152\"}"),
            "2");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_bucket{protocol=\"http\",le=\"+Inf\"}"), "2");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_count{protocol=\"http\"}"), "2");
  EXPECT_EQ(s.at("tokend_request_duration_seconds_sum{protocol=\"http\"}"), "0.0020003");
  // Cumulative: never decreasing along the bounds.
  uint64_t last = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("tokend_request_duration_seconds_bucket{protocol=\"http\"", 0) != 0) continue;
    const uint64_t v = std::stoull(line.substr(line.rfind(' ') + 1));
    EXPECT_GE(v, last) << line;
    last = v;
  }
}

TEST(MetricsTest, EveryFamilyHasHelpAndTypeOnce) {
  std::string text;
  AppendPrometheusText(Sample(), &text);
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << name;
      EXPECT_THAT(text, HasSubstr("# HELP " + name + " "));
    } else if (!line.empty() && line[0] != '#') {
      std::string name = line.substr(0, line.find_first_of("{ "));
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
            typed.count(name.substr(0, name.size() - s.size()))) {
          name = name.substr(0, name.size() - s.size());
        }
      }
      EXPECT_TRUE(typed.count(name)) << "sample before its # TYPE: " << line;
    }
  }
  EXPECT_GE(typed.size(), 14u);
}

TEST(MetricsTest, CacheCountersOnlyWhenTheCacheIsOn) {
  MetricsSnapshot m = Sample();
  m.cache_enabled = false;
  std::string text;
  AppendPrometheusText(m, &text);
  EXPECT_THAT(text, Not(HasSubstr("tokend_cache_")));
}

TEST(MetricsTest, HistogramBoundsArePowersOfTwoAndMidpoints) {
  const auto b = HistogramBoundsNanos();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 256u);
  EXPECT_EQ(b[1], 384u);
  EXPECT_EQ(b.back(), uint64_t{1} << 30);
  for (uint64_t v : b) EXPECT_EQ(LatencyBucketLowerBound(LatencyBucket(v)), v) << v;
}

}  // namespace
}  // namespace tokend::server

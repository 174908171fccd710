// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/report.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace tokend::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunRecord Record(const std::string& label, Op op, uint64_t base_ns, uint64_t completed) {
  RunRecord r;
  r.spec.label = label;
  r.spec.op = op;
  r.spec.socket_path = "/tmp/\"s\".sock";
  r.spec.connections = 16;
  r.spec.depth = 16;
  r.duration_seconds = 2;
  r.warmup_seconds = 1;
  r.distinct_tokens = op == Op::kPing ? 0 : 16;
  for (uint64_t i = 1; i <= 1000; ++i) r.result.latency.Record(base_ns + i * 10);
  r.result.completed_in_window = completed;
  r.result.window_seconds = 2;
  r.result.outcomes[0] = completed;
  return r;
}

TEST(ReportTest, RatiosAreAgainstTheFirstRun) {
  std::vector<RunRecord> runs = {Record("ping", Op::kPing, 10000, 200000),
                                 Record("validate-hit", Op::kValidate, 20000, 180000)};
  const std::vector<Ratio> ratios = Ratios(runs);
  ASSERT_EQ(ratios.size(), 1u);
  EXPECT_EQ(ratios[0].label, "validate-hit");
  EXPECT_EQ(ratios[0].baseline, "ping");
  EXPECT_DOUBLE_EQ(ratios[0].throughput, 0.9);
  EXPECT_GT(ratios[0].p50, 1.2);
  EXPECT_TRUE(Ratios({runs[0]}).empty());
}

TEST(ReportTest, JsonHasTheFiguresAtTheTopLevelOfEachRun) {
  std::vector<RunRecord> runs = {Record("ping", Op::kPing, 10000, 200000),
                                 Record("validate-hit", Op::kValidate, 20000, 180000)};
  runs[1].result.outcomes[3] = 5;  // UNKNOWN_KEY
  runs[1].result.unexpected = 5;
  runs[1].result.first_unexpected = "expected OK, got UNKNOWN_KEY";
  const std::string json = JsonReport(runs);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_FALSE(bool(doc["ok"]));
  simdjson::dom::array items = doc["runs"];
  ASSERT_EQ(items.size(), 2u);
  for (simdjson::dom::element run : items) {
    for (const char* key : {"requests_per_second", "p50_us", "p90_us", "p99_us", "p999_us",
                            "max_us", "status_counts", "percentiles", "label", "ok"}) {
      EXPECT_EQ(run[key].error(), simdjson::SUCCESS) << key;
    }
  }
  simdjson::dom::element ping = items.at(0);
  EXPECT_DOUBLE_EQ(double(ping["requests_per_second"]), 100000.0);
  EXPECT_EQ(uint64_t(ping["status_counts"]["OK"]), 200000u);
  EXPECT_TRUE(bool(ping["ok"]));
  EXPECT_EQ(std::string_view(ping["socket"]), "/tmp/\"s\".sock");
  simdjson::dom::element hit = items.at(1);
  EXPECT_EQ(uint64_t(hit["status_counts"]["UNKNOWN_KEY"]), 5u);
  EXPECT_FALSE(bool(hit["ok"]));
  EXPECT_LE(double(hit["p50_us"]), double(hit["p99_us"]));
  EXPECT_LE(double(hit["p99_us"]), double(hit["max_us"]));
  simdjson::dom::array ratios = doc["ratios"];
  ASSERT_EQ(ratios.size(), 1u);
  EXPECT_NEAR(double(ratios.at(0)["throughput"]), 0.9, 1e-3);
}

TEST(ReportTest, TextNamesUnexpectedStatusesAndFailures) {
  RunRecord r = Record("validate", Op::kValidate, 20000, 1000);
  std::string text = TextReport({r});
  EXPECT_THAT(text, HasSubstr("500 requests/s"));
  EXPECT_THAT(text, HasSubstr("OK 1000"));
  EXPECT_THAT(text, Not(HasSubstr("UNEXPECTED")));
  r.result.outcomes[static_cast<int>(Outcome::kNoAnswer)] = 2;
  r.result.unexpected = 2;
  r.result.first_unexpected = "expected OK, got NO_ANSWER";
  r.result.connection_errors.push_back("connection 3: closed by the server");
  text = TextReport({r});
  EXPECT_THAT(text, HasSubstr("UNEXPECTED:  2 responses"));
  EXPECT_THAT(text, HasSubstr("NO_ANSWER 2"));
  EXPECT_THAT(text, HasSubstr("FAILED:      connection 3: closed by the server"));
}

// A closed-loop record whose server used `server` cores of `cores` and whose
// busiest client thread used `client` of a core, over a 2 s window.
RunRecord Loaded(double server, int cores, double client) {
  RunRecord r = Record("validate", Op::kValidate, 20000, 1000000);
  r.spec.server_pids = {4242};
  r.result.server_measured = true;
  r.result.server_window_seconds = 2;
  r.result.server_cpu_ns = static_cast<uint64_t>(server * 2e9);
  r.result.server_cores = cores;
  r.result.client_threads = 1;
  r.result.client_busiest_share = client;
  r.result.client_cpu_ns = static_cast<uint64_t>(client * 2e9);
  return r;
}

TEST(ReportTest, JudgeNamesTheSideThatSetThePace) {
  EXPECT_EQ(Judge(Loaded(0.95, 1, 0.99)).bottleneck, Bottleneck::kServer);
  EXPECT_TRUE(Judge(Loaded(0.95, 1, 0.99)).warning.empty());
  EXPECT_EQ(Judge(Loaded(0.90, 1, 0.50)).bottleneck, Bottleneck::kServer);

  const Verdict client = Judge(Loaded(0.72, 1, 0.99));
  EXPECT_EQ(client.bottleneck, Bottleneck::kClient);
  EXPECT_THAT(client.warning, HasSubstr("not the bottleneck"));
  EXPECT_THAT(client.warning, HasSubstr("72% of 1 core"));
  EXPECT_THAT(client.warning, HasSubstr("--threads"));

  const Verdict neither = Judge(Loaded(0.40, 1, 0.30));
  EXPECT_EQ(neither.bottleneck, Bottleneck::kNeither);
  EXPECT_THAT(neither.warning, HasSubstr("not the bottleneck"));

  // Two cores: 1.5 cores busy is 75% of them.
  EXPECT_EQ(Judge(Loaded(1.5, 2, 0.95)).bottleneck, Bottleneck::kClient);
  EXPECT_EQ(Judge(Loaded(1.85, 2, 0.95)).bottleneck, Bottleneck::kServer);

  RunRecord open = Loaded(0.1, 1, 0.1);
  open.spec.rate = 1000;
  EXPECT_EQ(Judge(open).bottleneck, Bottleneck::kOpenLoop);
  EXPECT_TRUE(Judge(open).warning.empty());
  EXPECT_EQ(Judge(Record("ping", Op::kPing, 1, 1)).bottleneck, Bottleneck::kUnknown);
}

TEST(ReportTest, ServerCostIsInTheTextAndTheJson) {
  RunRecord r = Loaded(0.72, 1, 0.99);  // 1,000,000 responses in 2 s
  const std::string text = TextReport({r});
  EXPECT_THAT(text, HasSubstr("server CPU   72.0% of one core (1 core available), 1440 ns per "
                              "request (pid 4242)"));
  EXPECT_THAT(text, HasSubstr("bottleneck   client"));
  EXPECT_THAT(text, HasSubstr("WARNING:     the server was not the bottleneck"));

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = JsonReport({r});
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::element run = doc["runs"].at(0);
  EXPECT_NEAR(double(run["server_cpu_percent"]), 72.0, 1e-3);
  EXPECT_NEAR(double(run["server_cpu_ns_per_request"]), 1440.0, 1e-3);
  EXPECT_EQ(int64_t(run["server_cores"]), 1);
  EXPECT_EQ(int64_t(run["server_pids"].at(0)), 4242);
  EXPECT_NEAR(double(run["client_busiest_thread_cpu_percent"]), 99.0, 1e-3);
  EXPECT_EQ(std::string_view(run["bottleneck"]), "client");
  EXPECT_THAT(std::string(std::string_view(run["warning"])), HasSubstr("not the bottleneck"));

  r.result.server_measured = false;
  r.result.server_error = "server pid 4242: cannot read /proc/4242/stat";
  ASSERT_EQ(parser.parse(JsonReport({r})).get(doc), simdjson::SUCCESS);
  run = doc["runs"].at(0);
  EXPECT_EQ(run["server_cpu_percent"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_THAT(std::string(std::string_view(run["server_error"])), HasSubstr("/proc/4242"));
  EXPECT_EQ(std::string_view(run["bottleneck"]), "unknown");
  EXPECT_THAT(TextReport({r}), HasSubstr("server CPU   not measured: server pid 4242"));
}

TEST(ReportTest, TextSaysWhenTheClientWasSaturated) {
  RunRecord r = Record("validate", Op::kValidate, 20000, 1000);
  r.result.client_threads = 1;
  r.result.client_busiest_share = 0.5;
  EXPECT_THAT(TextReport({r}), HasSubstr("(busiest 50.0%), 1 thread (epoll)\n"));
  r.result.client_busiest_share = 0.97;
  r.result.client_uring = true;
  EXPECT_THAT(TextReport({r}), HasSubstr("(busiest 97.0%), 1 thread (io_uring) (saturated"));
  // Polling time is named apart and left out of the busy share.
  r.result.window_seconds = 2;
  r.result.client_cpu_ns = 1800000000;
  r.result.client_poll_ns = 600000000;
  r.result.client_busiest_share = 0.6;
  EXPECT_THAT(TextReport({r}),
              HasSubstr("60.0% of a core per thread (busiest 60.0%), 1 thread (io_uring; polling "
                        "30.0%, not counted)\n"));
}

TEST(ReportTest, OpenLoopJsonSplitsTheSendDelay) {
  RunRecord r = Record("open", Op::kValidate, 20000, 1000);
  r.spec.rate = 500;
  for (uint64_t i = 1; i <= 100; ++i) {
    r.result.send_lag.Record(i * 1000000);
    r.result.client_lag.Record(i * 1000);
  }
  r.result.client_busiest_share = 0.25;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = JsonReport({r});
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::element run = doc["runs"].at(0);
  EXPECT_GT(double(run["send_lag_p99_us"]), 90000.0);
  EXPECT_LT(double(run["client_lag_p99_us"]), 110.0);
  EXPECT_GT(double(run["client_lag_max_us"]), 90.0);
  EXPECT_DOUBLE_EQ(double(run["client_busy"]), 0.25);
  EXPECT_THAT(TextReport({r}), HasSubstr("the client's own part p99"));
}

TEST(ReportTest, PercentileCurveRisesToTheMaximum) {
  Histogram h;
  for (uint64_t i = 1; i <= 100000; ++i) h.Record(i * 100);
  const auto curve = PercentileCurve(h);
  ASSERT_GE(curve.size(), 10u);
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i].first, curve[i - 1].first);
    EXPECT_GE(curve[i].second, curve[i - 1].second);
  }
  EXPECT_EQ(curve.back().first, 1.0);
  EXPECT_DOUBLE_EQ(curve.back().second, h.max() / 1000.0);
  EXPECT_TRUE(PercentileCurve(Histogram()).empty());
}

}  // namespace
}  // namespace tokend::bench

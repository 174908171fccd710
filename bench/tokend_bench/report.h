// SPDX-License-Identifier: Apache-2.0
// report.h
//
// Turns finished runs into what tokend-bench prints: a text report for
// people, JSON for scripts, and the percentile curve both of them and the
// SVG plot use. Pure functions of their arguments: thread-safe.
//
// JSON: {"tool":"tokend-bench","ok":BOOL,"runs":[RUN...],"ratios":[...]}
// where each RUN has, at its top level, label, op, mode ("closed" or
// "open"), socket, connections, depth, rate, threads, duration_s,
// warmup_s, unique, invalid_ratio, requests (latencies recorded),
// requests_per_second, min_us, mean_us, p50_us, p90_us, p99_us, p999_us,
// max_us, status_counts {"OK": n, ...}, unexpected, first_unexpected,
// connection_errors [..], ok, percentiles [[quantile, us], ...], and in
// the open loop send_lag_p99_us, send_lag_max_us, client_lag_p99_us and
// client_lag_max_us (the client's own part of the send delay); then primed,
// client_threads, client_cpu_percent (mean per thread),
// client_busiest_thread_cpu_percent and client_busy (the same share as a
// fraction), bottleneck ("server", "client",
// "neither", "open loop" or "unknown", see Judge()) and warning ("" when
// none), and with --server-pid server_pids [..], server_cores, and
// server_cpu_percent (of one core) and server_cpu_ns_per_request, or
// server_error when /proc could not be read. "ratios" (with
// --compare) has one entry per run after the first: label, baseline,
// throughput, p50, p99 (this run's figure over the baseline's).
#ifndef TOKEND_BENCH_TOKEND_BENCH_REPORT_H_
#define TOKEND_BENCH_TOKEND_BENCH_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "bench/tokend_bench/args.h"
#include "bench/tokend_bench/histogram.h"
#include "bench/tokend_bench/idle.h"
#include "bench/tokend_bench/runner.h"

namespace tokend::bench {

struct RunRecord {
  RunSpec spec;
  double duration_seconds = 0;
  double warmup_seconds = 0;
  int threads = 1;
  size_t distinct_tokens = 0;
  RunResult result;

  // Every response had its expected status and no connection failed.
  bool ok() const { return result.unexpected == 0 && result.connection_errors.empty(); }
};

// The busiest client thread's share of a core (client_busiest_share; JSON
// client_busy) at or above this: the text report says the client was
// saturated.
inline constexpr double kClientSaturated = 0.9;

struct Ratio {
  std::string label;
  std::string baseline;
  double throughput = 0;  // requests/s of this run over the baseline's
  double p50 = 0;
  double p99 = 0;
};

// Which side set a run's pace.
enum class Bottleneck {
  kUnknown,   // the server's CPU was not measured
  kOpenLoop,  // an open loop: the rate did
  kServer,    // the server used at least kSaturated of its cores
  kClient,    // it did not, and a client thread used kSaturated of a core
  kNeither,   // neither: each side waited on the other, or the machine's load
};

// The share of its cores (server) or of one core (a client thread) above
// which a side counts as saturated.
inline constexpr double kSaturated = 0.9;

struct Verdict {
  Bottleneck bottleneck = Bottleneck::kUnknown;
  std::string warning;  // set for kClient and kNeither: the server was not the limit
};

// Judge()
//
// The rule: in a closed loop whose server CPU was measured, the server was
// the bottleneck when it used at least kSaturated x server_cores cores over
// the window (server_cores 0 is taken as 1); otherwise the run did not find
// the server's limit, and the warning says so: "client" when the busiest
// client thread used at least kSaturated of a core (add --threads), else
// "neither".
Verdict Judge(const RunRecord& r);

const char* BottleneckName(Bottleneck b);

// Ratios()
//
// Each run after the first against the first. Empty for fewer than two.
std::vector<Ratio> Ratios(const std::vector<RunRecord>& runs);

// PercentileCurve()
//
// (quantile, microseconds) points for a latency percentile plot: quantiles
// 1 - 10^-x for x from 0 in steps of 0.05, up to the last quantile the
// recorded count resolves (1 - 1/count, at most 99.999 %), then the maximum
// at quantile 1. Empty for an empty histogram.
std::vector<std::pair<double, double>> PercentileCurve(const Histogram& h);

std::string TextReport(const std::vector<RunRecord>& runs);
std::string JsonReport(const std::vector<RunRecord>& runs);

std::string IdleText(const IdleResult& r);
std::string IdleJson(const IdleResult& r);

// JsonEscape()
//
// `s` as the inside of a JSON string (no quotes).
std::string JsonEscape(std::string_view s);

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_REPORT_H_

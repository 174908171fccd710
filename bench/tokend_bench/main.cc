// SPDX-License-Identifier: Apache-2.0
// tokend-bench: latency and throughput of tokend over its socket.
//
// main wires the units together: args -> workload (tokens read or minted)
// -> runner (one run per workload, back to back) -> report (text or JSON)
// and svg (--plot). See args.h for the command line and runner.h for what
// is measured and how.
#include <sys/resource.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/tokend_bench/args.h"
#include "bench/tokend_bench/idle.h"
#include "bench/tokend_bench/report.h"
#include "bench/tokend_bench/runner.h"
#include "bench/tokend_bench/svg.h"
#include "bench/tokend_bench/workload.h"

namespace tokend::bench {
namespace {

void RaiseFileLimit() {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Tokens for each distinct source, made once even when several runs use them.
class TokenSets {
 public:
  absl::StatusOr<const std::vector<std::string>*> For(const RunSpec& spec) {
    if (spec.op == Op::kPing) return &empty_;
    const std::string key = spec.tokens_file.empty()
                                ? absl::StrCat("mint\n", spec.mint_key_file, "\n", spec.alg, "\n",
                                               spec.kid, "\n", spec.unique, "\n", spec.audience)
                                : absl::StrCat("file\n", spec.tokens_file);
    auto it = sets_.find(key);
    if (it != sets_.end()) return &it->second;
    absl::StatusOr<std::vector<std::string>> tokens;
    if (!spec.tokens_file.empty()) {
      tokens = LoadTokens(spec.tokens_file);
    } else {
      MintOptions m;
      m.key_file = spec.mint_key_file;
      m.alg = spec.alg;
      m.kid = spec.kid;
      m.count = spec.unique;
      m.audience = spec.audience;
      m.now = static_cast<int64_t>(std::time(nullptr));
      tokens = MintTokens(m);
    }
    if (!tokens.ok()) return tokens.status();
    return &sets_.emplace(key, *std::move(tokens)).first->second;
  }

 private:
  std::vector<std::string> empty_;
  std::map<std::string, std::vector<std::string>> sets_;
};

int RunIdle(const BenchOptions& o) {
  absl::StatusOr<IdleResult> r =
      MeasureIdleConnections(o.runs.front().socket_path, o.idle_connections, o.server_pid);
  if (!r.ok()) {
    std::fprintf(stderr, "tokend-bench: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  std::fputs((o.json ? IdleJson(*r) : IdleText(*r)).c_str(), stdout);
  return 0;
}

int Main(int argc, char** argv) {
  absl::StatusOr<BenchOptions> parsed = ParseArgs(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "tokend-bench: %s\nRun 'tokend-bench --help' for the options.\n",
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  const BenchOptions& o = *parsed;
  if (o.help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  RaiseFileLimit();
  if (o.idle_connections > 0) return RunIdle(o);

  TokenSets token_sets;
  std::vector<RunRecord> records;
  for (size_t i = 0; i < o.runs.size(); ++i) {
    const RunSpec& spec = o.runs[i];
    absl::StatusOr<const std::vector<std::string>*> tokens = token_sets.For(spec);
    if (!tokens.ok()) {
      std::fprintf(stderr, "tokend-bench: %s\n", std::string(tokens.status().message()).c_str());
      return 2;
    }
    std::unique_ptr<Workload> workload = Workload::Build(spec, **tokens);
    if (o.compare) {
      std::fprintf(stderr, "tokend-bench: run %zu of %zu: %s\n", i + 1, o.runs.size(),
                   spec.label.c_str());
    }
    RunConfig config;
    config.spec = spec;
    config.duration_seconds = o.duration_seconds;
    config.warmup_seconds = o.warmup_seconds;
    config.threads = o.threads;
    config.client_loop = o.client_loop;
    config.workload = workload.get();
    absl::StatusOr<RunResult> result = RunLoad(config);
    if (!result.ok()) {
      std::fprintf(stderr, "tokend-bench: %s: %s\n", spec.label.c_str(),
                   std::string(result.status().message()).c_str());
      return 1;
    }
    RunRecord record;
    record.spec = spec;
    record.duration_seconds = o.duration_seconds;
    record.warmup_seconds = o.warmup_seconds;
    record.threads = std::max(1, std::min(o.threads, spec.connections));
    record.distinct_tokens = workload->distinct_tokens();
    record.result = *std::move(result);
    if (const Verdict v = Judge(record); !v.warning.empty()) {
      std::fprintf(stderr, "tokend-bench: %s: warning: %s\n", spec.label.c_str(),
                   v.warning.c_str());
    }
    if (!record.result.server_error.empty()) {
      std::fprintf(stderr, "tokend-bench: %s: server CPU not measured: %s\n", spec.label.c_str(),
                   record.result.server_error.c_str());
    }
    records.push_back(std::move(record));
  }

  std::fputs((o.json ? JsonReport(records) : TextReport(records)).c_str(), stdout);
  std::fflush(stdout);

  if (!o.plot_path.empty()) {
    std::vector<PlotSeries> series;
    for (const RunRecord& r : records) {
      series.push_back({r.spec.label, PercentileCurve(r.result.latency)});
    }
    PlotOptions plot;
    plot.title = "Latency by percentile (tokend-bench)";
    std::ofstream out(o.plot_path, std::ios::binary | std::ios::trunc);
    out << RenderLatencyPlot(series, plot);
    out.close();
    if (!out) {
      std::fprintf(stderr, "tokend-bench: --plot %s: cannot write\n", o.plot_path.c_str());
      return 1;
    }
  }

  bool ok = true;
  for (const RunRecord& r : records) {
    if (!r.ok()) {
      std::fprintf(
          stderr, "tokend-bench: %s: %s\n", r.spec.label.c_str(),
          r.result.unexpected > 0
              ? absl::StrCat(r.result.unexpected, " responses had an unexpected status (first: ",
                             r.result.first_unexpected, ")")
                    .c_str()
              : "a connection failed");
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace tokend::bench

int main(int argc, char** argv) { return tokend::bench::Main(argc, argv); }

// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tokend::bench {
namespace {

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

double SafeRatio(double a, double b) { return b > 0 ? a / b : 0; }

std::string Mode(const RunSpec& s) { return s.open_loop() ? "open" : "closed"; }

std::string Describe(const RunRecord& r) {
  const RunSpec& s = r.spec;
  std::string d = absl::StrCat(OpName(s.op), ", ", s.connections,
                               s.connections == 1 ? " connection x " : " connections x ", s.depth,
                               s.open_loop() ? " at most in flight, " : " in flight, ");
  if (s.open_loop()) {
    absl::StrAppend(&d, absl::StrFormat("open loop at %.0f requests/s, ", s.rate));
  } else {
    absl::StrAppend(&d, "closed loop, ");
  }
  absl::StrAppend(&d, r.threads, r.threads == 1 ? " client thread" : " client threads");
  if (s.op == Op::kValidate) {
    absl::StrAppend(&d, ", ", r.distinct_tokens,
                    r.distinct_tokens == 1 ? " distinct token" : " distinct tokens");
    if (s.invalid_ratio > 0) {
      absl::StrAppend(&d, absl::StrFormat(", %.0f%% tampered", s.invalid_ratio * 100));
    }
    if (!s.audience.empty()) absl::StrAppend(&d, ", audience ", s.audience);
  }
  absl::StrAppend(&d, absl::StrFormat(", %.1f s measured after %.1f s warmup", r.duration_seconds,
                                      r.warmup_seconds));
  return d;
}

std::string StatusList(const RunResult& r, absl::string_view sep) {
  std::vector<std::string> parts;
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (r.outcomes[i] == 0 && i != 0) continue;
    parts.push_back(absl::StrCat(OutcomeName(i), sep, r.outcomes[i]));
  }
  return absl::StrJoin(parts, "  ");
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "0";
  return absl::StrFormat("%.3f", v);
}

std::string PidList(const std::vector<pid_t>& pids, absl::string_view sep) {
  return absl::StrJoin(pids, sep);
}

}  // namespace

const char* BottleneckName(Bottleneck b) {
  switch (b) {
    case Bottleneck::kOpenLoop:
      return "open loop";
    case Bottleneck::kServer:
      return "server";
    case Bottleneck::kClient:
      return "client";
    case Bottleneck::kNeither:
      return "neither";
    case Bottleneck::kUnknown:
      break;
  }
  return "unknown";
}

Verdict Judge(const RunRecord& r) {
  Verdict v;
  const RunResult& res = r.result;
  if (r.spec.open_loop()) {
    v.bottleneck = Bottleneck::kOpenLoop;
    return v;
  }
  if (!res.server_measured) return v;
  const int cores = std::max(1, res.server_cores);
  const double server = res.server_cpu_share();
  if (server >= kSaturated * cores) {
    v.bottleneck = Bottleneck::kServer;
    return v;
  }
  const std::string used =
      absl::StrFormat("the server used %.0f%% of %d core%s (under %.0f%%)", 100 * server / cores,
                      cores, cores == 1 ? "" : "s", 100 * kSaturated);
  if (res.client_busiest_share >= kSaturated) {
    v.bottleneck = Bottleneck::kClient;
    v.warning = absl::StrFormat(
        "the server was not the bottleneck: %s while the busiest of %d client thread%s used "
        "%.0f%% of a core; add client threads (--threads) or give the client its own core",
        used, res.client_threads, res.client_threads == 1 ? "" : "s",
        100 * res.client_busiest_share);
  } else {
    v.bottleneck = Bottleneck::kNeither;
    v.warning = absl::StrFormat(
        "the server was not the bottleneck: %s and no client thread reached %.0f%% of a core "
        "(busiest %.0f%%): each side spent time waiting for the other (too few requests in flight, "
        "or slow wake-ups on this machine), or other load took the cores",
        used, 100 * kSaturated, 100 * res.client_busiest_share);
  }
  return v;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::vector<Ratio> Ratios(const std::vector<RunRecord>& runs) {
  std::vector<Ratio> out;
  if (runs.size() < 2) return out;
  const RunRecord& base = runs.front();
  const double base_rps = base.result.requests_per_second();
  const double base_p50 = static_cast<double>(base.result.latency.Percentile(0.5));
  const double base_p99 = static_cast<double>(base.result.latency.Percentile(0.99));
  for (size_t i = 1; i < runs.size(); ++i) {
    const RunResult& r = runs[i].result;
    Ratio ratio;
    ratio.label = runs[i].spec.label;
    ratio.baseline = base.spec.label;
    ratio.throughput = SafeRatio(r.requests_per_second(), base_rps);
    ratio.p50 = SafeRatio(static_cast<double>(r.latency.Percentile(0.5)), base_p50);
    ratio.p99 = SafeRatio(static_cast<double>(r.latency.Percentile(0.99)), base_p99);
    out.push_back(std::move(ratio));
  }
  return out;
}

std::vector<std::pair<double, double>> PercentileCurve(const Histogram& h) {
  std::vector<std::pair<double, double>> points;
  if (h.count() == 0) return points;
  const double last_x = std::min(5.0, std::log10(static_cast<double>(h.count())));
  for (int i = 0;; ++i) {
    const double x = std::min(i * 0.05, last_x);
    const double q = 1.0 - std::pow(10.0, -x);
    points.emplace_back(q, Us(h.Percentile(q)));
    if (x >= last_x) break;
  }
  points.emplace_back(1.0, Us(h.max()));
  return points;
}

std::string TextReport(const std::vector<RunRecord>& runs) {
  std::string out;
  for (const RunRecord& r : runs) {
    const RunResult& res = r.result;
    const Histogram& h = res.latency;
    absl::StrAppend(&out, r.spec.label, ": ", Describe(r), "\n");
    absl::StrAppend(&out,
                    absl::StrFormat("  throughput   %.0f requests/s (%d responses in the window)\n",
                                    res.requests_per_second(), res.completed_in_window));
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "  latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (%d requests)\n",
            Us(h.Percentile(0.5)), Us(h.Percentile(0.9)), Us(h.Percentile(0.99)),
            Us(h.Percentile(0.999)), Us(h.max()), h.count()));
    if (r.spec.open_loop()) {
      absl::StrAppend(
          &out, absl::StrFormat("  send delay   p99 %.1f us, max %.1f us after the scheduled time; "
                                "the client's own part p99 %.1f us, max %.1f us\n",
                                Us(res.send_lag.Percentile(0.99)), Us(res.send_lag.max()),
                                Us(res.client_lag.Percentile(0.99)), Us(res.client_lag.max())));
    }
    if (res.client_threads > 0) {
      absl::StrAppend(
          &out, absl::StrFormat("  client CPU   %.1f%% of a core per thread (busiest %.1f%%), %d "
                                "thread%s (%s)%s\n",
                                100 * res.client_mean_share(), 100 * res.client_busiest_share,
                                res.client_threads, res.client_threads == 1 ? "" : "s",
                                res.client_poll_ns > 0
                                    ? absl::StrFormat("io_uring; polling %.1f%%, not counted",
                                                      100 * res.client_poll_share())
                                    : std::string(res.client_uring ? "io_uring" : "epoll"),
                                res.client_busiest_share >= kClientSaturated
                                    ? " (saturated: these figures may be the client's)"
                                    : ""));
    }
    if (res.server_measured) {
      absl::StrAppend(
          &out, absl::StrFormat("  server CPU   %.1f%% of one core (%d core%s available), %.0f "
                                "ns per request (pid %s)\n",
                                100 * res.server_cpu_share(), res.server_cores,
                                res.server_cores == 1 ? "" : "s", res.server_ns_per_request(),
                                PidList(r.spec.server_pids, ",")));
    } else if (!res.server_error.empty()) {
      absl::StrAppend(&out, "  server CPU   not measured: ", res.server_error, "\n");
    }
    const Verdict verdict = Judge(r);
    if (verdict.bottleneck != Bottleneck::kUnknown && verdict.bottleneck != Bottleneck::kOpenLoop) {
      absl::StrAppend(&out, "  bottleneck   ", BottleneckName(verdict.bottleneck), "\n");
    }
    if (!verdict.warning.empty()) absl::StrAppend(&out, "  WARNING:     ", verdict.warning, "\n");
    absl::StrAppend(&out, "  statuses     ", StatusList(res, " "), "\n");
    if (res.unexpected > 0) {
      absl::StrAppend(&out, "  UNEXPECTED:  ", res.unexpected,
                      " responses did not have the expected status (first: ", res.first_unexpected,
                      ")\n");
    }
    for (const std::string& e : res.connection_errors) {
      absl::StrAppend(&out, "  FAILED:      ", e, "\n");
    }
  }
  const std::vector<Ratio> ratios = Ratios(runs);
  if (!ratios.empty()) {
    absl::StrAppend(&out, "\nratios to ", ratios.front().baseline,
                    "          throughput      p50      p99\n");
    for (const Ratio& q : ratios) {
      absl::StrAppend(&out, absl::StrFormat("  %-26s %8.3fx %8.3fx %8.3fx\n", q.label, q.throughput,
                                            q.p50, q.p99));
    }
  }
  return out;
}

std::string JsonReport(const std::vector<RunRecord>& runs) {
  bool all_ok = true;
  std::vector<std::string> items;
  for (const RunRecord& r : runs) {
    all_ok = all_ok && r.ok();
    const RunSpec& s = r.spec;
    const RunResult& res = r.result;
    const Histogram& h = res.latency;
    std::string o = "{";
    absl::StrAppend(&o, "\"label\":\"", JsonEscape(s.label), "\",\"op\":\"", OpName(s.op),
                    "\",\"mode\":\"", Mode(s), "\",\"socket\":\"", JsonEscape(s.socket_path),
                    "\",\"connections\":", s.connections, ",\"depth\":", s.depth,
                    ",\"rate\":", JsonNumber(s.rate), ",\"threads\":", r.threads,
                    ",\"duration_s\":", JsonNumber(r.duration_seconds),
                    ",\"warmup_s\":", JsonNumber(r.warmup_seconds),
                    ",\"unique\":", r.distinct_tokens,
                    ",\"invalid_ratio\":", JsonNumber(s.invalid_ratio));
    absl::StrAppend(&o, ",\"requests\":", h.count(),
                    ",\"requests_per_second\":", JsonNumber(res.requests_per_second()),
                    ",\"min_us\":", JsonNumber(Us(h.min())),
                    ",\"mean_us\":", JsonNumber(h.mean() / 1000.0),
                    ",\"p50_us\":", JsonNumber(Us(h.Percentile(0.5))),
                    ",\"p90_us\":", JsonNumber(Us(h.Percentile(0.9))),
                    ",\"p99_us\":", JsonNumber(Us(h.Percentile(0.99))),
                    ",\"p999_us\":", JsonNumber(Us(h.Percentile(0.999))),
                    ",\"max_us\":", JsonNumber(Us(h.max())));
    std::vector<std::string> counts;
    for (int i = 0; i < kOutcomeCount; ++i) {
      if (res.outcomes[i] == 0 && i != 0) continue;
      counts.push_back(absl::StrCat("\"", OutcomeName(i), "\":", res.outcomes[i]));
    }
    absl::StrAppend(&o, ",\"status_counts\":{", absl::StrJoin(counts, ","), "}");
    absl::StrAppend(&o, ",\"unexpected\":", res.unexpected, ",\"first_unexpected\":\"",
                    JsonEscape(res.first_unexpected), "\",\"connection_errors\":[");
    for (size_t i = 0; i < res.connection_errors.size(); ++i) {
      absl::StrAppend(&o, i ? "," : "", "\"", JsonEscape(res.connection_errors[i]), "\"");
    }
    absl::StrAppend(&o, "],\"ok\":", r.ok() ? "true" : "false");
    const Verdict verdict = Judge(r);
    absl::StrAppend(
        &o, ",\"primed\":", res.primed, ",\"client_threads\":", res.client_threads,
        ",\"client_loop\":\"", res.client_uring ? "io_uring" : "epoll", "\"",
        ",\"client_poll_percent\":", JsonNumber(100 * res.client_poll_share()),
        ",\"client_cpu_percent\":", JsonNumber(100 * res.client_mean_share()),
        ",\"client_busiest_thread_cpu_percent\":", JsonNumber(100 * res.client_busiest_share),
        ",\"bottleneck\":\"", BottleneckName(verdict.bottleneck), "\",\"warning\":\"",
        JsonEscape(verdict.warning), "\"");
    if (!s.server_pids.empty()) {
      absl::StrAppend(&o, ",\"server_pids\":[", PidList(s.server_pids, ","),
                      "],\"server_cores\":", res.server_cores);
      if (res.server_measured) {
        absl::StrAppend(&o, ",\"server_cpu_percent\":", JsonNumber(100 * res.server_cpu_share()),
                        ",\"server_cpu_ns_per_request\":", JsonNumber(res.server_ns_per_request()));
      } else {
        absl::StrAppend(&o, ",\"server_error\":\"", JsonEscape(res.server_error), "\"");
      }
    }
    if (s.open_loop()) {
      absl::StrAppend(&o, ",\"send_lag_p99_us\":", JsonNumber(Us(res.send_lag.Percentile(0.99))),
                      ",\"send_lag_max_us\":", JsonNumber(Us(res.send_lag.max())),
                      ",\"client_lag_p99_us\":", JsonNumber(Us(res.client_lag.Percentile(0.99))),
                      ",\"client_lag_max_us\":", JsonNumber(Us(res.client_lag.max())));
    }
    absl::StrAppend(&o, ",\"client_busy\":", JsonNumber(res.client_busiest_share));
    std::vector<std::string> points;
    for (const auto& [q, us] : PercentileCurve(h)) {
      points.push_back(absl::StrFormat("[%.6f,%.3f]", q, us));
    }
    absl::StrAppend(&o, ",\"percentiles\":[", absl::StrJoin(points, ","), "]}");
    items.push_back(std::move(o));
  }
  std::vector<std::string> ratios;
  for (const Ratio& q : Ratios(runs)) {
    ratios.push_back(
        absl::StrCat("{\"label\":\"", JsonEscape(q.label), "\",\"baseline\":\"",
                     JsonEscape(q.baseline), "\",\"throughput\":", JsonNumber(q.throughput),
                     ",\"p50\":", JsonNumber(q.p50), ",\"p99\":", JsonNumber(q.p99), "}"));
  }
  return absl::StrCat("{\"tool\":\"tokend-bench\",\"ok\":", all_ok ? "true" : "false",
                      ",\"runs\":[\n", absl::StrJoin(items, ",\n"), "\n],\"ratios\":[",
                      absl::StrJoin(ratios, ","), "]}\n");
}

std::string IdleText(const IdleResult& r) {
  return absl::StrFormat(
      "idle: %d connections to %s (server pid %d, each answered one PING)\n"
      "  VmRSS before %d KiB, after %d KiB: %+.1f MiB, %.0f bytes per connection\n",
      r.connections, r.socket_path, r.server_pid, r.rss_before_kib, r.rss_after_kib,
      (static_cast<double>(r.rss_after_kib) - static_cast<double>(r.rss_before_kib)) / 1024.0,
      r.bytes_per_connection());
}

std::string IdleJson(const IdleResult& r) {
  return absl::StrCat("{\"tool\":\"tokend-bench\",\"ok\":true,\"idle_connections\":", r.connections,
                      ",\"socket\":\"", JsonEscape(r.socket_path),
                      "\",\"server_pid\":", r.server_pid, ",\"rss_before_kib\":", r.rss_before_kib,
                      ",\"rss_after_kib\":", r.rss_after_kib,
                      ",\"bytes_per_connection\":", JsonNumber(r.bytes_per_connection()), "}\n");
}

}  // namespace tokend::bench

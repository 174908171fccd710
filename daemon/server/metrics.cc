// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/metrics.h"

#include <algorithm>
#include <cstdio>

#include "daemon/server/latency.h"
#include "daemon/util/str_append.h"
#include "protocol/codes.h"

namespace tokend::server {
namespace {

constexpr int kFirstOctave = 8;  // 256 ns
constexpr int kLastOctave = 30;  // 2^30 ns

void Family(std::string_view name, std::string_view type, std::string_view help, std::string* out) {
  StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string_view name, std::string_view labels, uint64_t value, std::string* out) {
  if (labels.empty()) {
    StrAppend(out, name, " ", value, "\n");
  } else {
    StrAppend(out, name, "{", labels, "} ", value, "\n");
  }
}

// A duration as seconds: exact to the nanosecond, without trailing zeros.
std::string Seconds(uint64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llu.%09llu", static_cast<unsigned long long>(ns / 1000000000u),
                static_cast<unsigned long long>(ns % 1000000000u));
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Label(std::string_view key, std::string_view value) {
  // Label values here are fixed names: no escaping needed.
  return StrCat(key, "=\"", value, "\"");
}

}  // namespace

std::vector<uint64_t> HistogramBoundsNanos() {
  std::vector<uint64_t> b;
  for (int k = kFirstOctave; k < kLastOctave; ++k) {
    b.push_back(uint64_t{1} << k);
    b.push_back(uint64_t{3} << (k - 1));
  }
  b.push_back(uint64_t{1} << kLastOctave);
  return b;
}

void AppendPrometheusText(const MetricsSnapshot& m, std::string* out) {
  const size_t n = std::min(m.protocols.size(), m.loop.endpoints.size());

  Family("tokend_requests_total", "counter",
         "Validations answered, by protocol and status (the protocol's status names; "
         "MISSING_TOKEN: an "
         "HTTP request without a token).",
         out);
  for (size_t p = 0; p < n; ++p) {
    const ServiceStats& s = m.loop.endpoints[p];
    const std::string proto = Label("protocol", m.protocols[p]);
    for (size_t i = 0; i < ServiceStats::kStatusCount; ++i) {
      Sample("tokend_requests_total",
             StrCat(proto, ",", Label("status", protocol::StatusName(static_cast<uint8_t>(i)))),
             s.responses_by_status[i], out);
    }
    Sample("tokend_requests_total", StrCat(proto, ",status=\"OTHER\""), s.responses_other_status,
           out);
    Sample("tokend_requests_total", StrCat(proto, ",status=\"MISSING_TOKEN\""), s.missing_token,
           out);
  }

  Family("tokend_validations_total", "counter",
         "Validations answered, by protocol and kind of token (api_key: answered with alg 64 or "
         "UNKNOWN_TOKEN; jwt: every other).",
         out);
  for (size_t p = 0; p < n; ++p) {
    const ServiceStats& s = m.loop.endpoints[p];
    const std::string proto = Label("protocol", m.protocols[p]);
    const uint64_t api = std::min(s.api_key_requests, s.validate_requests);
    Sample("tokend_validations_total", StrCat(proto, ",kind=\"jwt\""), s.validate_requests - api,
           out);
    Sample("tokend_validations_total", StrCat(proto, ",kind=\"api_key\""), api, out);
  }

  Family("tokend_protocol_errors_total", "counter",
         "Requests refused as malformed, after which the connection closed (binary: the 255 "
         "answer; HTTP: 400 and 413).",
         out);
  for (size_t p = 0; p < n; ++p) {
    Sample("tokend_protocol_errors_total", Label("protocol", m.protocols[p]),
           m.loop.endpoints[p].protocol_errors, out);
  }

  Family("tokend_ping_requests_total", "counter",
         "Requests that validate nothing (binary: PING; HTTP: /healthz and /metrics).", out);
  for (size_t p = 0; p < n; ++p) {
    Sample("tokend_ping_requests_total", Label("protocol", m.protocols[p]),
           m.loop.endpoints[p].ping_requests, out);
  }

  Family("tokend_request_duration_seconds", "histogram",
         "Time from the start of handling a batch of received requests to its responses being "
         "ready to send, counted once per request.",
         out);
  const std::vector<uint64_t> bounds = HistogramBoundsNanos();
  for (size_t p = 0; p < n; ++p) {
    const LatencySnapshot& l = m.loop.endpoints[p].latency;
    const std::string proto = Label("protocol", m.protocols[p]);
    for (uint64_t b : bounds) {
      Sample("tokend_request_duration_seconds_bucket", StrCat(proto, ",le=\"", Seconds(b), "\""),
             l.CountBelow(b), out);
    }
    Sample("tokend_request_duration_seconds_bucket", StrCat(proto, ",le=\"+Inf\""), l.count, out);
    StrAppend(out, "tokend_request_duration_seconds_sum{", proto, "} ", Seconds(l.sum_ns), "\n");
    Sample("tokend_request_duration_seconds_count", proto, l.count, out);
  }

  if (m.cache_enabled) {
    Family("tokend_cache_hits_total", "counter", "Validations answered from the token cache.", out);
    Sample("tokend_cache_hits_total", "", m.loop.service.cache_hits, out);
    Family("tokend_cache_misses_total", "counter", "Validations not answered from the token cache.",
           out);
    const uint64_t v = m.loop.service.validate_requests;
    const uint64_t h = m.loop.service.cache_hits;
    Sample("tokend_cache_misses_total", "", v > h ? v - h : 0, out);
  }

  Family("tokend_key_reloads_total", "counter", "Key sets loaded and published after the first.",
         out);
  Sample("tokend_key_reloads_total", "", m.reloads, out);
  Family("tokend_keys_reload_failures_total", "counter",
         "Key set loads refused (the keys in force were kept); a failure the backstop poll "
         "finds again unchanged counts once.",
         out);
  Sample("tokend_keys_reload_failures_total", "", m.reload_failures, out);
  Family("tokend_keys_reload_failed", "gauge",
         "1 while the latest key set load failed: the key files on disk are not in force.", out);
  Sample("tokend_keys_reload_failed", "", m.reload_failed ? 1 : 0, out);
  Family("tokend_keys_last_good_load_timestamp_seconds", "gauge",
         "When a key set load last succeeded, published or unchanged (seconds since the epoch).",
         out);
  StrAppend(out, "tokend_keys_last_good_load_timestamp_seconds ", m.last_good_load_unix, "\n");
  Family("tokend_keys_loaded", "gauge", "Keys in the key set in force.", out);
  Sample("tokend_keys_loaded", "", m.keys_loaded, out);
  Family("tokend_revoked_entries", "gauge", "Entries in the revocation list in force.", out);
  Sample("tokend_revoked_entries", "", m.revoked_entries, out);
  Family("tokend_keys_loaded_timestamp_seconds", "gauge",
         "When the key set in force was loaded (seconds since the epoch).", out);
  StrAppend(out, "tokend_keys_loaded_timestamp_seconds ", m.last_reload_unix, "\n");

  const LoopStats& l = m.loop;
  Family("tokend_connections_open", "gauge", "Client connections open, all sockets.", out);
  Sample("tokend_connections_open", "", l.connections_open, out);
  Family("tokend_connections_accepted_total", "counter",
         "Client connections admitted, all sockets.", out);
  Sample("tokend_connections_accepted_total", "", l.connections_accepted, out);
  Family("tokend_connections_refused_total", "counter",
         "Client connections closed at once, by reason.", out);
  Sample("tokend_connections_refused_total", "reason=\"max_connections\"",
         l.refused_max_connections, out);
  Sample("tokend_connections_refused_total", "reason=\"peer\"", l.refused_peer, out);
  Sample("tokend_connections_refused_total", "reason=\"per_uid\"", l.refused_per_uid, out);
  Family("tokend_connection_timeouts_total", "counter",
         "Connections closed by a timeout (frame: an incomplete request waited too long; drain: "
         "responses still unsent at shutdown; write_stall: responses unsent and not moving).",
         out);
  Sample("tokend_connection_timeouts_total", "kind=\"frame\"", l.frame_timeouts, out);
  Sample("tokend_connection_timeouts_total", "kind=\"drain\"", l.drain_timeouts, out);
  Sample("tokend_connection_timeouts_total", "kind=\"write_stall\"", l.write_stall_timeouts, out);
  Family("tokend_connection_buffer_bytes", "gauge",
         "Input and output buffer memory all connections hold (see --max-buffered-bytes).", out);
  Sample("tokend_connection_buffer_bytes", "", l.buffered_bytes, out);
  Family("tokend_read_pauses_total", "counter",
         "Times a connection stopped being read because its unsent responses hit the cap.", out);
  Sample("tokend_read_pauses_total", "", l.read_pauses, out);
}

}  // namespace tokend::server

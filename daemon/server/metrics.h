// SPDX-License-Identifier: Apache-2.0
// metrics.h
//
// Renders the daemon's counters in the Prometheus text exposition format
// (version 0.0.4) for GET /metrics. The server knows no keys or caches:
// main copies what the key watcher and the token cache report into a
// MetricsSnapshot alongside the loop's stats, and this turns it into text.
//
// Families (every counter ends in _total):
//   tokend_requests_total{protocol,status}        validations by status name
//                                                  (HTTP also MISSING_TOKEN)
//   tokend_protocol_errors_total{protocol}        255 frames; HTTP 400/413
//   tokend_ping_requests_total{protocol}          PING; /healthz and /metrics
//   tokend_request_duration_seconds{protocol}     histogram (see protocol_handler.h)
//   tokend_cache_hits_total, _misses_total        when the cache is on
//   tokend_key_reloads_total, tokend_keys_reload_failures_total,
//   tokend_keys_reload_failed (gauge, 1 while the latest load failed),
//   tokend_keys_last_good_load_timestamp_seconds,
//   tokend_keys_loaded, tokend_revoked_entries, tokend_keys_loaded_timestamp_seconds
//   tokend_connections_open, tokend_connections_accepted_total,
//   tokend_connections_refused_total{reason}, tokend_connection_timeouts_total{kind},
//   tokend_read_pauses_total
//
// Thread-safety: a pure function of its input. Ownership: none.
#ifndef TOKEND_DAEMON_SERVER_METRICS_H_
#define TOKEND_DAEMON_SERVER_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/event_loop.h"
#include "daemon/server/protocol_handler.h"

namespace tokend::server {

struct MetricsSnapshot {
  // The loop's counters; loop.endpoints[i] is served in protocol
  // `protocols[i]` ("binary", "http", "admin"; main adds "grpc" for the gRPC
  // front, which runs outside the loop).
  LoopStats loop;
  std::vector<std::string> protocols;
  // Keys (from the key watcher).
  uint64_t reloads = 0;
  uint64_t reload_failures = 0;
  uint64_t keys_loaded = 0;
  uint64_t revoked_entries = 0;
  int64_t last_reload_unix = 0;
  bool reload_failed = false;  // the latest load failed
  int64_t last_good_load_unix = 0;
  // The token cache; its counters are left out when it is off.
  bool cache_enabled = false;
};

// The histogram's bucket bounds: every power of two and its midpoint
// (1.5x) from 256 ns to 2^30 ns (about 1.07 s), then +Inf. A bucket's
// count is exact for "< bound"; the text says le=bound, which differs only
// by a duration of exactly the bound.
std::vector<uint64_t> HistogramBoundsNanos();

// AppendPrometheusText()
//
// Appends the exposition of `m` to *out: one # HELP and # TYPE line per
// family, then its samples.
void AppendPrometheusText(const MetricsSnapshot& m, std::string* out);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_METRICS_H_

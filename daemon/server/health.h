// SPDX-License-Identifier: Apache-2.0
// health.h
//
// The answer to GET /healthz: can the daemon validate (are keys loaded), and
// are the key files on disk in force (did the latest key reload succeed)?
// The server knows no keys: main copies what the key watcher and the key set
// report into a HealthSnapshot, and this turns it into a status code and a
// one-line JSON body that a probe can read.
//
// Status code: 200 while keys are loaded, 503 while none are. A failed
// reload alone does not make it 503: the keys in force still validate, and a
// restart would refuse the same broken set, so taking the daemon out of
// service would only add an outage. It shows in the body instead:
//
//   {"status":"ok","keys":2,"keys_reload":"ok","last_good_load":1700000000}
//   {"status":"degraded","keys":2,"keys_reload":"failed",
//    "reason":"/etc/tokend/keys/k3: ...","failing_since":1700000600,
//    "last_good_load":1700000000}
//   {"status":"unavailable","keys":0,"keys_reload":"ok","last_good_load":...}
//
// "status" is "ok", "degraded" (keys loaded, latest reload failed) or
// "unavailable" (no keys; 503). "reason" and "failing_since" are present only
// when "keys_reload" is "failed". Times are seconds since the epoch. The
// reason is the loader's message (a file and its problem; the loader never
// puts key bytes in one), cut to kMaxHealthReasonBytes, with every byte
// outside printable ASCII written as \u00XX.
//
// Thread-safety: a pure function of its input. Ownership: none.
#ifndef TOKEND_DAEMON_SERVER_HEALTH_H_
#define TOKEND_DAEMON_SERVER_HEALTH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tokend::server {

inline constexpr std::string_view kHealthContentType = "application/json";
inline constexpr size_t kMaxHealthReasonBytes = 512;

struct HealthSnapshot {
  uint64_t keys_loaded = 0;
  bool reload_failed = false;       // the latest key reload failed
  std::string_view reload_failure;  // why, when it did
  int64_t failing_since_unix = 0;   // first failure since the last good load
  int64_t last_good_load_unix = 0;  // latest key load that succeeded
};

// AppendHealthJson()
//
// Appends the body above (with a final newline) to *out and returns the
// status code (200 or 503).
int AppendHealthJson(const HealthSnapshot& h, std::string* out);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_HEALTH_H_

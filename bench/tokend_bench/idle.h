// SPDX-License-Identifier: Apache-2.0
// idle.h
//
// Resident memory of a server holding many idle connections: reads the
// server's VmRSS from /proc/PID/status, opens N connections, PINGs each once
// (so the server has accepted and set up every one), reads VmRSS again, and
// closes them. Blocking; owns the connections it opens for the duration of
// the call only. Thread-safe (no shared state), but raises this process's
// RLIMIT_NOFILE soft limit when N needs it.
#ifndef TOKEND_BENCH_TOKEND_BENCH_IDLE_H_
#define TOKEND_BENCH_TOKEND_BENCH_IDLE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tokend::bench {

struct IdleResult {
  std::string socket_path;
  pid_t server_pid = 0;
  size_t connections = 0;
  uint64_t rss_before_kib = 0;
  uint64_t rss_after_kib = 0;

  double bytes_per_connection() const {
    return connections == 0
               ? 0.0
               : (static_cast<double>(rss_after_kib) - static_cast<double>(rss_before_kib)) *
                     1024.0 / static_cast<double>(connections);
  }
};

// ReadVmRssKib()
//
// The VmRSS line of /proc/`pid`/status, in KiB.
absl::StatusOr<uint64_t> ReadVmRssKib(pid_t pid);

// PeerPid()
//
// The pid of the process at the other end of the connected Unix socket
// `fd` (SO_PEERCRED): for a client socket, the server that listens.
absl::StatusOr<pid_t> PeerPid(int fd);

// MeasureIdleConnections()
//
// As above. `server_pid` 0: take it from the first connection's peer
// credentials. Fails when a connect fails, a PING goes unanswered within
// 30 s, or /proc cannot be read.
absl::StatusOr<IdleResult> MeasureIdleConnections(const std::string& socket_path, size_t n,
                                                  pid_t server_pid);

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_IDLE_H_

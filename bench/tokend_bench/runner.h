// SPDX-License-Identifier: Apache-2.0
// runner.h
//
// Drives one run: `connections` non-blocking Unix-socket connections, shared
// out among `threads` client threads, each thread driving its own with one
// io_uring (one receive in flight per connection, a pass's sends submitted
// and the wait made in one system call; in the closed loop a thread polls
// for completions for up to 30 us before it sleeps, time left out of its
// busy share) or, where the kernel refuses a ring or --client-loop epoll
// asks, one epoll set. Requests are pipelined, and every response is matched
// to its request by id (the protocol does not promise order). A batch of requests for one
// connection goes out in one send.
//
//   Closed loop (rate 0): each connection keeps `depth` requests in flight;
//   a response is answered at once by the next request. Latency runs from
//   the send to the response.
//
//   Open loop (rate > 0): requests are due on a fixed schedule, rate per
//   second over all connections, spread evenly; each connection has at most
//   `depth` in flight, and a due request that finds its connection full
//   waits. Latency runs from the request's intended send time, not from the
//   time it actually went out, so a stall in the server (or the client)
//   shows in every request it delays instead of hiding in the ones that
//   were never sent (coordinated omission; wrk2 measures the same way).
//   The client wakes at most every 20 us and sends every request then due,
//   so a request may leave up to one tick late; its latency includes that.
//
// Phases: for VALIDATE, priming: every distinct token is sent once (shared
// out among the threads, pipelined `depth` deep on each connection) and
// every answer awaited, so that a server cache large enough to hold them
// all answers the rest of the run from it; then warmup (sent, counted in
// statuses, not in latency or throughput), measured window, then a drain in
// which no new request is started and the window's answers are awaited for
// at most drain_timeout. Priming and warmup answers count in the statuses
// only. Latency covers the requests sent (intended, in the open loop)
// inside the window; throughput counts the responses received inside it.
//
// CPU: each client thread reads its own CPU clock as the window opens and
// closes; with spec.server_pids, the calling thread (otherwise asleep)
// reads the servers' /proc/PID/stat at the same two moments (cpu.h).
//
// Thread-safety: RunLoad() is a blocking call that owns its threads and
// sockets; the Workload is shared read-only. Nothing is kept between calls.
#ifndef TOKEND_BENCH_TOKEND_BENCH_RUNNER_H_
#define TOKEND_BENCH_TOKEND_BENCH_RUNNER_H_

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/tokend_bench/args.h"
#include "bench/tokend_bench/histogram.h"
#include "bench/tokend_bench/workload.h"

namespace tokend::bench {

struct RunConfig {
  RunSpec spec;
  double duration_seconds = 5;
  double warmup_seconds = 1;
  int threads = 1;  // at most spec.connections are used
  ClientLoop client_loop = ClientLoop::kUring;
  const Workload* workload = nullptr;
  std::chrono::milliseconds drain_timeout{2000};
};

struct RunResult {
  Histogram latency;                 // ns, requests of the measured window
  uint64_t completed_in_window = 0;  // responses received inside the window
  double window_seconds = 0;
  // Every response (or failure) of the run, warmup included, by Outcome.
  std::array<uint64_t, kOutcomeCount> outcomes{};
  uint64_t unexpected = 0;       // outcomes other than the request's expected one
  std::string first_unexpected;  // "expected OK, got UNKNOWN_KEY", for the report
  std::vector<std::string> connection_errors;
  // Open loop only: how long after its intended time each request of the
  // window actually went out. It grows when the client falls behind, and
  // when a connection already has `depth` requests in flight (the server
  // is behind); either way the latency above already counts the delay.
  Histogram send_lag;
  // Open loop only: the part of each send delay the client itself caused:
  // from the later of the scheduled time and the moment its connection had
  // room (a response freed a slot) to the send. A large figure says the
  // client, not the server, could not keep the schedule.
  Histogram client_lag;
  uint64_t primed = 0;  // requests sent by the priming phase

  // The client threads over the window: their CPU time summed, and the
  // busiest thread's CPU time over its window (1.0 = one core all the time).
  int client_threads = 0;
  uint64_t client_cpu_ns = 0;
  double client_busiest_share = 0;
  // Whether every client thread drove its connections with io_uring (else
  // at least one used epoll).
  bool client_uring = false;
  // io_uring, closed loop: the threads' time polling for completions before
  // sleeping, summed. It is in client_cpu_ns but not in
  // client_busiest_share: polling is waiting, done on the CPU.
  uint64_t client_poll_ns = 0;

  // The server's processes (spec.server_pids) over the window, read from
  // /proc at its start and end. server_error says why not when they could
  // not be read.
  bool server_measured = false;
  uint64_t server_cpu_ns = 0;
  double server_window_seconds = 0;  // between the two reads
  int server_cores = 0;              // spec.server_cores, or the CPUs the server may use
  std::string server_error;

  double requests_per_second() const {
    return window_seconds > 0 ? static_cast<double>(completed_in_window) / window_seconds : 0;
  }
  // The server's CPU time over the window, in cores (1.0 = one core busy
  // all the time). 0 when not measured.
  double server_cpu_share() const {
    return server_window_seconds > 0
               ? static_cast<double>(server_cpu_ns) / 1e9 / server_window_seconds
               : 0;
  }
  // The server's CPU time per response of the window. 0 when not measured.
  double server_ns_per_request() const {
    return completed_in_window > 0
               ? static_cast<double>(server_cpu_ns) / static_cast<double>(completed_in_window)
               : 0;
  }
  // The client threads' mean CPU over the window, in cores per thread.
  // Polling (client_poll_ns) left out.
  double client_mean_share() const {
    const uint64_t busy = client_cpu_ns - std::min(client_cpu_ns, client_poll_ns);
    return client_threads > 0 && window_seconds > 0
               ? static_cast<double>(busy) / 1e9 / window_seconds / client_threads
               : 0;
  }
  // The threads' mean time polling, as a share of the window.
  double client_poll_share() const {
    return client_threads > 0 && window_seconds > 0
               ? static_cast<double>(client_poll_ns) / 1e9 / window_seconds / client_threads
               : 0;
  }
  uint64_t total_responses() const;
};

// MergeResults()
//
// One result from the results of several client threads over the same
// window: counts, outcomes and client CPU time summed, latency histograms
// merged, the busiest thread kept, the first unexpected outcome and the
// first connection errors kept; window_seconds and client_threads as
// given. The server's figures are left unset. Moves the connection error
// messages out of `parts`.
RunResult MergeResults(std::vector<RunResult>& parts, double window_seconds, int client_threads);

// RunLoad()
//
// Connects every connection (failing the run if any connect fails), runs
// the phases above, and closes the connections. Failures during the run
// (a connection reset, a protocol error) do not fail the call: they are
// counted as outcomes and listed in connection_errors.
// REQUIRES: config.workload != nullptr.
absl::StatusOr<RunResult> RunLoad(const RunConfig& config);

// ConnectUnix()
//
// A blocking SOCK_STREAM connection to `path` (close-on-exec), or an error
// naming the path.
absl::StatusOr<int> ConnectUnix(const std::string& path);

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_RUNNER_H_

// SPDX-License-Identifier: Apache-2.0
// cpu.h
//
// CPU time of the server under load and of the client's own threads, for
// the per-request cost tokend-bench reports and for its verdict on which
// side set the pace. The server's time comes from /proc/PID/stat (utime +
// stime: every thread of the process, live or exited, in clock ticks, 10 ms
// where USER_HZ is 100); a client thread's from CLOCK_THREAD_CPUTIME_ID.
//
// Thread-safety: pure functions, or reads of /proc; no shared state.
#ifndef TOKEND_BENCH_TOKEND_BENCH_CPU_H_
#define TOKEND_BENCH_TOKEND_BENCH_CPU_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tokend::bench {

struct ProcTicks {
  uint64_t utime = 0;  // clock ticks in user mode
  uint64_t stime = 0;  // clock ticks in kernel mode
};

// ParseProcStat()
//
// utime and stime (fields 14 and 15) of a /proc/PID/stat line. The second
// field, the command name in parentheses, may itself hold spaces and
// parentheses, so the fields are counted from the line's last ')'. Fails on
// a line with no ')' or too few fields after it, or a non-numeric field.
absl::StatusOr<ProcTicks> ParseProcStat(absl::string_view line);

// ReadProcessCpuNs()
//
// utime + stime of process `pid`, every thread of it, in nanoseconds.
// Fails when /proc/PID/stat cannot be read or parsed (the message names
// the pid).
absl::StatusOr<uint64_t> ReadProcessCpuNs(pid_t pid);

// ReadProcessesCpuNs()
//
// The sum of ReadProcessCpuNs() over `pids`; fails on the first that fails.
absl::StatusOr<uint64_t> ReadProcessesCpuNs(const std::vector<pid_t>& pids);

// AllowedCpus()
//
// How many CPUs the processes in `pids` may run on together: the union of
// their affinity masks (sched_getaffinity of each pid, i.e. of its main
// thread). 0 when no mask could be read.
int AllowedCpus(const std::vector<pid_t>& pids);

// ThreadCpuNs()
//
// CPU time of the calling thread, in nanoseconds.
uint64_t ThreadCpuNs();

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_CPU_H_

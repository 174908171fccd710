// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/cpu.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tokend::bench {

absl::StatusOr<ProcTicks> ParseProcStat(absl::string_view line) {
  const size_t close = line.rfind(')');
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("stat line has no ')' closing the command name");
  }
  // After the name: field 3 (state) onwards; utime and stime are fields 14
  // and 15, the 12th and 13th after it.
  std::vector<absl::string_view> fields =
      absl::StrSplit(line.substr(close + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 13) {
    return absl::InvalidArgumentError(absl::StrCat("stat line has ", fields.size(),
                                                   " fields after the name, expected 13 or more"));
  }
  ProcTicks t;
  if (!absl::SimpleAtoi(fields[11], &t.utime) || !absl::SimpleAtoi(fields[12], &t.stime)) {
    return absl::InvalidArgumentError(absl::StrCat("stat line: utime '", fields[11], "' or stime '",
                                                   fields[12], "' is not a number"));
  }
  return t;
}

absl::StatusOr<uint64_t> ReadProcessCpuNs(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  // The whole file: a command name may hold a newline.
  std::ifstream in(path);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::NotFoundError(absl::StrCat("server pid ", pid, ": cannot read ", path));
  }
  absl::StatusOr<ProcTicks> t = ParseProcStat(text.str());
  if (!t.ok()) {
    return absl::DataLossError(absl::StrCat("server pid ", pid, ": ", t.status().message()));
  }
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const uint64_t ticks = t->utime + t->stime;
  const uint64_t hz = ticks_per_second > 0 ? static_cast<uint64_t>(ticks_per_second) : 100;
  return ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz;
}

absl::StatusOr<uint64_t> ReadProcessesCpuNs(const std::vector<pid_t>& pids) {
  uint64_t sum = 0;
  for (pid_t pid : pids) {
    absl::StatusOr<uint64_t> ns = ReadProcessCpuNs(pid);
    if (!ns.ok()) return ns.status();
    sum += *ns;
  }
  return sum;
}

int AllowedCpus(const std::vector<pid_t>& pids) {
  cpu_set_t all;
  CPU_ZERO(&all);
  bool any = false;
  for (pid_t pid : pids) {
    cpu_set_t one;
    CPU_ZERO(&one);
    if (::sched_getaffinity(pid, sizeof(one), &one) != 0) continue;
    CPU_OR(&all, &all, &one);
    any = true;
  }
  return any ? CPU_COUNT(&all) : 0;
}

uint64_t ThreadCpuNs() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace tokend::bench

// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/cpu.h"

#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::bench {
namespace {

using ::testing::HasSubstr;

// A /proc/PID/stat line as Linux writes it, with the given command name
// and utime 1234, stime 567.
std::string StatLine(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 3 0 12345 1000000 200 "
         "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0\n";
}

TEST(CpuTest, ParsesUtimeAndStime) {
  absl::StatusOr<ProcTicks> t = ParseProcStat(StatLine("tokend"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->utime, 1234u);
  EXPECT_EQ(t->stime, 567u);
}

TEST(CpuTest, ACommandNameWithSpacesAndParenthesesDoesNotShiftTheFields) {
  // A process may name itself anything; the fields count from the last ')'.
  for (const std::string comm : {"a b", "x) S 9 9 9 (y", "((", "new\nline",
                                 ") 1 2 3 4 5 6 7 8 9 10 11 12 13", " tokend (worker) "}) {
    absl::StatusOr<ProcTicks> t = ParseProcStat(StatLine(comm));
    ASSERT_TRUE(t.ok()) << comm << ": " << t.status();
    EXPECT_EQ(t->utime, 1234u) << comm;
    EXPECT_EQ(t->stime, 567u) << comm;
  }
}

TEST(CpuTest, MalformedLinesAreErrors) {
  EXPECT_THAT(std::string(ParseProcStat("4242 tokend S 1 2 3").status().message()),
              HasSubstr("no ')'"));
  EXPECT_THAT(std::string(ParseProcStat("4242 (tokend) S 1 4242 4242 0").status().message()),
              HasSubstr("fields after the name"));
  EXPECT_THAT(
      std::string(ParseProcStat("4242 (t) S 1 2 3 4 5 6 7 8 9 10 x 12 13").status().message()),
      HasSubstr("'x'"));
  EXPECT_FALSE(ParseProcStat("").ok());
}

TEST(CpuTest, ReadsThisProcessAndNamesAMissingOne) {
  // This process has run for a while: its own CPU time reads as a number
  // that does not go backwards.
  absl::StatusOr<uint64_t> a = ReadProcessCpuNs(getpid());
  ASSERT_TRUE(a.ok()) << a.status();
  volatile uint64_t spin = 0;
  for (uint64_t i = 0; i < 20000000; ++i) spin = spin + i;
  absl::StatusOr<uint64_t> b = ReadProcessesCpuNs({getpid(), getpid()});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GE(*b, 2 * *a);
  // pid_max is at most 2^22: this pid cannot exist.
  absl::StatusOr<uint64_t> none = ReadProcessCpuNs(1 << 30);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("1073741824"));
}

TEST(CpuTest, AllowedCpusCountsTheAffinityMask) {
  const int mine = AllowedCpus({getpid()});
  EXPECT_GE(mine, 1);
  EXPECT_LE(mine, static_cast<int>(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_EQ(AllowedCpus({getpid(), getpid()}), mine);
  EXPECT_EQ(AllowedCpus({1 << 30}), 0);
  EXPECT_EQ(AllowedCpus({}), 0);
}

TEST(CpuTest, ThreadCpuTimeGrowsWithWork) {
  const uint64_t a = ThreadCpuNs();
  volatile uint64_t spin = 0;
  for (uint64_t i = 0; i < 10000000; ++i) spin = spin + i;
  EXPECT_GT(ThreadCpuNs(), a);
}

}  // namespace
}  // namespace tokend::bench

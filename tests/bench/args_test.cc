// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/args.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::bench {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<BenchOptions> Parse(std::initializer_list<const char*> args) {
  std::vector<std::string> storage = {"tokend-bench"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  return ParseArgs(static_cast<int>(argv.size()), argv.data());
}

std::string Error(std::initializer_list<const char*> args) {
  absl::StatusOr<BenchOptions> o = Parse(args);
  EXPECT_FALSE(o.ok()) << "accepted a bad command line";
  if (o.ok()) return "";
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(o.status().message());
}

TEST(ArgsTest, DefaultsAreOnePingConnectionInAClosedLoop) {
  absl::StatusOr<BenchOptions> o = Parse({"--socket", "/tmp/s"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->runs.size(), 1u);
  const RunSpec& r = o->runs[0];
  EXPECT_EQ(r.op, Op::kPing);
  EXPECT_EQ(r.label, "ping");
  EXPECT_EQ(r.socket_path, "/tmp/s");
  EXPECT_EQ(r.connections, 1);
  EXPECT_EQ(r.depth, 1);
  EXPECT_FALSE(r.open_loop());
  EXPECT_FALSE(o->compare);
  EXPECT_FALSE(o->json);
  EXPECT_EQ(o->duration_seconds, 5);
  EXPECT_EQ(o->warmup_seconds, 1);
}

TEST(ArgsTest, EveryRunFlagIsTakenInBothForms) {
  absl::StatusOr<BenchOptions> o = Parse({"--socket=/tmp/s",
                                          "--op",
                                          "validate",
                                          "--connections=16",
                                          "--depth",
                                          "8",
                                          "--rate",
                                          "5000",
                                          "--mint",
                                          "/tmp/key",
                                          "--kid=k1",
                                          "--unique",
                                          "1000",
                                          "--invalid-ratio",
                                          "0.25",
                                          "--audience",
                                          "api",
                                          "--duration",
                                          "2.5",
                                          "--warmup=0",
                                          "--threads",
                                          "2",
                                          "--json",
                                          "--plot",
                                          "/tmp/p.svg"});
  ASSERT_TRUE(o.ok()) << o.status();
  const RunSpec& r = o->runs[0];
  EXPECT_EQ(r.op, Op::kValidate);
  EXPECT_EQ(r.connections, 16);
  EXPECT_EQ(r.depth, 8);
  EXPECT_EQ(r.rate, 5000);
  EXPECT_TRUE(r.open_loop());
  EXPECT_EQ(r.mint_key_file, "/tmp/key");
  EXPECT_EQ(r.kid, "k1");
  EXPECT_EQ(r.unique, 1000u);
  EXPECT_EQ(r.invalid_ratio, 0.25);
  EXPECT_EQ(r.audience, "api");
  EXPECT_EQ(o->duration_seconds, 2.5);
  EXPECT_EQ(o->warmup_seconds, 0);
  EXPECT_EQ(o->threads, 2);
  EXPECT_TRUE(o->json);
  EXPECT_EQ(o->plot_path, "/tmp/p.svg");
}

TEST(ArgsTest, MissingSocketIsAnError) {
  EXPECT_THAT(Error({"--op", "ping"}), HasSubstr("--socket"));
}

TEST(ArgsTest, UnknownFlagAndPositionalArgumentAreErrors) {
  EXPECT_THAT(Error({"--socket", "/s", "--bogus", "1"}), HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(Error({"--socket", "/s", "stray"}), HasSubstr("stray"));
}

TEST(ArgsTest, MissingValueIsAnError) {
  EXPECT_THAT(Error({"--socket", "/s", "--depth"}), HasSubstr("--depth: missing value"));
}

TEST(ArgsTest, OutOfRangeAndMalformedNumbersAreErrorsNamingFlagAndValue) {
  EXPECT_THAT(Error({"--socket", "/s", "--depth", "0"}), HasSubstr("--depth: got '0'"));
  EXPECT_THAT(Error({"--socket", "/s", "--depth", "65537"}), HasSubstr("--depth"));
  EXPECT_THAT(Error({"--socket", "/s", "--connections", "ten"}), HasSubstr("'ten'"));
  EXPECT_THAT(Error({"--socket", "/s", "--rate", "-5"}), HasSubstr("--rate"));
  EXPECT_THAT(Error({"--socket", "/s", "--rate", "nan"}), HasSubstr("--rate"));
  EXPECT_THAT(Error({"--socket", "/s", "--duration", "0"}), HasSubstr("--duration"));
  EXPECT_THAT(Error({"--socket", "/s", "--warmup", "-1"}), HasSubstr("--warmup"));
  EXPECT_THAT(Error({"--socket", "/s", "--threads", "0"}), HasSubstr("--threads"));
  EXPECT_THAT(Error({"--socket", "/s", "--op", "validate", "--mint", "k", "--unique", "0"}),
              HasSubstr("--unique"));
  EXPECT_THAT(
      Error({"--socket", "/s", "--op", "validate", "--mint", "k", "--invalid-ratio", "1.5"}),
      HasSubstr("--invalid-ratio: got '1.5', expected a share from 0 to 1"));
}

TEST(ArgsTest, UnknownOpIsAnError) {
  EXPECT_THAT(Error({"--socket", "/s", "--op", "verify"}),
              HasSubstr("--op: got 'verify', expected ping or validate"));
}

TEST(ArgsTest, ValidateNeedsExactlyOneTokenSource) {
  EXPECT_THAT(Error({"--socket", "/s", "--op", "validate"}), HasSubstr("--tokens FILE or --mint"));
  EXPECT_THAT(Error({"--socket", "/s", "--op", "validate", "--tokens", "t", "--mint", "k"}),
              HasSubstr("exclude each other"));
  EXPECT_THAT(Error({"--socket", "/s", "--op", "validate", "--tokens", "t", "--kid", "x"}),
              HasSubstr("--kid applies only with --mint"));
}

TEST(ArgsTest, ComparePresetsInheritTheFlags) {
  absl::StatusOr<BenchOptions> o =
      Parse({"--socket", "/s", "--mint", "/k", "--connections", "16", "--depth", "16", "--compare",
             "ping,validate-hit,validate-miss"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->compare);
  ASSERT_EQ(o->runs.size(), 3u);
  EXPECT_EQ(o->runs[0].label, "ping");
  EXPECT_EQ(o->runs[0].op, Op::kPing);
  EXPECT_EQ(o->runs[1].label, "validate-hit");
  EXPECT_EQ(o->runs[1].op, Op::kValidate);
  EXPECT_EQ(o->runs[1].unique, kHitUnique);
  EXPECT_EQ(o->runs[2].unique, kMissUnique);
  for (const RunSpec& r : o->runs) {
    EXPECT_EQ(r.connections, 16);
    EXPECT_EQ(r.depth, 16);
    EXPECT_EQ(r.socket_path, "/s");
  }
}

TEST(ArgsTest, LabelledCompareSpecOverridesOnlyWhatItSets) {
  absl::StatusOr<BenchOptions> o =
      Parse({"--socket", "/s", "--mint", "/k", "--depth", "4", "--compare", "ping", "--compare",
             "floor:op=validate,socket=/f,unique=3,rate=100"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->runs.size(), 2u);
  const RunSpec& f = o->runs[1];
  EXPECT_EQ(f.label, "floor");
  EXPECT_EQ(f.op, Op::kValidate);
  EXPECT_EQ(f.socket_path, "/f");
  EXPECT_EQ(f.unique, 3u);
  EXPECT_EQ(f.rate, 100);
  EXPECT_EQ(f.depth, 4);
  EXPECT_EQ(f.mint_key_file, "/k");
}

TEST(ArgsTest, BadCompareSpecsAreErrors) {
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "ping,pong"}), HasSubstr("'pong'"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "validate-hit"}), HasSubstr("needs --mint"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "x:speed=3"}), HasSubstr("'speed'"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "x:depth"}), HasSubstr("key=value"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "x:depth=0"}), HasSubstr("depth"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", ":op=ping"}), HasSubstr("label"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "ping", "--compare", "ping"}),
              HasSubstr("used twice"));
  EXPECT_THAT(Error({"--socket", "/s", "--compare", "v:op=validate"}), HasSubstr("--compare v:"));
}

TEST(ArgsTest, IdleTakesOnlyItsOwnFlags) {
  absl::StatusOr<BenchOptions> o = Parse({"--socket", "/s", "--idle", "10000", "--json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->idle_connections, 10000u);
  EXPECT_EQ(o->server_pid, 0);
  EXPECT_THAT(Error({"--socket", "/s", "--idle", "10", "--depth", "2"}), HasSubstr("--idle"));
  EXPECT_THAT(Error({"--socket", "/s", "--idle", "0"}), HasSubstr("--idle"));
  EXPECT_THAT(Error({"--socket", "/s", "--idle", "10", "--server-pid", "1,2"}),
              HasSubstr("one --server-pid"));
  o = Parse({"--socket", "/s", "--idle", "10", "--server-pid", "42"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->server_pid, 42);
}

TEST(ArgsTest, ServerPidsAreRepeatableListsAndReachEveryRun) {
  absl::StatusOr<BenchOptions> o =
      Parse({"--socket", "/s", "--server-pid", "12,13", "--server-pid=14", "--server-cores", "2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->runs[0].server_pids, (std::vector<pid_t>{12, 13, 14}));
  EXPECT_EQ(o->runs[0].server_cores, 2);

  o = Parse({"--socket", "/s", "--server-pid", "7", "--compare", "ping", "--compare",
             "floor:socket=/f,server-pid=8+9,server-cores=1"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->runs.size(), 2u);
  EXPECT_EQ(o->runs[0].server_pids, (std::vector<pid_t>{7}));
  EXPECT_EQ(o->runs[0].server_cores, 0);
  EXPECT_EQ(o->runs[1].server_pids, (std::vector<pid_t>{8, 9}));
  EXPECT_EQ(o->runs[1].server_cores, 1);

  EXPECT_THAT(Error({"--socket", "/s", "--server-pid", "0"}), HasSubstr("--server-pid: got '0'"));
  EXPECT_THAT(Error({"--socket", "/s", "--server-pid", "12,x"}), HasSubstr("'12,x'"));
  EXPECT_THAT(Error({"--socket", "/s", "--server-cores", "1"}),
              HasSubstr("only with --server-pid"));
}

TEST(ArgsTest, AlgChoosesTheMintedAlgorithmAndNeedsMint) {
  absl::StatusOr<BenchOptions> o =
      Parse({"--socket", "/s", "--op", "validate", "--mint", "/k/rsa.key", "--alg", "PS384"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->runs[0].mint_key_file, "/k/rsa.key");
  EXPECT_EQ(o->runs[0].alg, "PS384");
  for (const char* alg : {"HS256", "RS256", "PS512", "ES256", "ES512", "EdDSA"}) {
    absl::StatusOr<BenchOptions> each =
        Parse({"--socket", "/s", "--op", "validate", "--mint", "/k", "--alg", alg});
    ASSERT_TRUE(each.ok()) << alg << ": " << each.status();
    EXPECT_EQ(each->runs[0].alg, alg);
  }
  // Default: empty, the key's own.
  absl::StatusOr<BenchOptions> plain =
      Parse({"--socket", "/s", "--op", "validate", "--mint", "/k"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->runs[0].alg, "");

  for (const char* bad : {"rs256", "none", "apikey", "ES256K", ""}) {
    EXPECT_THAT(Error({"--socket", "/s", "--op", "validate", "--mint", "/k", "--alg", bad}),
                HasSubstr("--alg: got '" + std::string(bad) + "', expected a JWS alg"))
        << bad;
  }
  EXPECT_THAT(Error({"--socket", "/s", "--op", "validate", "--tokens", "t", "--alg", "RS256"}),
              HasSubstr("--alg applies only with --mint"));
}

TEST(ArgsTest, CompareRunsInheritOrSetTheAlg) {
  absl::StatusOr<BenchOptions> o =
      Parse({"--socket", "/s", "--mint", "/k/ec.key", "--alg", "ES256", "--compare",
             "ping,validate-hit", "--compare", "rsa:op=validate,mint=/k/rsa.key,alg=RS256"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->runs.size(), 3u);
  EXPECT_EQ(o->runs[1].alg, "ES256");
  EXPECT_EQ(o->runs[1].mint_key_file, "/k/ec.key");
  EXPECT_EQ(o->runs[2].alg, "RS256");
  EXPECT_EQ(o->runs[2].mint_key_file, "/k/rsa.key");
  EXPECT_THAT(Error({"--socket", "/s", "--mint", "/k", "--compare", "x:op=validate,alg=HS1"}),
              HasSubstr("--compare x alg: got 'HS1'"));
  EXPECT_THAT(Usage(), HasSubstr("--alg ALG"));
}

TEST(ArgsTest, HelpNeedsNothingElse) {
  absl::StatusOr<BenchOptions> o = Parse({"--help"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->help);
  EXPECT_THAT(Usage(), HasSubstr("--invalid-ratio"));
}

}  // namespace
}  // namespace tokend::bench

// SPDX-License-Identifier: Apache-2.0
// Runs tokend-bench against a real tokend on a temporary socket and checks
// what it reports: every status as expected, the JSON keys scripts rely
// on, the exit status, the plot.
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

extern char** environ;

namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Spawns argv with stdout and stderr sent to files; returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Answers(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (ok) {
    const char ping[12] = {0, 0, 0, 0, 1, 2, 0, 0, 7, 0, 0, 0};
    char got[12];
    ok = send(fd, ping, sizeof(ping), MSG_NOSIGNAL) == 12 && recv(fd, got, 12, MSG_WAITALL) == 12 &&
         std::memcmp(ping, got, 12) == 0;
  }
  close(fd);
  return ok;
}

class TokendBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "tokend-bench-it-XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
    std::filesystem::create_directory(dir_ + "/keys");
    key_ = WriteRandomKey(dir_ + "/keys/k1");
    other_key_ = WriteRandomKey(dir_ + "/other");
  }

  void TearDown() override {
    if (daemon_ > 0) {
      kill(daemon_, SIGTERM);
      WaitExit(daemon_);
    }
    std::filesystem::remove_all(dir_);
  }

  static std::string WriteRandomKey(const std::string& path) {
    std::string key(32, '\0');
    size_t got = 0;
    while (got < key.size()) {
      const ssize_t n = getrandom(key.data() + got, key.size() - got, 0);
      if (n > 0) got += static_cast<size_t>(n);
    }
    std::ofstream(path, std::ios::binary) << key;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path;
  }

  void StartDaemon(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {TOKEND_BINARY,  "--socket",  socket(), "--keys",
                                     dir_ + "/keys", "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = Spawn(args, dir_ + "/tokend.out", dir_ + "/tokend.err");
    ASSERT_GT(daemon_, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!Answers(socket())) {
      int status = 0;
      ASSERT_EQ(waitpid(daemon_, &status, WNOHANG), 0)
          << "tokend exited: " << ReadFile(dir_ + "/tokend.err");
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "tokend never answered a PING";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Runs tokend-bench with `args` after --socket; returns its exit status
  // and leaves stdout in out_ and stderr in err_.
  int Bench(const std::vector<std::string>& args) {
    std::vector<std::string> all = {TOKEND_BENCH_BINARY, "--socket", socket()};
    all.insert(all.end(), args.begin(), args.end());
    const pid_t pid = Spawn(all, dir_ + "/bench.out", dir_ + "/bench.err");
    EXPECT_GT(pid, 0);
    const int rc = WaitExit(pid);
    out_ = ReadFile(dir_ + "/bench.out");
    err_ = ReadFile(dir_ + "/bench.err");
    return rc;
  }

  std::string socket() const { return dir_ + "/tokend.sock"; }

  std::string dir_, key_, other_key_, out_, err_;
  pid_t daemon_ = -1;
  simdjson::dom::parser parser_;
};

TEST_F(TokendBenchTest, ValidateAgainstARealDaemonIsAllOkWithEveryJsonKey) {
  StartDaemon();
  const std::string plot = dir_ + "/latency.svg";
  ASSERT_EQ(Bench({"--op", "validate", "--mint", key_, "--unique", "8", "--connections", "2",
                   "--depth", "4", "--duration", "1", "--warmup", "0.2", "--json", "--plot", plot}),
            0)
      << err_ << out_;
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
  EXPECT_TRUE(bool(doc["ok"]));
  simdjson::dom::array runs = doc["runs"];
  ASSERT_EQ(runs.size(), 1u);
  simdjson::dom::element run = runs.at(0);
  for (const char* key :
       {"requests_per_second", "p50_us", "p99_us", "p999_us", "max_us", "status_counts"}) {
    EXPECT_EQ(run[key].error(), simdjson::SUCCESS) << "missing " << key;
  }
  EXPECT_GT(double(run["requests_per_second"]), 0.0);
  EXPECT_GT(double(run["p50_us"]), 0.0);
  EXPECT_LE(double(run["p50_us"]), double(run["p99_us"]));
  EXPECT_LE(double(run["p999_us"]), double(run["max_us"]));
  simdjson::dom::object counts = run["status_counts"];
  uint64_t ok = 0;
  for (auto [name, count] : counts) {
    EXPECT_EQ(name, "OK") << "a status other than OK was counted: " << name;
    ok += uint64_t(count);
  }
  EXPECT_GT(ok, 0u);
  EXPECT_EQ(uint64_t(run["unexpected"]), 0u);
  const std::string svg = ReadFile(plot);
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("<path class=\"series\""));
}

// Whether this kernel lets a process make an io_uring (seccomp may not).
bool KernelAllowsIoUring() {
  io_uring ring;
  if (io_uring_queue_init(2, &ring, 0) != 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

// Both client loops get every answer, priming included: with io_uring the
// priming thread's receives are cancelled before the measuring thread takes
// the same connections, and a receive left behind would take its answers
// (NO_ANSWER, unexpected).
TEST_F(TokendBenchTest, BothClientLoopsGetEveryAnswerAndSayWhichRan) {
  StartDaemon();
  for (const std::string loop : {"io_uring", "epoll"}) {
    ASSERT_EQ(Bench({"--op", "validate", "--mint", key_, "--unique", "64", "--connections", "4",
                     "--depth", "8", "--duration", "0.5", "--warmup", "0.1", "--client-loop", loop,
                     "--json"}),
              0)
        << loop << ": " << err_ << out_;
    simdjson::dom::element doc;
    ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
    simdjson::dom::element run = doc["runs"].at(0);
    const std::string want = loop == "epoll" || KernelAllowsIoUring() ? loop : "epoll";
    EXPECT_EQ(std::string_view(run["client_loop"]), want);
    EXPECT_EQ(uint64_t(run["unexpected"]), 0u) << loop;
    EXPECT_EQ(uint64_t(run["primed"]), 64u) << loop;
    EXPECT_GT(uint64_t(run["status_counts"]["OK"]), 64u) << loop;
    // io_uring polls before it sleeps, and that time is not counted as
    // busy: with 32 requests in flight against a daemon that answers in
    // microseconds the client mostly waits.
    const double poll = double(run["client_poll_percent"]);
    if (want == "io_uring") {
      EXPECT_GT(poll, 0.0);
      EXPECT_LE(double(run["client_busiest_thread_cpu_percent"]) + poll, 110.0);
    } else {
      EXPECT_EQ(poll, 0.0);
    }
  }
  EXPECT_EQ(Bench({"--client-loop", "kqueue"}), 2);
  EXPECT_THAT(err_, HasSubstr("io_uring or epoll"));
}

// A server that dies mid-run ends the run with its requests counted as lost,
// under either loop: no hang on operations the dead sockets left in flight.
TEST_F(TokendBenchTest, ADaemonKilledMidRunIsCountedAsLostNotAHang) {
  for (const std::string loop : {"io_uring", "epoll"}) {
    StartDaemon();
    const std::vector<std::string> args = {TOKEND_BENCH_BINARY,
                                           "--socket",
                                           socket(),
                                           "--op",
                                           "ping",
                                           "--connections",
                                           "4",
                                           "--depth",
                                           "8",
                                           "--duration",
                                           "3",
                                           "--warmup",
                                           "0",
                                           "--client-loop",
                                           loop,
                                           "--json"};
    const auto started = std::chrono::steady_clock::now();
    const pid_t bench = Spawn(args, dir_ + "/bench.out", dir_ + "/bench.err");
    ASSERT_GT(bench, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(daemon_, SIGKILL);
    WaitExit(daemon_);
    daemon_ = -1;
    EXPECT_EQ(WaitExit(bench), 1) << loop;
    // The window still runs its course, plus at most the drain timeout.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20)) << loop;
    out_ = ReadFile(dir_ + "/bench.out");
    simdjson::dom::element doc;
    ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << loop << ": " << out_;
    simdjson::dom::element run = doc["runs"].at(0);
    EXPECT_GT(uint64_t(run["status_counts"]["CONNECTION_LOST"]), 0u) << loop;
    EXPECT_GT(simdjson::dom::array(run["connection_errors"]).size(), 0u) << loop;
  }
}

TEST_F(TokendBenchTest, CompareCountsTamperedTokensAsBadSignatureAndPrintsRatios) {
  StartDaemon({"--audience", "api.example"});
  ASSERT_EQ(Bench({"--mint", key_, "--audience", "api.example", "--invalid-ratio", "0.25",
                   "--connections", "2", "--depth", "2", "--duration", "0.5", "--warmup", "0.1",
                   "--compare", "ping,validate"}),
            0)
      << err_ << out_;
  EXPECT_THAT(out_, HasSubstr("ratios to ping"));
  EXPECT_THAT(out_, HasSubstr("BAD_SIGNATURE"));
  EXPECT_THAT(out_, ::testing::Not(HasSubstr("UNEXPECTED")));
}

TEST_F(TokendBenchTest, TokensTheDaemonCannotVerifyMakeItSayUnexpectedAndExitNonZero) {
  StartDaemon();
  // Signed with a key the daemon does not have, under a kid it does not know.
  EXPECT_EQ(Bench({"--op", "validate", "--mint", other_key_, "--duration", "0.3", "--warmup", "0",
                   "--json"}),
            1)
      << err_;
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
  EXPECT_FALSE(bool(doc["ok"]));
  simdjson::dom::element run = doc["runs"].at(0);
  EXPECT_GT(uint64_t(run["status_counts"]["UNKNOWN_KEY"]), 0u);
  EXPECT_GT(uint64_t(run["unexpected"]), 0u);
  EXPECT_THAT(err_, HasSubstr("unexpected status"));
}

TEST_F(TokendBenchTest, OpenLoopKeepsItsRate) {
  StartDaemon();
  ASSERT_EQ(Bench({"--op", "ping", "--rate", "2000", "--connections", "4", "--depth", "16",
                   "--duration", "1", "--warmup", "0.2", "--json"}),
            0)
      << err_ << out_;
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
  simdjson::dom::element run = doc["runs"].at(0);
  EXPECT_EQ(std::string_view(run["mode"]), "open");
  // Requests are scheduled, not paced by answers: 2000 in the window.
  EXPECT_EQ(uint64_t(run["requests"]), 2000u);
  EXPECT_EQ(run["send_lag_p99_us"].error(), simdjson::SUCCESS);
  // The client's own part of the send delay is part of it.
  EXPECT_LE(double(run["client_lag_p99_us"]), double(run["send_lag_p99_us"]));
  // 2000 requests a second cost the client far less than its whole thread.
  EXPECT_GT(double(run["client_busy"]), 0.0);
  EXPECT_LT(double(run["client_busy"]), 0.9);
}

TEST_F(TokendBenchTest, IdleConnectionsReportTheDaemonsResidentMemory) {
  StartDaemon();
  ASSERT_EQ(Bench({"--idle", "200", "--json"}), 0) << err_ << out_;
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
  EXPECT_EQ(uint64_t(doc["idle_connections"]), 200u);
  EXPECT_EQ(int64_t(doc["server_pid"]), daemon_);
  EXPECT_GT(uint64_t(doc["rss_before_kib"]), 0u);
  EXPECT_GT(uint64_t(doc["rss_after_kib"]), 0u);
}

TEST_F(TokendBenchTest, ThreadsAndServerPidReportTheServersCpuPerRequest) {
  StartDaemon();
  ASSERT_EQ(Bench({"--op",          "validate", "--mint",       key_,
                   "--unique",      "50",       "--audience",   "api",
                   "--connections", "4",        "--depth",      "4",
                   "--threads",     "2",        "--duration",   "0.5",
                   "--warmup",      "0.1",      "--server-pid", std::to_string(daemon_),
                   "--json"}),
            0)
      << err_ << out_;
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(out_).get(doc), simdjson::SUCCESS) << out_;
  simdjson::dom::element run = doc["runs"].at(0);
  EXPECT_EQ(uint64_t(run["threads"]), 2u);
  EXPECT_EQ(uint64_t(run["client_threads"]), 2u);
  EXPECT_EQ(uint64_t(run["primed"]), 50u);  // every distinct token, once
  EXPECT_EQ(int64_t(run["server_pids"].at(0)), daemon_);
  EXPECT_GE(int64_t(run["server_cores"]), 1);
  EXPECT_GE(double(run["server_cpu_percent"]), 0.0);
  EXPECT_GE(double(run["server_cpu_ns_per_request"]), 0.0);
  EXPECT_GT(double(run["requests_per_second"]), 0.0);
  const std::string_view who = run["bottleneck"];
  EXPECT_TRUE(who == "server" || who == "client" || who == "neither") << who;
  EXPECT_EQ(std::string_view(run["warning"]).empty(), who == "server");
  if (who != "server") {
    EXPECT_THAT(err_, HasSubstr("not the bottleneck"));
  }
}

TEST_F(TokendBenchTest, AServerPidThatIsGoneIsReportedNotFatal) {
  StartDaemon();
  EXPECT_EQ(Bench({"--duration", "0.2", "--warmup", "0", "--server-pid", "1073741824"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("server CPU   not measured"));
  EXPECT_THAT(err_, HasSubstr("/proc/1073741824/stat"));
}

TEST_F(TokendBenchTest, NoDaemonIsAFailureNamingTheSocket) {
  EXPECT_EQ(Bench({"--duration", "0.1"}), 1);
  EXPECT_THAT(err_, HasSubstr(socket()));
}

TEST_F(TokendBenchTest, BadCommandLineExitsTwo) {
  EXPECT_EQ(Bench({"--depth", "0"}), 2);
  EXPECT_THAT(err_, HasSubstr("--depth"));
}

}  // namespace

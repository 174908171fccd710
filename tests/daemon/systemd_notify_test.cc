// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/systemd_notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/daemon/test_util.h"

namespace tokend::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using tokend::testing::BindUnix;
using tokend::testing::TempDir;

// The service manager's end: a datagram socket named by NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = dir_.file("notify.sock");
    fd_ = BindUnix(path_, SOCK_DGRAM, -1);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  // The next datagram, or "" after `timeout`.
  std::string Next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

TEST(SystemdNotifierTest, WithoutNotifySocketEverythingIsANoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  SystemdNotifier n;
  EXPECT_FALSE(n.enabled());
  n.Ready("x");
  n.Reloading("x");
  n.Stopping("x");
  absl::StatusOr<std::chrono::microseconds> wd = n.StartWatchdog();
  ASSERT_TRUE(wd.ok());
  EXPECT_EQ(wd->count(), 0);
}

TEST(SystemdNotifierTest, SendsReadyReloadingStoppingAndStatus) {
  NotifySocket manager;
  ASSERT_TRUE(manager.ok());
  SystemdNotifier n;
  EXPECT_TRUE(n.enabled());

  n.Ready("serving\nwith a newline");
  EXPECT_EQ(manager.Next(), "READY=1\nSTATUS=serving with a newline");

  timespec before;
  clock_gettime(CLOCK_MONOTONIC, &before);
  n.Reloading("reloading keys");
  std::string reloading = manager.Next();
  EXPECT_THAT(reloading, MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=reloading keys"));
  uint64_t usec = std::strtoull(reloading.c_str() + reloading.find('=', 12) + 1, nullptr, 10);
  uint64_t before_usec = static_cast<uint64_t>(before.tv_sec) * 1000000 + before.tv_nsec / 1000;
  EXPECT_GE(usec, before_usec);
  EXPECT_LT(usec, before_usec + 60'000'000);  // the same clock, not the wall clock

  n.Status("busy");
  EXPECT_EQ(manager.Next(), "STATUS=busy");
  n.Stopping("bye");
  EXPECT_EQ(manager.Next(), "STOPPING=1\nSTATUS=bye");
}

TEST(SystemdNotifierTest, WatchdogPingsAtHalfThePeriodUntilDestroyed) {
  NotifySocket manager;
  ASSERT_TRUE(manager.ok());
  ::setenv("WATCHDOG_USEC", "40000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  {
    SystemdNotifier n;
    absl::StatusOr<std::chrono::microseconds> wd = n.StartWatchdog();
    ASSERT_TRUE(wd.ok()) << wd.status();
    EXPECT_EQ(wd->count(), 40000);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(manager.Next(), "WATCHDOG=1") << i;
  }
  // The destructor joined the ping thread: whatever is queued now was sent
  // before it returned (a loaded machine may have queued several). Drain
  // those, then nothing more may arrive.
  for (std::string late = manager.Next(std::chrono::milliseconds(0)); !late.empty();
       late = manager.Next(std::chrono::milliseconds(0))) {
    EXPECT_EQ(late, "WATCHDOG=1");
  }
  EXPECT_EQ(manager.Next(std::chrono::milliseconds(200)), "");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

TEST(SystemdNotifierTest, WatchdogForAnotherProcessIsNotStarted) {
  NotifySocket manager;
  ::setenv("WATCHDOG_USEC", "40000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);
  SystemdNotifier n;
  absl::StatusOr<std::chrono::microseconds> wd = n.StartWatchdog();
  ASSERT_TRUE(wd.ok());
  EXPECT_EQ(wd->count(), 0);
  EXPECT_EQ(manager.Next(std::chrono::milliseconds(100)), "");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

TEST(SystemdNotifierTest, MalformedWatchdogVariableIsAnError) {
  ::setenv("WATCHDOG_USEC", "soon", 1);
  ::unsetenv("WATCHDOG_PID");
  SystemdNotifier n;
  absl::StatusOr<std::chrono::microseconds> wd = n.StartWatchdog();
  EXPECT_FALSE(wd.ok());
  EXPECT_THAT(std::string(wd.status().message()), HasSubstr("WATCHDOG_USEC"));
  ::unsetenv("WATCHDOG_USEC");
}

}  // namespace
}  // namespace tokend::server

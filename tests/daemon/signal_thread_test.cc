// SPDX-License-Identifier: Apache-2.0
#include "daemon/signal_thread.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend {
namespace {

using ::testing::ElementsAre;

// What the handlers saw, in order: 0 for a reload, the signal for a stop.
class Recorder {
 public:
  void Add(int v) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(v);
    cv_.notify_all();
  }
  std::vector<int> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return seen_.size() >= n; });
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> seen_;
};

TEST(SignalThreadTest, DispatchesProcessSignalsToTheHandlersOnItsThread) {
  ASSERT_TRUE(SignalThread::BlockSignals().ok());
  Recorder rec;
  SignalThread::Handlers h;
  h.reload = [&] { rec.Add(0); };
  h.stop = [&](int signo) { rec.Add(signo); };
  absl::StatusOr<std::unique_ptr<SignalThread>> t = SignalThread::Start(std::move(h));
  ASSERT_TRUE(t.ok()) << t.status();

  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_THAT(rec.WaitFor(1), ElementsAre(0));
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_THAT(rec.WaitFor(2), ElementsAre(0, SIGTERM));
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_THAT(rec.WaitFor(3), ElementsAre(0, SIGTERM, SIGINT));
  t->reset();  // joins without another signal
}

TEST(SignalThreadTest, SigpipeIsIgnored) {
  ASSERT_TRUE(SignalThread::BlockSignals().ok());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  char c = 'x';
  EXPECT_EQ(::write(fds[1], &c, 1), -1);  // EPIPE instead of death
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
}

}  // namespace
}  // namespace tokend

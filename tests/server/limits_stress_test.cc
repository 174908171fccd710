// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer stress of what the workers of one loop share for the
// limits: the BufferBudget every Connection adds to and takes from, and the
// AcceptPolicy every accept goes through.
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/server/accept_policy.h"
#include "daemon/server/connection.h"
#include "daemon/server/service.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/server/fake_validator.h"

namespace tokend::server {
namespace {

constexpr int kThreads = 4;

TEST(LimitsStressTest, ConnectionsOnManyThreadsGiveTheBudgetBackExactly) {
  BufferBudget budget(4096);  // one connection alone goes over it
  std::atomic<bool> saw_over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&budget, &saw_over, t] {
      Service service(std::make_unique<testing::FakeValidator>());
      const auto now = Connection::Clock::now();
      std::string pings;
      for (uint32_t i = 0; i < 500; ++i) protocol::AppendPingRequest(&pings, i);
      for (int round = 0; round < 200; ++round) {
        Connection c(t, 1 << 20, now, &budget);
        for (int k = 0; k < 4 && c.WantsRead(); ++k) c.OnInput(pings, service, now);
        if (budget.over()) saw_over.store(true, std::memory_order_relaxed);
        while (c.unsent() > 0) {
          const size_t n = c.PrepareSend().size();
          c.OnSent(n / 2 + 1, now);
          c.HandleHeld(service, now);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(saw_over.load());
  EXPECT_EQ(budget.used(), 0u);
}

TEST(LimitsStressTest, AdmitAndReleaseOnManyThreadsKeepEveryCapAndCount) {
  AcceptPolicy policy(64, 24);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&policy, t] {
      const uid_t uid = static_cast<uid_t>(1000 + t % 2);  // two threads per uid
      std::vector<int> held;
      for (int i = 0; i < 20000; ++i) {
        if (i % 3 != 2) {
          if (policy.Admit(uid) == AcceptPolicy::Decision::kAdmit) held.push_back(i);
        } else if (!held.empty()) {
          policy.Release(uid);
          held.pop_back();
        }
        EXPECT_LE(policy.open_for(uid), 24u);
        EXPECT_LE(policy.open(), 64u);
      }
      for (size_t k = 0; k < held.size(); ++k) policy.Release(uid);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(policy.open(), 0u);
  EXPECT_EQ(policy.open_for(1000), 0u);
}

}  // namespace
}  // namespace tokend::server

// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/accept_policy.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::server {
namespace {

using Decision = AcceptPolicy::Decision;

TEST(AcceptPolicyTest, WithoutAPerUidCapOneUidMayTakeEveryPlace) {
  AcceptPolicy p(4, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p.Admit(1000), Decision::kAdmit) << i;
  EXPECT_EQ(p.Admit(1000), Decision::kFull);
  EXPECT_EQ(p.Admit(0), Decision::kFull);
  p.Release(1000);
  EXPECT_EQ(p.Admit(0), Decision::kAdmit);
}

TEST(AcceptPolicyTest, AUidStopsAtItsCapWhileOthersGetIn) {
  AcceptPolicy p(100, 10);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p.Admit(1000), Decision::kAdmit) << i;
  EXPECT_EQ(p.Admit(1000), Decision::kUidFull);
  EXPECT_EQ(p.open_for(1000), 10u);
  EXPECT_EQ(p.Admit(1001), Decision::kAdmit);
  EXPECT_EQ(p.Admit(0), Decision::kAdmit);
  p.Release(1000);
  EXPECT_EQ(p.Admit(1000), Decision::kAdmit);
  EXPECT_EQ(p.open(), 12u);
}

TEST(AcceptPolicyTest, TheReserveGoesToUsersHoldingFewWhileOthersHog) {
  // 64 places, 16 per uid: the last 8 are the reserve, open to users
  // holding fewer than light_share() (here 1).
  AcceptPolicy p(64, 16);
  ASSERT_EQ(p.reserve(), 8u);
  ASSERT_EQ(p.light_share(), 1u);
  for (uid_t hog = 1; hog <= 3; ++hog) {
    for (int i = 0; i < 16; ++i) ASSERT_EQ(p.Admit(hog), Decision::kAdmit);
  }
  for (int i = 0; i < 8; ++i) ASSERT_EQ(p.Admit(4), Decision::kAdmit);  // 56 open
  // Only the reserve is left: uid 4, holding 8, is turned away although it
  // is under its cap; root and every other user still get a place.
  EXPECT_EQ(p.Admit(4), Decision::kReserved);
  EXPECT_EQ(p.Admit(0), Decision::kAdmit);
  EXPECT_EQ(p.Admit(0), Decision::kReserved);
  for (uid_t other = 100; other < 107; ++other) EXPECT_EQ(p.Admit(other), Decision::kAdmit);
  EXPECT_EQ(p.Admit(200), Decision::kFull);
  // A hog's place coming back does not reopen the reserve to hogs.
  p.Release(1);
  EXPECT_EQ(p.Admit(2), Decision::kUidFull);
  EXPECT_EQ(p.Admit(1), Decision::kReserved);
  EXPECT_EQ(p.Admit(300), Decision::kAdmit);
}

TEST(AcceptPolicyTest, ThreadsAdmittingAndReleasingKeepTheCountsExact) {
  AcceptPolicy p(1000, 300);
  std::vector<std::thread> threads;
  for (uid_t uid = 0; uid < 4; ++uid) {
    threads.emplace_back([&p, uid] {
      int held = 0;
      for (int i = 0; i < 20000; ++i) {
        if (i % 3 != 2) {
          if (p.Admit(uid) == Decision::kAdmit) ++held;
        } else if (held > 0) {
          p.Release(uid);
          --held;
        }
        EXPECT_LE(p.open_for(uid), 300u);
      }
      while (held-- > 0) p.Release(uid);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.open(), 0u);
}

}  // namespace
}  // namespace tokend::server

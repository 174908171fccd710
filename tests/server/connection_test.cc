// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/connection.h"

#include <chrono>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/server/fake_validator.h"

namespace tokend::server {
namespace {

using namespace std::chrono_literals;
using Reason = Connection::DrainReason;
using Timer = Connection::TimerAction;

class ConnectionTest : public ::testing::Test {
 protected:
  Service service_{std::make_unique<testing::FakeValidator>()};
  Connection::TimePoint t0_ = Connection::Clock::now();
};

std::string Pings(uint32_t first, uint32_t n) {
  std::string s;
  for (uint32_t i = 0; i < n; ++i) protocol::AppendPingRequest(&s, first + i);
  return s;
}

TEST_F(ConnectionTest, WholeFramesBecomeOneSendAndNothingIsKept) {
  Connection c(3, 1 << 20, t0_);
  c.OnInput(Pings(1, 3), service_, t0_);
  c.OnInput(Pings(4, 2), service_, t0_);
  EXPECT_FALSE(c.has_partial_frame());
  EXPECT_EQ(c.unsent(), 5 * protocol::kHeaderSize);
  EXPECT_EQ(c.PrepareSend(), Pings(1, 5));
  c.OnSent(c.unsent(), t0_);
  EXPECT_EQ(c.unsent(), 0u);
  EXPECT_TRUE(c.PrepareSend().empty());
  EXPECT_TRUE(c.WantsRead());
  EXPECT_FALSE(c.ShouldClose());
}

TEST_F(ConnectionTest, AFrameSplitAcrossReadsIsAnsweredOnceWhole) {
  Connection c(3, 1 << 20, t0_);
  std::string in;
  protocol::AppendValidateRequest(&in, 9, 0, "ok:carol", "aud");
  for (size_t i = 0; i + 1 < in.size(); ++i) {
    c.OnInput(in.substr(i, 1), service_, t0_);
    EXPECT_TRUE(c.has_partial_frame());
    EXPECT_EQ(c.unsent(), 0u);
  }
  c.OnInput(in.substr(in.size() - 1), service_, t0_);
  EXPECT_FALSE(c.has_partial_frame());
  EXPECT_GT(c.unsent(), 0u);
}

TEST_F(ConnectionTest, ShortSendKeepsTheTailAndJoinsNewOutput) {
  Connection c(3, 1 << 20, t0_);
  c.OnInput(Pings(1, 2), service_, t0_);
  std::string_view first = c.PrepareSend();
  ASSERT_EQ(first.size(), 24u);
  c.OnInput(Pings(3, 1), service_, t0_);  // arrives while the send is in flight
  EXPECT_EQ(first, Pings(1, 2)) << "the in-flight bytes do not change";
  c.OnSent(5, t0_);
  EXPECT_EQ(c.unsent(), 31u);
  EXPECT_EQ(c.PrepareSend(), Pings(1, 3).substr(5));
  c.OnSent(31, t0_);
  EXPECT_EQ(c.unsent(), 0u);
}

TEST_F(ConnectionTest, ProtocolErrorDrainsAndDropsTheRest) {
  Connection c(3, 1 << 20, t0_);
  std::string in = Pings(1, 1);
  protocol::FrameHeader bad;
  bad.version = 3;
  bad.opcode = protocol::kOpPing;
  bad.request_id = 2;
  protocol::AppendHeader(&in, bad);
  in += Pings(3, 1);
  c.OnInput(in, service_, t0_);
  EXPECT_TRUE(c.draining());
  EXPECT_EQ(c.drain_reason(), Reason::kProtocolError);
  EXPECT_FALSE(c.WantsRead());
  EXPECT_EQ(c.unsent(), 12u + 13u);
  c.OnInput(Pings(4, 1), service_, t0_);
  EXPECT_EQ(c.unsent(), 25u) << "nothing after the error is answered";
  EXPECT_FALSE(c.ShouldClose());
  c.PrepareSend();
  c.OnSent(25, t0_);
  EXPECT_TRUE(c.ShouldClose());
}

TEST_F(ConnectionTest, PeerCloseDropsThePartialFrameAndClosesOnceSent) {
  Connection c(3, 1 << 20, t0_);
  std::string in = Pings(1, 1) + Pings(2, 1).substr(0, 7);
  c.OnInput(in, service_, t0_);
  EXPECT_TRUE(c.has_partial_frame());
  c.OnPeerClosed(t0_);
  EXPECT_FALSE(c.has_partial_frame());
  EXPECT_EQ(c.drain_reason(), Reason::kPeerClosed);
  EXPECT_FALSE(c.ShouldClose());
  c.PrepareSend();
  c.OnSent(12, t0_);
  EXPECT_TRUE(c.ShouldClose());
}

TEST_F(ConnectionTest, ReadingPausesAboveTheCapAndResumesAtHalf) {
  Connection c(3, 100, t0_);
  c.OnInput(Pings(1, 8), service_, t0_);  // 96 unsent: at the cap, not above
  EXPECT_TRUE(c.WantsRead());
  c.OnInput(Pings(9, 1), service_, t0_);  // 108
  EXPECT_TRUE(c.paused());
  EXPECT_FALSE(c.WantsRead());
  EXPECT_EQ(c.pause_count(), 1u);
  c.PrepareSend();
  c.OnSent(50, t0_);  // 58 left: above half
  EXPECT_TRUE(c.paused());
  c.PrepareSend();
  c.OnSent(8, t0_);  // 50 left: half
  EXPECT_FALSE(c.paused());
  EXPECT_TRUE(c.WantsRead());
}

TEST_F(ConnectionTest, FrameTimeoutCountsFromTheFirstByteOfTheIncompleteFrame) {
  Connection c(3, 1 << 20, t0_);
  const std::string p = Pings(1, 1);
  c.OnInput(p.substr(0, 4), service_, t0_);
  EXPECT_EQ(c.CheckTimers(t0_ + 100ms, 100ms, 1s), Timer::kNone);
  // More bytes of the same frame do not restart the clock (a client
  // trickling one byte at a time cannot hold the connection forever).
  c.OnInput(p.substr(4, 4), service_, t0_ + 90ms);
  EXPECT_EQ(c.CheckTimers(t0_ + 101ms, 100ms, 1s), Timer::kFrameTimeout);
}

TEST_F(ConnectionTest, FrameTimeoutRestartsWithEachNewFrame) {
  Connection c(3, 1 << 20, t0_);
  const std::string two = Pings(1, 2);
  c.OnInput(two.substr(0, 6), service_, t0_);
  c.OnInput(two.substr(6, 10), service_, t0_ + 90ms);  // frame 1 done, frame 2 begun
  EXPECT_EQ(c.CheckTimers(t0_ + 150ms, 100ms, 1s), Timer::kNone);
  EXPECT_EQ(c.CheckTimers(t0_ + 191ms, 100ms, 1s), Timer::kFrameTimeout);
}

TEST_F(ConnectionTest, IdleConnectionWithoutPartialFrameNeverTimesOut) {
  Connection c(3, 1 << 20, t0_);
  c.OnInput(Pings(1, 1), service_, t0_);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h, 100ms, 1s), Timer::kNone);
}

TEST_F(ConnectionTest, TimeSpentPausedDoesNotCountTowardsTheFrameTimeout) {
  Connection c(3, 20, t0_);
  std::string in = Pings(1, 2) + Pings(3, 1).substr(0, 3);
  c.OnInput(in, service_, t0_);
  ASSERT_TRUE(c.paused());
  EXPECT_EQ(c.CheckTimers(t0_ + 1h, 100ms, 1s), Timer::kNone);
  c.PrepareSend();
  c.OnSent(24, t0_ + 1h);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 50ms, 100ms, 1s), Timer::kNone);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 101ms, 100ms, 1s), Timer::kFrameTimeout);
}

TEST_F(ConnectionTest, DrainTimeoutCountsFromTheFirstDrainReason) {
  Connection c(3, 1 << 20, t0_);
  c.OnInput(Pings(1, 1), service_, t0_);
  c.StartDrain(Reason::kStopping, t0_ + 10ms);
  c.StartDrain(Reason::kFrameTimeout, t0_ + 500ms);
  EXPECT_EQ(c.drain_reason(), Reason::kStopping);
  EXPECT_EQ(c.CheckTimers(t0_ + 1010ms, 100ms, 1s), Timer::kNone);
  EXPECT_EQ(c.CheckTimers(t0_ + 1011ms, 100ms, 1s), Timer::kDrainTimeout);
}

TEST_F(ConnectionTest, BytesArrivingWhilePausedAreHeldUnansweredUntilThePauseLifts) {
  Connection c(3, 20, t0_);
  c.OnInput(Pings(1, 2), service_, t0_);  // 24 unsent: paused
  ASSERT_TRUE(c.paused());
  // An io_uring receive already under way brings more: kept, not answered.
  c.OnInput(Pings(3, 2), service_, t0_);
  EXPECT_TRUE(c.has_held_input());
  EXPECT_EQ(c.unsent(), 2 * protocol::kHeaderSize);
  c.HandleHeld(service_, t0_);  // still paused: nothing happens
  EXPECT_EQ(c.unsent(), 2 * protocol::kHeaderSize);
  EXPECT_EQ(c.PrepareSend(), Pings(1, 2));
  c.OnSent(24, t0_);
  EXPECT_FALSE(c.paused());
  // Input arriving before HandleHeld() queues behind what is held.
  c.OnInput(Pings(5, 1), service_, t0_);
  c.HandleHeld(service_, t0_);
  EXPECT_FALSE(c.has_held_input());
  EXPECT_EQ(c.PrepareSend(), Pings(3, 3));
}

TEST_F(ConnectionTest, InputHeldBeforeTheEndOfStreamIsStillAnswered) {
  Connection c(3, 20, t0_);
  c.OnInput(Pings(1, 2), service_, t0_);
  c.OnInput(Pings(3, 1) + Pings(4, 1).substr(0, 5), service_, t0_);
  c.OnPeerClosed(t0_);
  c.PrepareSend();
  c.OnSent(24, t0_);
  c.HandleHeld(service_, t0_);
  EXPECT_EQ(c.PrepareSend(), Pings(3, 1));  // the incomplete frame is dropped
  c.OnSent(12, t0_);
  EXPECT_TRUE(c.ShouldClose());
}

TEST_F(ConnectionTest, ABudgetOverItsLimitTightensTheUnsentCap) {
  BufferBudget roomy(1 << 30);
  Connection a(3, 1 << 20, t0_, &roomy);
  a.OnInput(Pings(1, 400), service_, t0_);  // 4800 unsent
  EXPECT_FALSE(a.paused());
  EXPECT_GE(roomy.used(), 4800u);
  EXPECT_EQ(roomy.used(), a.buffered_bytes());

  BufferBudget tight(4096);
  Connection hog(4, 1 << 20, t0_, &tight);
  hog.OnInput(Pings(1, 400), service_, t0_);  // over the budget by itself
  ASSERT_TRUE(tight.over());
  EXPECT_TRUE(hog.paused());
  Connection c(5, 1 << 20, t0_, &tight);
  c.OnInput(Pings(1, 300), service_, t0_);  // 3600: under the tight cap
  EXPECT_FALSE(c.paused());
  c.OnInput(Pings(301, 100), service_, t0_);  // 4800: above it
  EXPECT_TRUE(c.paused());
  // Once its own output is down to half the tight cap, it reads again.
  c.PrepareSend();
  c.OnSent(4800 - 2048, t0_);
  EXPECT_FALSE(c.paused());
}

TEST_F(ConnectionTest, TheBudgetGetsEveryByteBackAtClose) {
  BufferBudget budget(0);
  {
    Connection c(3, 1 << 20, t0_, &budget);
    c.OnInput(Pings(1, 1000), service_, t0_);
    c.OnInput(Pings(1, 1).substr(0, 5), service_, t0_);
    EXPECT_GE(budget.used(), 12000u);
    EXPECT_FALSE(budget.over());  // no limit
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST_F(ConnectionTest, OutputThatDoesNotMoveIsAWriteStall) {
  Connection c(3, 1 << 20, t0_);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h, 10s, 5s, 500ms), Timer::kNone);  // nothing unsent
  c.OnInput(Pings(1, 2), service_, t0_ + 1h);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 500ms, 10s, 5s, 500ms), Timer::kNone);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 501ms, 10s, 5s, 500ms), Timer::kWriteStall);
  // Progress, even partial, restarts the clock.
  c.PrepareSend();
  c.OnSent(5, t0_ + 1h + 400ms);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 900ms, 10s, 5s, 500ms), Timer::kNone);
  EXPECT_EQ(c.CheckTimers(t0_ + 1h + 901ms, 10s, 5s, 500ms), Timer::kWriteStall);
  // Zero turns the check off.
  EXPECT_EQ(c.CheckTimers(t0_ + 2h, 10s, 5s, 0ms), Timer::kNone);
}

}  // namespace
}  // namespace tokend::server

// SPDX-License-Identifier: Apache-2.0
// Both event loops with two workers under clients on several threads, while
// another thread reads the counters: small enough for ThreadSanitizer.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/server/event_loop.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/require_io_uring.h"
#include "tests/server/loop_test_util.h"

namespace tokend::server::testing {
namespace {

class LoopConcurrencyTest : public ::testing::TestWithParam<LoopKind> {};

TEST_P(LoopConcurrencyTest, ClientsOnManyThreadsAllGetTheirOwnAnswers) {
  TempSocket sock;
  LoopOptions o;
  o.threads = 2;
  std::string skip;
  RunningLoop loop(GetParam(), sock.fd(), o, &skip);
  if (!skip.empty()) TOKEND_SKIP_IO_URING(skip);
  ASSERT_NE(loop.loop(), nullptr);

  constexpr int kThreads = 6;
  constexpr int kConnsPerThread = 3;
  constexpr int kRounds = 40;
  constexpr int kBatch = 8;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> answered{0};
  std::thread stats_reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      const LoopStats s = loop.stats();
      const uint64_t n = s.service.ping_requests + s.service.validate_requests;
      EXPECT_GE(n, last);
      last = n;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      std::vector<std::unique_ptr<Client>> conns;
      for (int k = 0; k < kConnsPerThread; ++k) {
        conns.push_back(std::make_unique<Client>(sock.path()));
      }
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kConnsPerThread; ++k) {
          std::string in;
          for (int b = 0; b < kBatch; ++b) {
            const uint32_t id = static_cast<uint32_t>((t << 20) | (k << 16) | (round * kBatch + b));
            const std::string sub = std::to_string(id);
            in += b % 2 ? Ping(id) : Validate(id, "ok:" + sub, "aud");
          }
          ASSERT_TRUE(conns[k]->Write(in));
        }
        for (int k = 0; k < kConnsPerThread; ++k) {
          auto rs = conns[k]->Read(kBatch);
          ASSERT_EQ(rs.size(), static_cast<size_t>(kBatch));
          for (int b = 0; b < kBatch; ++b) {
            const uint32_t id = static_cast<uint32_t>((t << 20) | (k << 16) | (round * kBatch + b));
            ASSERT_EQ(rs[b].header.request_id, id);
            if (b % 2 == 0) {
              ASSERT_EQ(DecodeValidate(rs[b]).subject, std::to_string(id));
            }
          }
          answered.fetch_add(kBatch);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  done = true;
  stats_reader.join();
  EXPECT_EQ(answered.load(), uint64_t{kThreads} * kConnsPerThread * kRounds * kBatch);
  const LoopStats s = loop.stats();
  EXPECT_EQ(s.service.ping_requests + s.service.validate_requests, answered.load());
  EXPECT_EQ(loop.validate_calls(), s.service.validate_requests);
  EXPECT_TRUE(loop.StopAndJoin().ok());
}

TEST_P(LoopConcurrencyTest, StopFromAnotherThreadWhileClientsAreBusy) {
  TempSocket sock;
  LoopOptions o;
  o.threads = 2;
  o.drain_timeout = std::chrono::milliseconds(2000);
  std::string skip;
  RunningLoop loop(GetParam(), sock.fd(), o, &skip);
  if (!skip.empty()) TOKEND_SKIP_IO_URING(skip);
  ASSERT_NE(loop.loop(), nullptr);
  std::atomic<bool> go{true};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      Client c(sock.path());
      uint32_t id = 0;
      // Round trips until the server closes the connection.
      while (go.load()) {
        if (!c.Write(Ping(id))) break;
        std::vector<Response> rs;
        if (!c.Read(1, &rs)) break;
        EXPECT_EQ(rs[0].header.request_id, id);
        ++id;
      }
      (void)t;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return loop.stats().service.ping_requests > 200; }));
  std::thread stopper([&] { loop.loop()->Stop(); });
  stopper.join();
  EXPECT_TRUE(loop.StopAndJoin().ok());
  go = false;
  for (auto& c : clients) c.join();
  EXPECT_EQ(loop.stats().connections_open, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothLoops, LoopConcurrencyTest,
                         ::testing::Values(LoopKind::kUring, LoopKind::kEpoll), KindName);

}  // namespace
}  // namespace tokend::server::testing

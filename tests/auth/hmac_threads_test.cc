// HmacKey is shared read-only between threads, each with its own
// HmacComputer: run under ThreadSanitizer, this shows that Compute writes
// nothing to the shared key, and every thread gets the right MAC.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "daemon/auth/hmac.h"

namespace tokend::auth {
namespace {

TEST(HmacThreadsTest, SharedKeysGiveCorrectMacsOnEveryThread) {
  const std::string secret(70, 'k');
  const auto span = std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  auto k256 = HmacKey::Create(Alg::kHS256, span);
  auto k512 = HmacKey::Create(Alg::kHS512, span);
  ASSERT_TRUE(k256.ok() && k512.ok());
  const std::string msg = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0aHJlYWRzIn0";
  uint8_t want256[32], want512[64];
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), want256, &len),
            nullptr);
  ASSERT_NE(HMAC(EVP_sha512(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), want512, &len),
            nullptr);

  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HmacComputer computer;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (int i = 0; i < kRounds; ++i) {
        if (!computer.Verify(**k256, msg, want256)) failures.fetch_add(1);
        if (!computer.Verify(**k512, msg, want512)) failures.fetch_add(1);
      }
    });
  }
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tokend::auth

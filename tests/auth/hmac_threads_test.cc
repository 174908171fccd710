// SPDX-License-Identifier: Apache-2.0
// HmacKey is shared read-only between threads, each with its own
// HmacComputer. To show that Compute writes nothing to a shared key, even
// inside OpenSSL (which sanitizers do not instrument), the keys' allocations
// (C++ and OpenSSL's) are placed in an arena that is made read-only while
// the threads run: any write to a key's state would fault.
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "daemon/auth/hmac.h"

namespace tokend::auth {
namespace {

// --- An arena for the keys' allocations (OpenSSL's and C++'s), switched on around key creation

// The replaced global operator new below takes its memory from malloc, so
// its operator delete gives it back with free: GCC's -Wmismatched-new-delete
// cannot tell that from the mistake it looks for once ArenaFree is inlined.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

constexpr size_t kArenaSize = size_t{1} << 20;
char* g_arena = nullptr;
size_t g_arena_used = 0;
std::atomic<bool> g_use_arena{false};

bool InArena(const void* p) {
  return g_arena != nullptr && p >= g_arena && p < g_arena + kArenaSize;
}

void* ArenaMalloc(size_t n, const char*, int) {
  if (!g_use_arena.load()) return std::malloc(n);
  const size_t need = (n + 2 * 16 + 15) & ~size_t{15};
  if (g_arena_used + need > kArenaSize) return nullptr;
  char* block = g_arena + g_arena_used;
  g_arena_used += need;
  std::memcpy(block, &n, sizeof n);  // the size, for realloc
  return block + 16;
}

void* ArenaRealloc(void* p, size_t n, const char* file, int line) {
  if (p == nullptr) return ArenaMalloc(n, file, line);
  if (!InArena(p)) return std::realloc(p, n);
  size_t old = 0;
  std::memcpy(&old, static_cast<char*>(p) - 16, sizeof old);
  void* q = ArenaMalloc(n, file, line);
  if (q != nullptr) std::memcpy(q, p, old < n ? old : n);
  return q;
}

void ArenaFree(void* p, const char*, int) {
  if (!InArena(p)) std::free(p);  // arena blocks are never reused
}

// Installed before main, before OpenSSL allocates anything.
const bool kArenaInstalled = [] {
  void* m = ::mmap(nullptr, kArenaSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return false;
  g_arena = static_cast<char*>(m);
  return CRYPTO_set_mem_functions(ArenaMalloc, ArenaRealloc, ArenaFree) == 1;
}();

}  // namespace
}  // namespace tokend::auth

// C++ allocations go to the arena too while it is switched on.
void* operator new(size_t n) {
  void* p = tokend::auth::ArenaMalloc(n == 0 ? 1 : n, nullptr, 0);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { tokend::auth::ArenaFree(p, nullptr, 0); }
void operator delete(void* p, size_t) noexcept { tokend::auth::ArenaFree(p, nullptr, 0); }

namespace tokend::auth {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HmacThreadsTest, SharedReadOnlyKeysGiveCorrectMacsOnEveryThread) {
  ASSERT_TRUE(kArenaInstalled) << "could not install OpenSSL memory functions";
  const std::string secret(70, 'k');
  const std::string msg = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0aHJlYWRzIn0";

  // Warm up OpenSSL's global and per-thread state outside the arena.
  ERR_clear_error();
  {
    auto warm = HmacKey::Create(Alg::kHS512, Bytes(secret));
    ASSERT_TRUE(warm.ok());
    HmacComputer c;
    uint8_t mac[kMaxMacSize];
    ASSERT_TRUE(c.Compute(**warm, msg, mac));
  }

  g_use_arena.store(true);
  auto k256 = HmacKey::Create(Alg::kHS256, Bytes(secret));
  auto k512 = HmacKey::Create(Alg::kHS512, Bytes(secret));
  g_use_arena.store(false);
  ASSERT_TRUE(k256.ok() && k512.ok());
  ASSERT_GT(g_arena_used, 0u) << "the keys' states were not allocated in the arena";

  uint8_t want256[32], want512[64];
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), want256, &len),
            nullptr);
  ASSERT_NE(HMAC(EVP_sha512(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), want512, &len),
            nullptr);

  ASSERT_EQ(::mprotect(g_arena, kArenaSize, PROT_READ), 0);
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
  ASSERT_EQ(::mprotect(g_arena, kArenaSize, PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tokend::auth

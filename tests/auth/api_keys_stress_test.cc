// SPDX-License-Identifier: Apache-2.0
// Concurrency stress for API keys: reader threads, each with its own
// Validator, look up tokens while a writer publishes key sets whose API key
// tables differ (a key added and removed, a subject changed). Meant to run
// under ThreadSanitizer (label `concurrency`): every answer must be one that
// some published set gives, with the subject of that set, never a mix.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/api_keys.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/validator.h"
#include "gtest/gtest.h"

namespace tokend::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int kReaders = 4;
constexpr int kSwaps = 500;
constexpr std::string_view kStable = "stable-token-0123456789";
constexpr std::string_view kRotating = "rotating-token-0123456789";

std::shared_ptr<const KeySet> SetWith(bool rotating, int generation) {
  std::vector<ApiKey> keys(rotating ? 2 : 1);
  keys[0].digest = ApiKeyDigestOf(kStable);
  keys[0].subject = "stable";
  if (rotating) {
    keys[1].digest = ApiKeyDigestOf(kRotating);
    // Two subjects in turn: a reader must see one of them whole.
    keys[1].subject = generation % 4 == 1 ? "rotating-a" : "rotating-b";
  }
  absl::StatusOr<std::shared_ptr<const ApiKeyTable>> table = ApiKeyTable::Build(std::move(keys));
  EXPECT_TRUE(table.ok());
  return KeySet::Make(Keyring::Empty(), RevocationList::Empty(), table.ok() ? *table : nullptr);
}

TEST(ApiKeysStressTest, ReadersSeeWholeKeySetsWhileTablesAreSwapped) {
  // Without the rotating key; with it as "rotating-a"; without; as "rotating-b".
  const std::shared_ptr<const KeySet> sets[4] = {SetWith(false, 0), SetWith(true, 1),
                                                 SetWith(false, 2), SetWith(true, 3)};
  KeySetPublisher publisher(sets[1]);
  Policy policy;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad{0}, lookups{0}, rotating_ok{0}, rotating_unknown{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      Validator v(policy, publisher, nullptr);
      while (!done.load(std::memory_order_acquire)) {
        ValidationResult s = v.Validate(kStable, "", false, kNow);
        if (s.status != Status::kOk || s.subject != "stable") bad.fetch_add(1);
        ValidationResult r = v.Validate(kRotating, "", false, kNow);
        if (r.status == Status::kOk) {
          if (r.subject != "rotating-a" && r.subject != "rotating-b") bad.fetch_add(1);
          rotating_ok.fetch_add(1, std::memory_order_relaxed);
        } else if (r.status == Status::kUnknownToken) {
          rotating_unknown.fetch_add(1, std::memory_order_relaxed);
        } else {
          bad.fetch_add(1);
        }
        lookups.fetch_add(2, std::memory_order_relaxed);
      }
    });
  }
  for (int g = 2; g < kSwaps; ++g) {
    publisher.Publish(sets[g % 4]);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(rotating_ok.load() + rotating_unknown.load(), 0u);
}

}  // namespace
}  // namespace tokend::auth

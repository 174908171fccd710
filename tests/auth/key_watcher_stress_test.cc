// SPDX-License-Identifier: Apache-2.0
// key_watcher_stress_test.cc
//
// Readers validating continuously while the watcher swaps the key set
// hundreds of times, meant to run under ThreadSanitizer (label concurrency).
// A request must never fail because of a swap, never see a set older than
// one it already saw, and never see keys from one set with the revocation
// list of another.
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/key_watcher.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/verifier.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int64_t kNow = 1800000000;
constexpr int kGenerations = 300;
constexpr int kReaders = 2;
constexpr std::string_view kStableSecret = "stable-secret-present-in-every-generation-0123";

std::string GenKid(int n) { return absl::StrCat("gen-", n); }
std::string GenSecret(int n) {
  return absl::StrCat("generation-", n, "-secret-0123456789abcdef0123");
}

std::string Jwk(const std::string& kid, std::string_view secret) {
  return absl::StrCat(R"({"kty":"oct","alg":"HS256","kid":")", kid, R"(","k":")",
                      Base64UrlEncode(secret), R"("})");
}

// A JWK Set holding the stable key and generation n's key.
std::string GenJwks(int n) {
  return absl::StrCat(R"({"keys":[)", Jwk("stable", kStableSecret), ",",
                      Jwk(GenKid(n), GenSecret(n)), "]}");
}

void WriteByRename(const fs::path& path, std::string_view bytes) {
  fs::path tmp = path.parent_path() / absl::StrCat(".", path.filename().string(), ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  fs::rename(tmp, path);
}

std::string Token(std::string_view kid, std::string_view secret, std::string_view jti) {
  return MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, kid),
                   absl::StrCat(R"({"exp":4102444800,"jti":)", JsonQuote(jti), "}"), secret);
}

// The generation number of the one `gen-N` key in `keys`, or -1.
int GenerationOf(const Keyring& keys) {
  int found = -1;
  for (const auto& key : keys.keys()) {
    std::string_view kid = key->kid;
    if (!kid.starts_with("gen-")) continue;
    if (found != -1) return -1;  // two generations in one set
    kid.remove_prefix(4);
    std::from_chars(kid.data(), kid.data() + kid.size(), found);
  }
  return found;
}

class KeyWatcherStressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "key_watcher_stress.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    keys_ = root_ / "keys";
    fs::create_directory(keys_);
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void Start(KeyWatcherOptions options) {
    options.log = [](LogLevel, std::string_view) {};
    absl::StatusOr<std::shared_ptr<const KeySet>> initial = LoadKeySet(options, nullptr);
    ASSERT_TRUE(initial.ok()) << initial.status();
    publisher_ = std::make_unique<KeySetPublisher>(*initial);
    absl::StatusOr<std::unique_ptr<KeyWatcher>> w = KeyWatcher::Create(options, publisher_.get());
    ASSERT_TRUE(w.ok()) << w.status();
    watcher_ = *std::move(w);
  }

  fs::path root_;
  fs::path keys_;
  Policy policy_;
  std::unique_ptr<KeySetPublisher> publisher_;
  std::unique_ptr<KeyWatcher> watcher_;
};

// inotify and explicit reloads race each other while the key file is
// replaced 300 times; a token signed by the key present in every
// generation must verify on every single request.
TEST_F(KeyWatcherStressTest, SwapsNeverFailARequestNorGoBackwards) {
  WriteByRename(keys_ / "keys.json", GenJwks(0));
  KeyWatcherOptions options;
  options.keys_path = keys_.string();
  options.coalesce = milliseconds(1);
  options.poll_interval = milliseconds(0);
  Start(options);

  const std::string stable_token = Token("stable", kStableSecret, "j");
  std::atomic<bool> done{false};
  std::atomic<uint64_t> requests{0}, failures{0}, torn{0}, backwards{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      KeySetReader reader(*publisher_);
      Verifier verifier(policy_);
      VerifyResult result;
      int last = 0;
      while (!done.load(std::memory_order_relaxed)) {
        const KeySet& set = reader.Get();
        verifier.Verify(stable_token, "", set, kNow, &result);
        if (result.status != Status::kOk) failures.fetch_add(1);
        int gen = GenerationOf(*set.keys);
        if (gen < 0 || set.keys->size() != 2) torn.fetch_add(1);
        if (gen < last) backwards.fetch_add(1);
        if (gen > last) last = gen;
        requests.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::thread stats_reader([&] {
    uint64_t last_reloads = 0;
    while (!done.load(std::memory_order_relaxed)) {
      KeyWatcherStats s = watcher_->stats();
      EXPECT_GE(s.reloads, last_reloads);
      last_reloads = s.reloads;
      std::this_thread::yield();
    }
  });

  for (int n = 1; n <= kGenerations; ++n) {
    WriteByRename(keys_ / "keys.json", GenJwks(n));
    if (n % 3 == 0) {
      EXPECT_TRUE(watcher_->ReloadAndWait().ok());
    }
  }
  // The last write may still be in its coalescing window.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (GenerationOf(*publisher_->Current()->keys) != kGenerations &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  done = true;
  for (std::thread& t : readers) t.join();
  stats_reader.join();

  EXPECT_EQ(GenerationOf(*publisher_->Current()->keys), kGenerations);
  EXPECT_GT(requests.load(), 0u);
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  KeyWatcherStats s = watcher_->stats();
  EXPECT_EQ(s.reload_failures, 0u);
  EXPECT_GE(s.reloads, static_cast<uint64_t>(kGenerations / 3));
  EXPECT_EQ(s.keys_loaded, 2u);
}

// The reload outcome (/healthz reads it from any thread) flips between
// failed and good while the thread's polls and ReloadAndWait() race: every
// stats snapshot must be whole (a failure with its reason and start time,
// or a good load with neither), and the keys in force must keep verifying.
TEST_F(KeyWatcherStressTest, ReloadOutcomeIsReadWholeWhileItFlips) {
  WriteByRename(keys_ / "keys.json", GenJwks(0));
  KeyWatcherOptions options;
  options.keys_path = keys_.string();
  options.coalesce = milliseconds(1);
  options.poll_interval = milliseconds(1);
  std::atomic<int64_t> clock{1};
  options.wall_clock = [&clock] { return clock.fetch_add(1, std::memory_order_relaxed); };
  Start(options);

  const std::string stable_token = Token("stable", kStableSecret, "j");
  std::atomic<bool> done{false};
  std::atomic<uint64_t> torn{0}, failures{0}, seen_failed{0}, seen_good{0};
  std::thread stats_reader([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const KeyWatcherStats s = watcher_->stats();
      if (s.last_load_failed) {
        seen_failed.fetch_add(1, std::memory_order_relaxed);
        if (s.last_failure.find("short") == std::string::npos || s.failing_since_unix == 0) {
          torn.fetch_add(1);
        }
      } else {
        seen_good.fetch_add(1, std::memory_order_relaxed);
        if (!s.last_failure.empty() || s.failing_since_unix != 0) torn.fetch_add(1);
      }
      if (s.last_good_load_unix == 0) torn.fetch_add(1);
    }
  });
  std::thread reader([&] {
    KeySetReader keys(*publisher_);
    Verifier verifier(policy_);
    VerifyResult result;
    while (!done.load(std::memory_order_relaxed)) {
      verifier.Verify(stable_token, "", keys.Get(), kNow, &result);
      if (result.status != Status::kOk) failures.fetch_add(1);
    }
  });

  for (int n = 1; n <= 100; ++n) {
    WriteByRename(keys_ / "short", "too-short");
    EXPECT_FALSE(watcher_->ReloadAndWait().ok());
    fs::remove(keys_ / "short");
    WriteByRename(keys_ / "keys.json", GenJwks(n));
    EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  }
  done = true;
  stats_reader.join();
  reader.join();

  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_GT(seen_good.load() + seen_failed.load(), 0u);
  const KeyWatcherStats s = watcher_->stats();
  EXPECT_FALSE(s.last_load_failed);
  EXPECT_GE(s.reload_failures, 1u);
  EXPECT_EQ(GenerationOf(*publisher_->Current()->keys), 100);
}

// Generation n publishes key `gen-n` together with a revocation list that
// holds exactly `gen-n`: every set a reader sees must carry one marker in
// both halves, and a token with jti `gen-n` signed by key `gen-n` must be
// refused as revoked (its signature checked against the keyring, its jti
// against the list, both from one set).
TEST_F(KeyWatcherStressTest, ReadersNeverSeeKeysAndRevocationsFromDifferentSets) {
  fs::path revoked = root_ / "revoked";
  WriteByRename(keys_ / "keys.json", GenJwks(0));
  WriteByRename(revoked, GenKid(0) + "\n");
  KeyWatcherOptions options;
  options.keys_path = keys_.string();
  options.revoked_path = revoked.string();
  // The files change in two steps; only the writer's own reloads, made once
  // both are written, may read them.
  options.use_inotify = false;
  options.poll_interval = milliseconds(0);
  Start(options);

  std::vector<std::string> tokens;
  for (int n = 0; n <= kGenerations; ++n) {
    tokens.push_back(Token(GenKid(n), GenSecret(n), GenKid(n)));
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> requests{0}, torn{0}, not_revoked{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      KeySetReader reader(*publisher_);
      Verifier verifier(policy_);
      VerifyResult result;
      while (!done.load(std::memory_order_relaxed)) {
        const KeySet& set = reader.Get();
        int gen = GenerationOf(*set.keys);
        if (gen < 0 || gen > kGenerations || set.revoked->size() != 1 ||
            !set.revoked->IsRevoked("", GenKid(gen))) {
          torn.fetch_add(1);
          continue;
        }
        verifier.Verify(tokens[gen], "", set, kNow, &result);
        if (result.status != Status::kRevoked) not_revoked.fetch_add(1);
        requests.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  for (int n = 1; n <= kGenerations; ++n) {
    WriteByRename(keys_ / "keys.json", GenJwks(n));
    WriteByRename(revoked, absl::StrCat("# generation ", n, "\n", GenKid(n), "\n"));
    if (absl::Status st = watcher_->ReloadAndWait(); !st.ok()) {
      ADD_FAILURE() << st;  // and still stop the readers below
      break;
    }
  }
  done = true;
  for (std::thread& t : readers) t.join();

  EXPECT_GT(requests.load(), 0u);
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(not_revoked.load(), 0u);
  EXPECT_EQ(watcher_->stats().reloads, static_cast<uint64_t>(kGenerations));
  EXPECT_EQ(publisher_->generation(), static_cast<uint64_t>(kGenerations));
}

}  // namespace
}  // namespace tokend::auth

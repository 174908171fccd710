// SPDX-License-Identifier: Apache-2.0
// key_watcher_test.cc
//
// The watcher against real directories and real inotify. Every test waits
// on a condition with a deadline instead of sleeping; the deadline is only
// reached when the watcher is broken. Unless a test says otherwise, the
// backstop poll is off, so what a test sees came through inotify.
#include "daemon/auth/key_watcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/verifier.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int64_t kNow = 1800000000;
constexpr auto kDeadline = std::chrono::seconds(20);

// A distinct secret of at least 32 bytes per name.
std::string SecretFor(const std::string& name) {
  return absl::StrCat("test-secret-for-", name, "-0123456789abcdef0123456789");
}

// Writes `bytes` to `path` in place: truncate, write, close.
void WriteInPlace(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  ASSERT_TRUE(out.good()) << path;
}

// Writes `bytes` to a hidden temporary in the same directory, then renames
// it over `path`: the way editors, kubectl and config managers save.
void WriteByRename(const fs::path& path, std::string_view bytes) {
  fs::path tmp = path.parent_path() / absl::StrCat(".", path.filename().string(), ".tmp");
  WriteInPlace(tmp, bytes);
  fs::rename(tmp, path);
}

// Waits until `done` holds or the deadline passes; true when it held.
bool WaitFor(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

class KeyWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "key_watcher_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    keys_ = root_ / "keys";
    fs::create_directory(keys_);
  }

  void TearDown() override {
    watcher_.reset();
    // Whatever happened, no log line may carry a secret.
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const std::string& line : log_) {
      for (const std::string& secret : secrets_) {
        EXPECT_EQ(line.find(secret), std::string::npos) << "secret in log line: " << line;
      }
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  KeyWatcherOptions Options(const fs::path& keys_path) {
    KeyWatcherOptions o;
    o.keys_path = keys_path.string();
    o.coalesce = milliseconds(10);
    o.poll_interval = milliseconds(0);
    o.log = [this](LogLevel level, std::string_view line) {
      std::function<void()> hook;
      {
        std::lock_guard<std::mutex> lock(log_mu_);
        log_.emplace_back(line);
        if (level == LogLevel::kError) ++errors_logged_;
        hook = log_hook_;
      }
      if (hook) hook();
    };
    return o;
  }

  // Loads the initial set and starts a watcher over it.
  void Start(KeyWatcherOptions options) {
    absl::StatusOr<std::shared_ptr<const KeySet>> initial = LoadKeySet(options, nullptr);
    ASSERT_TRUE(initial.ok()) << initial.status();
    publisher_ = std::make_unique<KeySetPublisher>(*initial);
    absl::StatusOr<std::unique_ptr<KeyWatcher>> w = KeyWatcher::Create(options, publisher_.get());
    ASSERT_TRUE(w.ok()) << w.status();
    watcher_ = *std::move(w);
  }

  // Writes a raw key file named `kid` by rename and remembers its secret.
  void AddKey(const fs::path& dir, const std::string& kid, std::string secret = "") {
    if (secret.empty()) secret = SecretFor(kid);
    secrets_.push_back(secret);
    WriteByRename(dir / kid, secret);
  }

  // The status the current published set gives a fresh token with `kid`,
  // signed with `secret` (default: SecretFor(kid)) and carrying `jti`.
  Status Verify(const std::string& kid, std::string secret = "", std::string_view jti = "j0") {
    if (secret.empty()) secret = SecretFor(kid);
    std::string token =
        MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, kid),
                  absl::StrCat(R"({"exp":4102444800,"jti":)", JsonQuote(jti), "}"), secret);
    VerifyResult result;
    verifier_.Verify(token, "", *publisher_->Current(), kNow, &result);
    return result.status;
  }

  bool Verifies(const std::string& kid, std::string secret = "") {
    return Verify(kid, std::move(secret)) == Status::kOk;
  }

  bool LogHas(std::string_view needle) {
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const std::string& line : log_) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  fs::path root_;
  fs::path keys_;
  Policy policy_;
  Verifier verifier_{policy_};
  std::unique_ptr<KeySetPublisher> publisher_;
  std::unique_ptr<KeyWatcher> watcher_;
  std::vector<std::string> secrets_;

  std::mutex log_mu_;
  std::vector<std::string> log_;
  int errors_logged_ = 0;
  std::function<void()> log_hook_;  // runs after each log line, unlocked
};

TEST_F(KeyWatcherTest, KeyAddedByAtomicRenameBecomesUsable) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  EXPECT_EQ(Verify("k2"), Status::kUnknownKey);

  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_TRUE(Verifies("k1"));
  KeyWatcherStats s = watcher_->stats();
  EXPECT_GE(s.reloads, 1u);
  EXPECT_EQ(s.keys_loaded, 2u);
  EXPECT_EQ(s.reload_failures, 0u);
  EXPECT_TRUE(LogHas("added k2"));
}

TEST_F(KeyWatcherTest, RemovedKeyStopsVerifying) {
  AddKey(keys_, "k1");
  AddKey(keys_, "k2");
  Start(Options(keys_));
  ASSERT_TRUE(Verifies("k2"));

  fs::remove(keys_ / "k2");
  ASSERT_TRUE(WaitFor([&] { return Verify("k2") == Status::kUnknownKey; }));
  EXPECT_TRUE(Verifies("k1"));
  EXPECT_EQ(watcher_->stats().keys_loaded, 1u);
}

TEST_F(KeyWatcherTest, FileRewrittenInPlaceReplacesTheKey) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  std::string next = SecretFor("k1-rotated");
  secrets_.push_back(next);

  WriteInPlace(keys_ / "k1", next);
  ASSERT_TRUE(WaitFor([&] { return Verifies("k1", next); }));
  EXPECT_EQ(Verify("k1"), Status::kBadSignature);  // the old bytes no longer sign
}

TEST_F(KeyWatcherTest, EditorSaveThroughTempFileAndRenameReplacesTheKey) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  std::string next = SecretFor("k1-edited");
  secrets_.push_back(next);

  // As gedit and GIO do: a hidden temporary, then a rename over the target.
  fs::path tmp = keys_ / ".goutputstream-7QX2K1";
  WriteInPlace(tmp, next);
  fs::rename(tmp, keys_ / "k1");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k1", next); }));
  EXPECT_EQ(Verify("k1"), Status::kBadSignature);
}

TEST_F(KeyWatcherTest, AttributeChangeWithSameBytesPublishesNothing) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  uint64_t generation = publisher_->generation();

  fs::permissions(keys_ / "k1", fs::perms::owner_read, fs::perm_options::replace);
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().unchanged_loads >= 1; }));
  EXPECT_EQ(publisher_->generation(), generation);
  EXPECT_EQ(watcher_->stats().reloads, 0u);
  EXPECT_TRUE(Verifies("k1"));
}

// Kubernetes' atomic_writer (pkg/volume/util/atomic_writer.go): the payload
// goes to a new timestamped directory, a `..data_tmp` link to it is renamed
// over `..data`, user-visible links `k -> ..data/k` are added or removed,
// and the old directory is deleted.
class KubernetesSecretVolume {
 public:
  explicit KubernetesSecretVolume(fs::path dir) : dir_(std::move(dir)) {}

  void Write(const std::vector<std::pair<std::string, std::string>>& payload) {
    fs::path ts = dir_ / absl::StrCat("..2026_11_23_10_00_00.", 100 + serial_++);
    fs::create_directory(ts);
    for (const auto& [name, bytes] : payload) WriteInPlace(ts / name, bytes);
    fs::path old_ts;
    if (fs::is_symlink(dir_ / "..data")) old_ts = dir_ / fs::read_symlink(dir_ / "..data");
    fs::create_directory_symlink(ts.filename(), dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    for (const auto& [name, bytes] : payload) {
      if (!fs::is_symlink(dir_ / name)) fs::create_symlink(fs::path("..data") / name, dir_ / name);
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {
      std::string name = entry.path().filename().string();
      bool wanted = name.starts_with(".");
      for (const auto& [n, b] : payload) wanted = wanted || n == name;
      if (!wanted) fs::remove(entry.path());
    }
    if (!old_ts.empty()) fs::remove_all(old_ts);
  }

 private:
  fs::path dir_;
  int serial_ = 0;
};

TEST_F(KeyWatcherTest, KubernetesSecretUpdateSwapsTheKeys) {
  KubernetesSecretVolume volume(keys_);
  std::string k1_next = SecretFor("k1-next");
  secrets_ = {SecretFor("k1"), SecretFor("k2"), k1_next};
  volume.Write({{"k1", SecretFor("k1")}});
  Start(Options(keys_));
  ASSERT_TRUE(Verifies("k1"));

  volume.Write({{"k1", k1_next}, {"k2", SecretFor("k2")}});
  ASSERT_TRUE(WaitFor([&] { return Verifies("k1", k1_next) && Verifies("k2"); }));
  EXPECT_EQ(Verify("k1"), Status::kBadSignature);

  volume.Write({{"k1", k1_next}});
  // Between the swap and the removal of the `k2` link, the link dangles, as
  // it does under the kubelet; a reload landing there fails and the next
  // event (the removal) recovers, so failures are not asserted here.
  ASSERT_TRUE(WaitFor([&] { return Verify("k2") == Status::kUnknownKey; }));
  EXPECT_TRUE(Verifies("k1", k1_next));
}

TEST_F(KeyWatcherTest, KeysFileInsideKubernetesSecretFollowsTheDataSwap) {
  KubernetesSecretVolume volume(keys_);
  std::string next = SecretFor("api-next");
  secrets_ = {SecretFor("api"), next};
  volume.Write({{"api", SecretFor("api")}});
  // --keys names the visible link; only `..data` changes on an update.
  Start(Options(keys_ / "api"));
  ASSERT_TRUE(Verifies("api"));

  volume.Write({{"api", next}});
  ASSERT_TRUE(WaitFor([&] { return Verifies("api", next); }));
}

struct BadKeyCase {
  const char* name;
  const char* file;
  std::string bytes;
};

class KeyWatcherBadKeyTest : public KeyWatcherTest,
                             public ::testing::WithParamInterface<BadKeyCase> {};

TEST_P(KeyWatcherBadKeyTest, BadFileKeepsOldKeysAndCountsUntilFixed) {
  const BadKeyCase& bad = GetParam();
  AddKey(keys_, "k1");
  Start(Options(keys_));
  secrets_.push_back(bad.bytes);

  WriteByRename(keys_ / bad.file, bad.bytes);
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().reload_failures >= 1; }));
  EXPECT_TRUE(Verifies("k1"));
  EXPECT_EQ(watcher_->stats().keys_loaded, 1u);
  EXPECT_EQ(watcher_->stats().reloads, 0u);
  EXPECT_TRUE(LogHas(bad.file)) << "the failure names the file";
  // The outcome is in the stats for /healthz: why, naming the file, and
  // never the bad file's bytes.
  KeyWatcherStats st = watcher_->stats();
  EXPECT_TRUE(st.last_load_failed);
  EXPECT_NE(st.last_failure.find(bad.file), std::string::npos) << st.last_failure;
  EXPECT_EQ(st.last_failure.find(bad.bytes), std::string::npos) << st.last_failure;
  EXPECT_NE(st.failing_since_unix, 0);

  // Fixing the file recovers; k2 arrives in the same reload.
  fs::remove(keys_ / bad.file);
  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_TRUE(Verifies("k1"));
  EXPECT_GE(watcher_->stats().reloads, 1u);
  st = watcher_->stats();
  EXPECT_FALSE(st.last_load_failed);
  EXPECT_EQ(st.last_failure, "");
  EXPECT_EQ(st.failing_since_unix, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Files, KeyWatcherBadKeyTest,
    ::testing::Values(BadKeyCase{"ShortKey", "short", "only-16-bytes-xx"},
                      BadKeyCase{"NacosDefaultSecret", "nacos",
                                 "SecretKey012345678901234567890123456789012345678901234567890123"
                                 "456789"},
                      BadKeyCase{"BrokenJwks", "broken.json", R"({"keys":[{"kty":"oct","k":)"},
                      BadKeyCase{"BadBase64", "bad.b64", "not*base64*at*all*but*long*enough**"}),
    [](const ::testing::TestParamInfo<BadKeyCase>& param) {
      return std::string(param.param.name);
    });

TEST_F(KeyWatcherTest, DirectoryDeletedAndRecreatedIsWatchedAgain) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  // remove_all() empties the directory before removing it; the long quiet
  // time keeps the reload from landing between the two.
  options.coalesce = milliseconds(200);
  Start(options);

  fs::remove_all(keys_);
  // The vanished directory is a failed load, not an empty keyring.
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().reload_failures >= 1; }));
  EXPECT_TRUE(Verifies("k1"));

  fs::create_directory(keys_);
  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_EQ(Verify("k1"), Status::kUnknownKey);

  // Events in the new directory arrive: the watch is on it, not the old one.
  AddKey(keys_, "k3");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k3"); }));
}

TEST_F(KeyWatcherTest, KeysDirectoryCreatedAfterStartIsWatched) {
  // As the daemon starts when --keys does not exist yet: an empty keyring.
  fs::remove(keys_);
  publisher_ =
      std::make_unique<KeySetPublisher>(KeySet::Make(Keyring::Empty(), RevocationList::Empty()));
  absl::StatusOr<std::unique_ptr<KeyWatcher>> w =
      KeyWatcher::Create(Options(keys_), publisher_.get());
  ASSERT_TRUE(w.ok()) << w.status();
  watcher_ = *std::move(w);

  fs::create_directory(keys_);
  AddKey(keys_, "k1");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k1"); }));
  // Later changes inside the new directory are seen too.
  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
}

TEST_F(KeyWatcherTest, DirectoryMovedAsideAndReplacedIsWatchedAgain) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  fs::path next = root_ / "keys.next";
  fs::create_directory(next);
  AddKey(next, "k2");

  fs::rename(keys_, root_ / "keys.old");
  fs::rename(next, keys_);
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2") && Verify("k1") == Status::kUnknownKey; }));

  AddKey(keys_, "k3");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k3"); }));
}

TEST_F(KeyWatcherTest, InjectedOverflowReloadsEverything) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  options.use_inotify = false;  // nothing but the overflow can cause a reload
  Start(options);
  AddKey(keys_, "k2");

  watcher_->InjectOverflowForTesting();
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_EQ(watcher_->stats().overflows, 1u);
  EXPECT_TRUE(LogHas("overflow"));
}

// A real overflow: the watcher thread is held inside a reload (in the log
// callback) while this thread queues more events than
// fs.inotify.max_queued_events allows; the change made after that is only
// announced by IN_Q_OVERFLOW.
TEST_F(KeyWatcherTest, RealQueueOverflowReloadsEverything) {
  long max_queued = 0;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> max_queued;
  if (max_queued <= 0 || max_queued > 200000) {
    GTEST_SKIP() << "fs.inotify.max_queued_events is " << max_queued
                 << "; too large to overflow quickly";
  }
  AddKey(keys_, "k1");
  Start(Options(keys_));

  std::mutex mu;
  std::condition_variable cv;
  bool held = false, release = false;
  const std::thread::id test_thread = std::this_thread::get_id();
  // Whatever happens below, let the watcher thread go and stop it before
  // the variables its hook uses go out of scope.
  struct Cleanup {
    std::function<void()> run;
    ~Cleanup() { run(); }
  } cleanup{[&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    watcher_.reset();
  }};
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    log_hook_ = [&] {
      if (std::this_thread::get_id() == test_thread) return;
      std::unique_lock<std::mutex> hold(mu);
      if (release) return;
      held = true;
      cv.notify_all();
      cv.wait(hold, [&] { return release; });
    };
  }
  AddKey(keys_, "k2");  // its reload logs, and the hook holds the thread there
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return held; }));
  }
  // Each round queues IN_CREATE, IN_CLOSE_WRITE and IN_DELETE.
  for (long i = 0; i <= max_queued / 3 + 1; ++i) {
    int fd = ::open((keys_ / ".flood").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ::unlink((keys_ / ".flood").c_str());
  }
  AddKey(keys_, "k3");  // its events are dropped
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return Verifies("k3") && watcher_->stats().overflows >= 1; }));
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    log_hook_ = nullptr;
  }
  // And the watch still works afterwards.
  AddKey(keys_, "k4");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k4"); }));
}

TEST_F(KeyWatcherTest, BackstopPollCatchesChangeWithoutInotify) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  options.use_inotify = false;
  options.poll_interval = milliseconds(20);
  Start(options);
  uint64_t generation = publisher_->generation();

  // Polls that find the same bytes publish nothing.
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().unchanged_loads >= 2; }));
  EXPECT_EQ(publisher_->generation(), generation);

  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_EQ(watcher_->stats().reloads, 1u);
}

TEST_F(KeyWatcherTest, BackstopPollCountsAPersistentFailureOnce) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  options.use_inotify = false;
  options.poll_interval = milliseconds(5);
  Start(options);

  WriteByRename(keys_ / "short", "too-short");
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().reload_failures >= 1; }));
  uint64_t polls = watcher_->stats().polls;
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().polls >= polls + 3; }));
  EXPECT_EQ(watcher_->stats().reload_failures, 1u);

  // The fix is still seen, and the count stays.
  AddKey(keys_, "k2");
  fs::remove(keys_ / "short");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
  EXPECT_EQ(watcher_->stats().reload_failures, 1u);
  std::lock_guard<std::mutex> lock(log_mu_);
  EXPECT_EQ(errors_logged_, 1);
}

TEST_F(KeyWatcherTest, ReloadNowAndReloadAndWaitWithoutInotify) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  options.use_inotify = false;
  Start(options);

  AddKey(keys_, "k2");
  watcher_->ReloadNow();
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));

  uint64_t generation = publisher_->generation();
  EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  EXPECT_EQ(publisher_->generation(), generation) << "an identical set is not published";

  WriteByRename(keys_ / "short", "too-short");
  absl::Status s = watcher_->ReloadAndWait();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("short"), std::string_view::npos) << s;
  EXPECT_EQ(watcher_->stats().reload_failures, 1u);
  EXPECT_TRUE(Verifies("k2"));

  fs::remove(keys_ / "short");
  fs::remove(keys_ / "k1");
  EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  EXPECT_EQ(Verify("k1"), Status::kUnknownKey);
}

TEST_F(KeyWatcherTest, RevocationFileChangesAreWatched) {
  AddKey(keys_, "k1");
  fs::path revoked_dir = root_ / "revoked";
  fs::create_directory(revoked_dir);
  WriteByRename(revoked_dir / "list", "# nothing revoked yet\n");
  KeyWatcherOptions options = Options(keys_);
  options.revoked_path = (revoked_dir / "list").string();
  Start(options);
  EXPECT_EQ(Verify("k1", "", "jti-7"), Status::kOk);

  WriteByRename(revoked_dir / "list", "# incident 42\n\njti-7\n  jti-8  \n");
  ASSERT_TRUE(WaitFor([&] { return Verify("k1", "", "jti-7") == Status::kRevoked; }));
  EXPECT_EQ(Verify("k1", "", "jti-8"), Status::kRevoked);
  EXPECT_EQ(Verify("k1", "", "jti-9"), Status::kOk);
  EXPECT_EQ(watcher_->stats().revoked_entries, 2u);

  // An unreadable list is a failed load: the current list stays.
  fs::remove(revoked_dir / "list");
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().reload_failures >= 1; }));
  EXPECT_EQ(Verify("k1", "", "jti-7"), Status::kRevoked);
}

TEST_F(KeyWatcherTest, KeysAndRevocationInOneDirectoryShareAWatch) {
  AddKey(keys_, "k1");
  WriteByRename(keys_ / ".revoked", "");
  KeyWatcherOptions options = Options(keys_);
  options.revoked_path = (keys_ / ".revoked").string();  // a dot file is not a key
  Start(options);

  WriteByRename(keys_ / ".revoked", "jti-1\n");
  ASSERT_TRUE(WaitFor([&] { return Verify("k1", "", "jti-1") == Status::kRevoked; }));
  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return Verifies("k2"); }));
}

TEST_F(KeyWatcherTest, StatsRecordWallClockOfLastReload) {
  AddKey(keys_, "k1");
  KeyWatcherOptions options = Options(keys_);
  std::atomic<int64_t> clock{1000};
  options.wall_clock = [&clock] { return clock.load(); };
  Start(options);
  EXPECT_EQ(watcher_->stats().last_reload_unix, 1000);

  clock = 2000;
  AddKey(keys_, "k2");
  ASSERT_TRUE(WaitFor([&] { return watcher_->stats().reloads >= 1; }));
  EXPECT_EQ(watcher_->stats().last_reload_unix, 2000);
}

// While the set on disk does not load, removing a compromised key changes
// nothing; the stats say so, with the times a probe needs, until it loads.
TEST_F(KeyWatcherTest, FailedLoadIsReportedUntilAGoodLoad) {
  AddKey(keys_, "k1");
  AddKey(keys_, "compromised");
  KeyWatcherOptions options = Options(keys_);
  options.use_inotify = false;
  std::atomic<int64_t> clock{1000};
  options.wall_clock = [&clock] { return clock.load(); };
  Start(options);
  KeyWatcherStats st = watcher_->stats();
  EXPECT_FALSE(st.last_load_failed);
  EXPECT_EQ(st.last_good_load_unix, 1000);
  EXPECT_EQ(st.failing_since_unix, 0);

  clock = 2000;
  WriteByRename(keys_ / "short", "too-short");
  fs::remove(keys_ / "compromised");
  EXPECT_FALSE(watcher_->ReloadAndWait().ok());
  EXPECT_TRUE(Verifies("compromised")) << "a failed load changes nothing";
  st = watcher_->stats();
  EXPECT_TRUE(st.last_load_failed);
  EXPECT_NE(st.last_failure.find(keys_.string() + "/short"), std::string::npos) << st.last_failure;
  EXPECT_EQ(st.last_failure.find("too-short"), std::string::npos) << st.last_failure;
  EXPECT_EQ(st.failing_since_unix, 2000);
  EXPECT_EQ(st.last_good_load_unix, 1000);

  // Failing again keeps the start of the run of failures.
  clock = 3000;
  EXPECT_FALSE(watcher_->ReloadAndWait().ok());
  EXPECT_EQ(watcher_->stats().failing_since_unix, 2000);

  // A good load, even one that publishes nothing new, clears it.
  clock = 4000;
  fs::remove(keys_ / "short");
  AddKey(keys_, "compromised");
  EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  st = watcher_->stats();
  EXPECT_FALSE(st.last_load_failed);
  EXPECT_EQ(st.last_failure, "");
  EXPECT_EQ(st.failing_since_unix, 0);
  EXPECT_EQ(st.last_good_load_unix, 4000);
  EXPECT_EQ(st.last_reload_unix, 1000) << "the set in force is still the first";
  EXPECT_TRUE(LogHas("keys load again; no change"));
}

// A backup that appears beside the keys changes no key, yet it is named in
// the log at once; the same warning is not repeated by later loads.
TEST_F(KeyWatcherTest, BackupFileIsRefusedAndNamedInTheLog) {
  AddKey(keys_, "k1");
  Start(Options(keys_));
  WriteByRename(keys_ / "k1.bak", SecretFor("k1.bak"));
  ASSERT_TRUE(WaitFor([&] { return LogHas("k1.bak: not loaded as a key"); }));
  EXPECT_EQ(Verify("k1.bak"), Status::kUnknownKey);
  EXPECT_EQ(watcher_->stats().reloads, 0u);
  EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  EXPECT_TRUE(watcher_->ReloadAndWait().ok());
  std::lock_guard<std::mutex> lock(log_mu_);
  int times = 0;
  for (const std::string& line : log_)
    times += line.find("k1.bak: not loaded") != std::string::npos;
  EXPECT_EQ(times, 1);
}

// A FIFO named as the revocation list would hang the start: it is refused.
TEST_F(KeyWatcherTest, RevocationFifoFailsTheLoadWithoutBlocking) {
  AddKey(keys_, "k1");
  const std::string fifo = (root_ / "revoked").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  KeyWatcherOptions options = Options(keys_);
  options.revoked_path = fifo;
  auto pending = std::async(std::launch::async, [&] { return LoadKeySet(options, nullptr); });
  if (pending.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "LoadKeySet() blocked on a FIFO";
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w >= 0) ::close(w);
  }
  const auto set = pending.get();
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("not a regular file"), std::string::npos) << set.status();
}

// --algorithms naming only algorithms no loaded key serves refuses every
// JWT: the load says so, naming the allowed set, and says nothing when a
// key serves one of them or when there are no JWT keys at all.
TEST_F(KeyWatcherTest, KeysServingNoAllowedAlgorithmAreWarnedAbout) {
  KeyWatcherOptions options = Options(keys_);
  AlgSet rsa_only;
  rsa_only.Add(Alg::kRS256);
  rsa_only.Add(Alg::kPS256);
  options.allowed_algs = rsa_only;
  const auto warnings_of = [&] {
    std::vector<std::string> warnings;
    EXPECT_TRUE(LoadKeySet(options, &warnings).ok());
    std::string all;
    for (const std::string& w : warnings) all += w + "\n";
    return all;
  };
  EXPECT_EQ(warnings_of().find("serves an algorithm"), std::string::npos)
      << "an empty keys directory has no JWT key to warn about";

  AddKey(keys_, "k1");  // an HMAC secret
  const std::string warned = warnings_of();
  EXPECT_NE(warned.find("no key in " + keys_.string() +
                        " serves an algorithm --algorithms allows (RS256, PS256)"),
            std::string::npos)
      << warned;

  AlgSet with_hs256 = rsa_only;
  with_hs256.Add(Alg::kHS256);
  options.allowed_algs = with_hs256;
  EXPECT_EQ(warnings_of().find("serves an algorithm"), std::string::npos);
  options.allowed_algs = AlgSet::All();
  EXPECT_EQ(warnings_of().find("serves an algorithm"), std::string::npos);
}

TEST(LoadKeySetTest, MissingKeysPathIsNotFound) {
  KeyWatcherOptions options;
  options.keys_path = "/nonexistent/tokend/keys";
  absl::StatusOr<std::shared_ptr<const KeySet>> set = LoadKeySet(options, nullptr);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(set.status().message().find("/nonexistent/tokend/keys"), std::string_view::npos);
}

}  // namespace
}  // namespace tokend::auth

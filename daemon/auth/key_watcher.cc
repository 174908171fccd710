// SPDX-License-Identifier: Apache-2.0
// key_watcher.cc
//
// The watcher thread sleeps in poll(2) on two descriptors: the inotify fd
// and an eventfd that ReloadNow(), InjectOverflowForTesting() and the
// destructor write to after setting a flag. The poll timeout is the nearest
// of three deadlines: the end of the coalescing window, the next backstop
// poll, and the next retry of a lost watch. All watch bookkeeping lives on
// the thread; the published set and the stats are shared.
#include "daemon/auth/key_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"

namespace tokend::auth {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Every way a file in the directory can change, and the directory itself
// going away. IN_MODIFY is left out: a reload between two write(2)s of one
// save would only see half a file; IN_CLOSE_WRITE follows every write.
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
                                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr milliseconds kRewatchInterval{100};
constexpr int kMaxCoalesceFactor = 10;  // a reload waits at most 10 x coalesce
constexpr size_t kMaxKidsInLog = 8;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// stat(2) of `path`: the errno on failure.
int StatPath(const std::string& path, struct stat* st) {
  return ::stat(path.c_str(), st) == 0 ? 0 : errno;
}

absl::Status CheckKeysPathExists(const std::string& path, const char* when) {
  struct stat st;
  int err = StatPath(path, &st);
  if (err == 0) return absl::OkStatus();
  std::string message = absl::StrCat("keys path ", path, " ", when, ": ", ErrnoText(err));
  return err == ENOENT || err == ENOTDIR ? absl::NotFoundError(message)
                                         : absl::FailedPreconditionError(message);
}

// The directory to watch for `path`: itself when it is a directory, else its
// parent ("." for a bare file name).
std::string WatchDirFor(const std::string& path, bool is_dir) {
  if (is_dir) return path;
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

// "1 key", "2 keys"; `many` defaults to `one` + "s".
std::string Count(size_t n, const char* one, const char* many = nullptr) {
  if (n == 1) return absl::StrCat(n, " ", one);
  return many != nullptr ? absl::StrCat(n, " ", many) : absl::StrCat(n, " ", one, "s");
}

std::string KidList(const std::vector<std::string>& kids) {
  if (kids.size() <= kMaxKidsInLog) return absl::StrJoin(kids, ",");
  std::vector<std::string> head(kids.begin(), kids.begin() + kMaxKidsInLog);
  return absl::StrCat(absl::StrJoin(head, ","), ",... (", kids.size(), ")");
}

// "3 keys (added k3; removed k1; replaced k2), 2 revoked entries": kids are
// names, not secrets, and tell an operator what a reload did.
std::string DescribeChange(const KeySet& before, const KeySet& after) {
  std::vector<std::string> added, removed, replaced;
  for (const auto& key : after.keys->keys()) {
    const Key* old = before.keys->FindByKid(key->kid);
    if (old == nullptr) {
      added.push_back(key->kid);
    } else if (old->fingerprint != key->fingerprint || old->bound_alg != key->bound_alg) {
      replaced.push_back(key->kid);
    }
  }
  for (const auto& key : before.keys->keys()) {
    if (after.keys->FindByKid(key->kid) == nullptr) removed.push_back(key->kid);
  }
  std::vector<std::string> parts;
  if (!added.empty()) parts.push_back(absl::StrCat("added ", KidList(added)));
  if (!removed.empty()) parts.push_back(absl::StrCat("removed ", KidList(removed)));
  if (!replaced.empty()) parts.push_back(absl::StrCat("replaced ", KidList(replaced)));
  if (parts.empty()) parts.push_back("same keys");
  std::string api_keys;
  if (after.api_keys != nullptr || before.api_keys != nullptr) {
    api_keys = absl::StrCat(
        Count(after.api_keys == nullptr ? 0 : after.api_keys->size(), "API key"), ", ");
  }
  return absl::StrCat(Count(after.keys->size(), "key"), " (", absl::StrJoin(parts, "; "), "), ",
                      api_keys, Count(after.revoked->size(), "revoked entry", "revoked entries"));
}

class KeyWatcherImpl final : public KeyWatcher {
 public:
  KeyWatcherImpl(KeyWatcherOptions options, KeySetPublisher* publisher)
      : options_(std::move(options)), publisher_(publisher) {}
  ~KeyWatcherImpl() override;

  absl::Status Start();
  void ReloadNow() override;
  absl::Status ReloadAndWait() override { return Reload(Trigger::kExplicit); }
  KeyWatcherStats stats() const override;
  void InjectOverflowForTesting() override;

 private:
  enum class Trigger { kEvent, kPoll, kExplicit };
  struct Watch {
    std::string dir;
    int wd = -1;  // -1: not watched (missing); retried
    dev_t dev = 0;
    ino_t ino = 0;
  };

  // The watcher thread's schedule. Run() sleeps in WaitForWork() until the
  // earliest of three deadlines (NextDeadline()) or a descriptor wakes it:
  //
  //   coalesce  while events are pending: reload once no event has come for
  //             `coalesce`, or at the latest MaxWait() after the first one;
  //   poll      when polling: the backstop reload at next_poll_;
  //   rewatch   while a watch is missing: retry it at next_rewatch_.
  //
  // Each wake-up then runs, in order: the watch retry if due, and at most one
  // reload, by one of two paths (WhichReloadIsDue()): the event path, or the
  // poll path, which first re-checks the watched inodes. Invariants:
  //   (1) pending_since_ is set iff an event (inotify, ReloadNow(), an
  //       overflow, a watch regained) arrived after the last event reload
  //       began; then *pending_since_ <= last_event_.
  //   (2) Every reload the thread runs, by either path, sets next_poll_ to
  //       poll_interval after it ends: a poll never follows a reload sooner.
  //   (3) next_rewatch_ is read only while AnyWatchMissing().
  //   (4) When both paths are due at once, the event path runs; the poll is
  //       then pushed back by (2), its work having just been done.
  enum class DueReload { kNone, kEvents, kPoll };
  void Run();
  std::optional<Clock::time_point> NextDeadline() const;
  // Sleeps until the next deadline or a wake-up, then takes in what woke it
  // (eventfd flags, inotify events). Returns when it woke, or nullopt when
  // the watcher is stopping.
  std::optional<Clock::time_point> WaitForWork();
  void RetryWatchesIfDue(Clock::time_point now);
  DueReload WhichReloadIsDue(Clock::time_point now) const;
  void ReloadAndReschedule(Trigger trigger);
  bool Polling() const { return options_.poll_interval.count() > 0; }
  milliseconds MaxWait() const { return options_.coalesce * kMaxCoalesceFactor; }
  void Wake();
  void DrainInotify(Clock::time_point now);
  void HandleEvent(int wd, uint32_t mask, Clock::time_point now);
  void MarkPending(Clock::time_point now);
  bool AddWatch(Watch& w);
  void DropWatch(int wd);
  bool RetryMissingWatches();
  void CheckWatchedInodes();
  bool RetargetKeysWatch();
  bool AnyWatchMissing() const;
  absl::Status Reload(Trigger trigger);
  // REQUIRES: reload_mu_ held; RecordGoodLoad() also stats_mu_.
  void RecordGoodLoad(int64_t now);
  void RecordFailure(Trigger trigger, const KeySet& current, const absl::Status& error);
  void Emit(LogLevel level, std::string_view line) const;
  int64_t WallNow() const;

  const KeyWatcherOptions options_;
  KeySetPublisher* const publisher_;
  int inotify_fd_ = -1;
  int event_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reload_requested_{false};
  std::atomic<bool> overflow_injected_{false};

  // Watcher thread only (and Start(), before the thread exists).
  std::vector<Watch> watches_;
  std::optional<Clock::time_point> pending_since_;  // first unhandled event
  Clock::time_point last_event_;
  Clock::time_point next_poll_;
  Clock::time_point next_rewatch_;
  bool rewatch_error_logged_ = false;

  std::mutex reload_mu_;                    // serialises Reload()
  std::string last_failure_;                // guarded by reload_mu_
  std::vector<std::string> last_warnings_;  // the latest good load's; guarded by reload_mu_
  mutable std::mutex stats_mu_;
  KeyWatcherStats stats_;  // guarded by stats_mu_
};

KeyWatcherImpl::~KeyWatcherImpl() {
  if (thread_.joinable()) {
    stop_.store(true);
    Wake();
    thread_.join();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

absl::Status KeyWatcherImpl::Start() {
  {
    std::shared_ptr<const KeySet> current = publisher_->Current();
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.keys_loaded = current->keys->size();
    stats_.revoked_entries = current->revoked->size();
    stats_.last_reload_unix = WallNow();
    stats_.last_good_load_unix = stats_.last_reload_unix;
  }
  last_warnings_ = options_.initial_warnings;
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", ErrnoText(errno)));

  if (options_.use_inotify) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      return absl::InternalError(absl::StrCat("inotify_init1: ", ErrnoText(errno)));
    }
    struct stat st;
    bool keys_is_dir = StatPath(options_.keys_path, &st) == 0 && S_ISDIR(st.st_mode);
    // Two watches on one directory share one inotify wd; they are kept
    // apart because the keys watch may move (RetargetKeysWatch).
    std::vector<std::string> dirs = {WatchDirFor(options_.keys_path, keys_is_dir)};
    if (!options_.revoked_path.empty()) dirs.push_back(WatchDirFor(options_.revoked_path, false));
    for (std::string& dir : dirs) {
      Watch& w = watches_.emplace_back();
      w.dir = std::move(dir);
      if (!AddWatch(w)) {
        int err = errno;
        if (err != ENOENT && err != ENOTDIR) {
          return absl::InternalError(
              absl::StrCat("inotify_add_watch ", w.dir, ": ", ErrnoText(err)));
        }
        Emit(LogLevel::kWarning,
             absl::StrCat("key watcher: ", w.dir, " does not exist; watching for it to appear"));
      }
    }
  }

  Clock::time_point now = Clock::now();
  next_poll_ = now + options_.poll_interval;
  next_rewatch_ = now + kRewatchInterval;
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    return absl::InternalError(absl::StrCat("cannot start the key watcher thread: ", e.what()));
  }
  return absl::OkStatus();
}

void KeyWatcherImpl::Wake() {
  uint64_t one = 1;
  // The counter cannot overflow in practice; a failed write means the
  // eventfd is already readable, which is all a wake-up needs.
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

void KeyWatcherImpl::ReloadNow() {
  reload_requested_.store(true);
  Wake();
}

void KeyWatcherImpl::InjectOverflowForTesting() {
  overflow_injected_.store(true);
  Wake();
}

KeyWatcherStats KeyWatcherImpl::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

void KeyWatcherImpl::Emit(LogLevel level, std::string_view line) const {
  if (options_.log) {
    options_.log(level, line);
  } else {
    Log(level, line);
  }
}

int64_t KeyWatcherImpl::WallNow() const {
  if (options_.wall_clock) return options_.wall_clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool KeyWatcherImpl::AddWatch(Watch& w) {
  int wd = ::inotify_add_watch(inotify_fd_, w.dir.c_str(), kWatchMask);
  if (wd < 0) return false;
  w.wd = wd;
  struct stat st;
  if (StatPath(w.dir, &st) == 0) {
    w.dev = st.st_dev;
    w.ino = st.st_ino;
  }
  return true;
}

// Forgets `wd` for every watch that uses it (two paths may name one
// directory) and removes it from inotify; harmless when inotify already did.
void KeyWatcherImpl::DropWatch(int wd) {
  bool found = false;
  for (Watch& w : watches_) {
    if (w.wd == wd) {
      w.wd = -1;
      found = true;
    }
  }
  if (found) ::inotify_rm_watch(inotify_fd_, wd);
}

bool KeyWatcherImpl::AnyWatchMissing() const {
  for (const Watch& w : watches_) {
    if (w.wd < 0) return true;
  }
  return false;
}

// Returns true when a lost watch came back: the directory may have changed
// while nobody watched it, so the caller reloads.
bool KeyWatcherImpl::RetryMissingWatches() {
  bool added = false;
  for (Watch& w : watches_) {
    if (w.wd >= 0) continue;
    if (AddWatch(w)) {
      Emit(LogLevel::kInfo, absl::StrCat("key watcher: watching ", w.dir, " again"));
      added = true;
    } else if (errno != ENOENT && errno != ENOTDIR && !rewatch_error_logged_) {
      Emit(LogLevel::kWarning, absl::StrCat("key watcher: cannot watch ", w.dir, ": ",
                                            ErrnoText(errno), "; relying on the backstop poll"));
      rewatch_error_logged_ = true;
    }
  }
  return added;
}

// A watch follows an inode, not a path: when the path now names another
// directory (a swapped symlink, a rename that inotify did not report), move
// the watch to it.
void KeyWatcherImpl::CheckWatchedInodes() {
  for (Watch& w : watches_) {
    if (w.wd < 0) continue;
    struct stat st;
    if (StatPath(w.dir, &st) != 0 || st.st_dev != w.dev || st.st_ino != w.ino) DropWatch(w.wd);
  }
  RetryMissingWatches();
}

// The keys watch (watches_[0]) is on the keys directory, or on a keys
// file's parent. A keys path missing at start is watched through its parent
// until it turns out to be a directory; then the watch moves onto it. Returns
// true when it moved: what was written before the move went unseen.
bool KeyWatcherImpl::RetargetKeysWatch() {
  if (inotify_fd_ < 0) return false;
  struct stat st;
  if (StatPath(options_.keys_path, &st) != 0) return false;  // missing: keep watching as is
  Watch& keys = watches_[0];
  std::string want = WatchDirFor(options_.keys_path, S_ISDIR(st.st_mode));
  if (keys.dir == want) return false;
  int old = keys.wd;
  keys.dir = std::move(want);
  keys.wd = -1;
  bool shared = false;
  for (const Watch& w : watches_) shared = shared || (old >= 0 && w.wd == old);
  if (old >= 0 && !shared) ::inotify_rm_watch(inotify_fd_, old);
  if (AddWatch(keys)) {
    Emit(LogLevel::kInfo, absl::StrCat("key watcher: now watching ", keys.dir));
  }
  return true;
}

void KeyWatcherImpl::MarkPending(Clock::time_point now) {
  if (!pending_since_) pending_since_ = now;
  last_event_ = now;
}

void KeyWatcherImpl::HandleEvent(int wd, uint32_t mask, Clock::time_point now) {
  if (mask & IN_Q_OVERFLOW) {
    // Events were lost, possibly including our watch's own removal.
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.overflows;
    }
    Emit(LogLevel::kWarning, "key watcher: inotify queue overflowed; reloading everything");
    CheckWatchedInodes();
    MarkPending(now);
    return;
  }
  if (mask & IN_IGNORED) {
    // The directory was deleted or unmounted (IN_DELETE_SELF / IN_UNMOUNT
    // came first), or we removed the watch ourselves.
    for (Watch& w : watches_) {
      if (w.wd == wd) w.wd = -1;
    }
    if (RetryMissingWatches()) MarkPending(now);
    next_rewatch_ = now + kRewatchInterval;
  } else if (mask & IN_MOVE_SELF) {
    // The directory was renamed: the watch would follow it to its new name.
    // Drop it and watch whatever now sits at the path, if anything.
    DropWatch(wd);
    RetryMissingWatches();
    next_rewatch_ = now + kRewatchInterval;
  }
  MarkPending(now);
}

void KeyWatcherImpl::DrainInotify(Clock::time_point now) {
  alignas(struct inotify_event) char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        Emit(LogLevel::kError, absl::StrCat("key watcher: reading inotify: ", ErrnoText(errno)));
        MarkPending(now);
      }
      return;
    }
    if (n == 0) return;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
      HandleEvent(ev->wd, ev->mask, now);
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
}

std::optional<Clock::time_point> KeyWatcherImpl::NextDeadline() const {
  std::optional<Clock::time_point> wake;
  auto consider = [&wake](Clock::time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  if (pending_since_)
    consider(std::min(last_event_ + options_.coalesce, *pending_since_ + MaxWait()));
  if (Polling()) consider(next_poll_);
  if (AnyWatchMissing()) consider(next_rewatch_);
  return wake;
}

std::optional<Clock::time_point> KeyWatcherImpl::WaitForWork() {
  int timeout_ms = -1;  // nothing scheduled: sleep until woken
  if (std::optional<Clock::time_point> wake = NextDeadline()) {
    auto left = std::chrono::ceil<milliseconds>(*wake - Clock::now()).count();
    timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
  }

  struct pollfd fds[2] = {{event_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const int nfds = inotify_fd_ >= 0 ? 2 : 1;
  const int ready = ::poll(fds, nfds, timeout_ms);
  if (ready < 0 && errno != EINTR) {
    Emit(LogLevel::kError, absl::StrCat("key watcher: poll: ", ErrnoText(errno)));
    std::this_thread::sleep_for(kRewatchInterval);  // never spin on a broken poll
  }
  const Clock::time_point now = Clock::now();

  if (ready > 0 && (fds[0].revents & POLLIN)) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(event_fd_, &count, sizeof(count));
    if (stop_.load()) return std::nullopt;
    if (reload_requested_.exchange(false)) MarkPending(now);
    if (overflow_injected_.exchange(false)) HandleEvent(-1, IN_Q_OVERFLOW, now);
  }
  if (nfds == 2 && ready > 0 && (fds[1].revents & POLLIN)) DrainInotify(now);
  return now;
}

void KeyWatcherImpl::RetryWatchesIfDue(Clock::time_point now) {
  if (!AnyWatchMissing() || now < next_rewatch_) return;
  if (RetryMissingWatches()) MarkPending(now);
  next_rewatch_ = now + kRewatchInterval;
}

KeyWatcherImpl::DueReload KeyWatcherImpl::WhichReloadIsDue(Clock::time_point now) const {
  if (pending_since_ &&
      (now >= last_event_ + options_.coalesce || now >= *pending_since_ + MaxWait())) {
    return DueReload::kEvents;
  }
  if (Polling() && now >= next_poll_) return DueReload::kPoll;
  return DueReload::kNone;
}

void KeyWatcherImpl::ReloadAndReschedule(Trigger trigger) {
  Reload(trigger).IgnoreError();  // logged and counted inside
  // A keys path that appeared, or turned from file to directory, moves the
  // keys watch; what changed before the move went unseen, so look again.
  if (RetargetKeysWatch()) MarkPending(Clock::now());
  next_poll_ = Clock::now() + options_.poll_interval;  // invariant (2)
}

void KeyWatcherImpl::Run() {
  for (;;) {
    const std::optional<Clock::time_point> now = WaitForWork();
    if (!now) return;  // stopping
    RetryWatchesIfDue(*now);
    switch (WhichReloadIsDue(*now)) {
      case DueReload::kNone:
        break;
      case DueReload::kEvents:
        pending_since_.reset();  // invariant (1): events from here on are new
        ReloadAndReschedule(Trigger::kEvent);
        break;
      case DueReload::kPoll: {
        std::lock_guard<std::mutex> lock(stats_mu_);
        ++stats_.polls;
      }
        CheckWatchedInodes();
        ReloadAndReschedule(Trigger::kPoll);
        break;
    }
  }
}

absl::Status KeyWatcherImpl::Reload(Trigger trigger) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const KeySet>> next = LoadKeySet(options_, &warnings);
  std::shared_ptr<const KeySet> current = publisher_->Current();
  if (!next.ok()) {
    RecordFailure(trigger, *current, next.status());
    return next.status();
  }
  const bool recovered = !last_failure_.empty();
  last_failure_.clear();
  // Warnings are news when the set changes or when they do.
  const bool same = SameKeySet(*current, **next);
  if (!same || warnings != last_warnings_) {
    for (const std::string& w : warnings) Emit(LogLevel::kWarning, w);
  }
  last_warnings_ = std::move(warnings);
  const int64_t now = WallNow();
  if (same) {
    {
      std::lock_guard<std::mutex> stats_lock(stats_mu_);
      ++stats_.unchanged_loads;
      RecordGoodLoad(now);
    }
    if (recovered) {
      Emit(LogLevel::kInfo, absl::StrCat("keys load again; no change, ",
                                         Count(current->keys->size(), "key"), " in force"));
    }
    return absl::OkStatus();
  }
  std::string line = absl::StrCat("keys reloaded: ", DescribeChange(*current, **next));
  size_t keys = (*next)->keys->size();
  size_t revoked = (*next)->revoked->size();
  publisher_->Publish(*std::move(next));
  {
    std::lock_guard<std::mutex> stats_lock(stats_mu_);
    ++stats_.reloads;
    stats_.keys_loaded = keys;
    stats_.revoked_entries = revoked;
    stats_.last_reload_unix = now;
    RecordGoodLoad(now);
  }
  Emit(LogLevel::kInfo, line);
  return absl::OkStatus();
}

void KeyWatcherImpl::RecordGoodLoad(int64_t now) {
  stats_.last_load_failed = false;
  stats_.last_failure.clear();
  stats_.failing_since_unix = 0;
  stats_.last_good_load_unix = now;
}

void KeyWatcherImpl::RecordFailure(Trigger trigger, const KeySet& current,
                                   const absl::Status& error) {
  std::string line = absl::StrCat("key reload failed, keeping the current ",
                                  Count(current.keys->size(), "key"), ": ", error.message());
  // The backstop poll finding the same broken file again is not news.
  const bool repeat = trigger == Trigger::kPoll && line == last_failure_;
  last_failure_ = line;
  const int64_t now = WallNow();
  {
    std::lock_guard<std::mutex> stats_lock(stats_mu_);
    if (!repeat) ++stats_.reload_failures;
    if (!stats_.last_load_failed) stats_.failing_since_unix = now;
    stats_.last_load_failed = true;
    stats_.last_failure = std::string(error.message());
  }
  if (!repeat) Emit(LogLevel::kError, line);
}

}  // namespace

namespace {

// A warning when `keys` holds JWT keys and none of them serves an algorithm
// the policy allows: every JWT would get ALG_NOT_ALLOWED or UNKNOWN_KEY.
std::optional<std::string> NoAllowedAlgWarning(const Keyring& keys,
                                               const KeyWatcherOptions& options) {
  if (keys.empty()) return std::nullopt;  // API keys only, or nothing yet
  std::vector<std::string> allowed;
  for (size_t i = 1; i < kAlgCount; ++i) {
    const auto alg = static_cast<Alg>(i);
    if (!options.allowed_algs.Contains(alg)) continue;
    allowed.emplace_back(AlgName(alg));
    for (const std::unique_ptr<Key>& key : keys.keys()) {
      if (key->Serves(alg)) return std::nullopt;
    }
  }
  return absl::StrCat("no key in ", options.keys_path, " serves an algorithm --algorithms allows (",
                      absl::StrJoin(allowed, ", "), "): every JWT will be refused until one does");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const KeySet>> LoadKeySet(const KeyWatcherOptions& options,
                                                         std::vector<std::string>* warnings) {
  if (absl::Status s = CheckKeysPathExists(options.keys_path, "is unavailable"); !s.ok()) return s;
  absl::StatusOr<LoadedKeys> loaded = LoadKeyMaterial(options.keys_path);
  if (!loaded.ok()) return loaded.status();
  absl::StatusOr<std::shared_ptr<const Keyring>> keys = Keyring::Build(std::move(loaded->keys));
  if (!keys.ok()) return keys.status();
  absl::StatusOr<std::shared_ptr<const ApiKeyTable>> api_keys =
      ApiKeyTable::Build(std::move(loaded->api_keys));
  if (!api_keys.ok()) return api_keys.status();
  std::shared_ptr<const RevocationList> revoked = RevocationList::Empty();
  if (!options.revoked_path.empty()) {
    absl::StatusOr<std::shared_ptr<const RevocationList>> list =
        RevocationList::Load(options.revoked_path);
    if (!list.ok()) return list.status();
    revoked = *std::move(list);
  }
  // A directory deleted while it was read reads as empty, not as an error.
  if (absl::Status s = CheckKeysPathExists(options.keys_path, "vanished while loading"); !s.ok()) {
    return s;
  }
  if (warnings != nullptr) {
    for (std::string& w : loaded->warnings) warnings->push_back(std::move(w));
    if (std::optional<std::string> w = NoAllowedAlgWarning(**keys, options); w) {
      warnings->push_back(*std::move(w));
    }
  }
  return KeySet::Make(*std::move(keys), std::move(revoked), *std::move(api_keys));
}

bool SameKeySet(const KeySet& a, const KeySet& b) {
  const bool same_api_keys = a.api_keys == nullptr || b.api_keys == nullptr
                                 ? a.api_keys == b.api_keys
                                 : a.api_keys->SameKeysAs(*b.api_keys);
  return a.keys->SameKeysAs(*b.keys) && *a.revoked == *b.revoked && same_api_keys;
}

absl::StatusOr<std::unique_ptr<KeyWatcher>> KeyWatcher::Create(KeyWatcherOptions options,
                                                               KeySetPublisher* publisher) {
  auto watcher = std::make_unique<KeyWatcherImpl>(std::move(options), publisher);
  if (absl::Status s = watcher->Start(); !s.ok()) return s;
  return std::unique_ptr<KeyWatcher>(std::move(watcher));
}

}  // namespace tokend::auth

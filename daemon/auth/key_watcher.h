// key_watcher.h
//
// Keeps the published KeySet in step with the keys path and the revocation
// file (DESIGN.md "Reloading keys"): inotify on the directory, a coalescing
// delay, a backstop poll, all-or-nothing reloads, and ReloadNow() for
// SIGHUP. It owns one background thread; every public method is thread-safe.
// Only this component touches the filesystem after startup, and never on the
// request path: it publishes through KeySetPublisher.
#ifndef TOKEND_DAEMON_AUTH_KEY_WATCHER_H_
#define TOKEND_DAEMON_AUTH_KEY_WATCHER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/key_set.h"

namespace tokend::auth {

struct KeyWatcherOptions {
  std::string keys_path;     // file or directory (DESIGN.md "Keys on disk")
  std::string revoked_path;  // empty: no revocation list
  std::chrono::milliseconds coalesce{30};         // quiet time after an event
  std::chrono::milliseconds poll_interval{10000};  // backstop; 0 = off
  bool use_inotify = true;                        // false: poll only (tests)
  // Called with one line per event (reloads, failures, warnings). Never
  // receives key bytes. Must be thread-safe; may be empty.
  std::function<void(bool is_error, std::string_view line)> log;
};

struct KeyWatcherStats {
  uint64_t reloads = 0;          // sets published after the initial one
  uint64_t reload_failures = 0;  // sets refused (old keys kept)
  uint64_t keys_loaded = 0;      // keys in the current set
  uint64_t revoked_entries = 0;  // entries in the current revocation list
  int64_t last_reload_unix = 0;  // wall time of the last good load
};

// LoadKeySet()
//
// One synchronous all-or-nothing load of keys and revocation list, as the
// watcher does on each reload; main uses it for the initial set.
absl::StatusOr<std::shared_ptr<const KeySet>> LoadKeySet(const KeyWatcherOptions& options,
                                                        std::vector<std::string>* warnings);

class KeyWatcher {
 public:
  // Create()
  //
  // Starts watching. The publisher (which must outlive the watcher) already
  // holds the initial set. Fails when inotify or the thread cannot start.
  static absl::StatusOr<std::unique_ptr<KeyWatcher>> Create(KeyWatcherOptions options,
                                                            KeySetPublisher* publisher);
  virtual ~KeyWatcher() = default;  // stops the thread

  // Asks for a full reload soon (async; coalesced like an inotify event).
  virtual void ReloadNow() = 0;
  // Reloads now on the calling thread's behalf and waits for the outcome.
  virtual absl::Status ReloadAndWait() = 0;
  virtual KeyWatcherStats stats() const = 0;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_KEY_WATCHER_H_

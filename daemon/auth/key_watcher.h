// SPDX-License-Identifier: Apache-2.0
// key_watcher.h
//
// Keeps the published KeySet in step with the keys path and the revocation
// file (docs/design.md "Reloading keys"): inotify on the directory, a coalescing
// delay, a backstop poll, all-or-nothing reloads, and ReloadNow() for
// SIGHUP. Only this component touches the filesystem after startup, and
// never on the request path: it publishes through KeySetPublisher, whose
// readers never wait on it.
//
// What is watched: the keys directory, or for a keys file its parent
// directory (a Kubernetes Secret file is a link through `..data`, which
// changes when `..data` is swapped, so every event there leads to a reload
// and a byte comparison, never a filter by name), and the revocation file's
// parent directory. A keys path missing at start is watched through its
// parent until it appears; once it is a directory the watch moves onto it. Events: writes closed,
// renames in and out, creates, deletes, attribute changes, and the directory itself deleted, moved
// or unmounted, after which the watch is re-established (retried every 100 ms) once the path is a
// directory again. An inotify queue overflow reloads everything. Bursts are coalesced: a reload
// runs once no event has arrived for `coalesce`, or at the latest 10 x `coalesce` after the first
// one. The backstop poll reloads every `poll_interval` (and re-watches a path whose inode changed),
// so NFS, FUSE and lost events still converge.
//
// Each reload is LoadKeySet(): all or nothing. A failed load keeps the
// current set, logs one line (file and reason, never key bytes) and counts
// a failure; a failure the backstop poll finds again, unchanged, is neither
// logged nor counted twice. A loaded set identical to the current one (same
// keys by Keyring::SameKeysAs, equal revocation lists) is not published.
//
// Threading: the watcher owns one background thread; every public method is
// thread-safe. Reloads are serialised by an internal mutex, whether run by
// the thread or by ReloadAndWait(). The `log` callback runs on whichever
// thread performs the reload.
#ifndef TOKEND_DAEMON_AUTH_KEY_WATCHER_H_
#define TOKEND_DAEMON_AUTH_KEY_WATCHER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/auth/key_set.h"
#include "daemon/util/log.h"

namespace tokend::auth {

struct KeyWatcherOptions {
  std::string keys_path;                           // file or directory (docs/design.md)
  std::string revoked_path;                        // empty: no revocation list
  std::chrono::milliseconds coalesce{30};          // quiet time after an event
  std::chrono::milliseconds poll_interval{10000};  // backstop; 0 = off
  bool use_inotify = true;                         // false: poll only
  // One line per event (reloads, failures, warnings). Never receives key
  // bytes. Must be thread-safe. Empty: tokend::Log (stderr).
  std::function<void(LogLevel level, std::string_view line)> log;
  // Wall clock in seconds since the epoch, for the stats' times. Empty: the
  // system clock.
  std::function<int64_t()> wall_clock;
  // The warnings already logged for the initial set (LoadKeySet's): not
  // logged again unless a later load's differ.
  std::vector<std::string> initial_warnings;
  // The JWS algorithms the policy allows (--algorithms): a load whose JWT
  // keys serve none of them warns, since every JWT would then be refused.
  AlgSet allowed_algs = AlgSet::All();
};

struct KeyWatcherStats {
  uint64_t reloads = 0;          // sets published after the initial one
  uint64_t reload_failures = 0;  // loads refused (current set kept)
  uint64_t unchanged_loads = 0;  // loads that found the current set again
  uint64_t overflows = 0;        // inotify queue overflows seen
  uint64_t polls = 0;            // backstop polls run
  uint64_t keys_loaded = 0;      // keys in the current set
  uint64_t revoked_entries = 0;  // entries in the current revocation list
  int64_t last_reload_unix = 0;  // when the current set was loaded (for the
                                 // initial set: when the watcher started)
  // The latest load attempt (inotify, poll, ReloadNow, ReloadAndWait).
  bool last_load_failed = false;    // it failed: the set in force is older
                                    // than the files on disk
  std::string last_failure;         // why, when it failed: the file and the
                                    // problem, never key bytes; else empty
  int64_t failing_since_unix = 0;   // first failure since the last good load;
                                    // 0 when the latest load succeeded
  int64_t last_good_load_unix = 0;  // latest load that succeeded, published or
                                    // unchanged (initially: watcher start)
};

// LoadKeySet()
//
// One synchronous all-or-nothing load of the keys (LoadKeyMaterial then
// Keyring::Build) and the revocation list (RevocationList::Load, or an empty
// list when `revoked_path` is empty), as the watcher does on each reload;
// main uses it for the initial set. Unlike LoadKeyMaterial, a keys path that
// does not exist (before or after the read) is an error (NotFound): a
// directory that vanishes for a moment must not unload every key. Appends
// the loader's warnings to `*warnings` when it is non-null.
absl::StatusOr<std::shared_ptr<const KeySet>> LoadKeySet(const KeyWatcherOptions& options,
                                                         std::vector<std::string>* warnings);

// SameKeySet()
//
// True when `a` and `b` hold the same keys (Keyring::SameKeysAs) and equal
// revocation lists: publishing `b` over `a` would change nothing.
bool SameKeySet(const KeySet& a, const KeySet& b);

class KeyWatcher {
 public:
  // Create()
  //
  // Starts watching. The publisher (which must outlive the watcher) already
  // holds the initial set. Fails when inotify, a watch on an existing
  // directory (other than for a missing path, which is retried), the eventfd
  // or the thread cannot be set up.
  static absl::StatusOr<std::unique_ptr<KeyWatcher>> Create(KeyWatcherOptions options,
                                                            KeySetPublisher* publisher);
  virtual ~KeyWatcher() = default;  // stops and joins the thread

  // ReloadNow()
  //
  // Asks for a full reload soon (async, coalesced like an inotify event).
  // Safe to call from any thread; for SIGHUP, call it from the thread that
  // receives the signal (signalfd or sigwait), not from a handler.
  virtual void ReloadNow() = 0;

  // ReloadAndWait()
  //
  // Reloads on the calling thread and returns the outcome: OK when the set
  // was published or found unchanged, else the load error (the current set
  // stays in force).
  virtual absl::Status ReloadAndWait() = 0;

  virtual KeyWatcherStats stats() const = 0;

  // InjectOverflowForTesting()
  //
  // Feeds the watcher thread a synthetic IN_Q_OVERFLOW event, handled
  // exactly as one read from inotify (the queue limit is system-wide, so
  // tests cannot shrink it). Works with use_inotify = false.
  virtual void InjectOverflowForTesting() = 0;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_KEY_WATCHER_H_

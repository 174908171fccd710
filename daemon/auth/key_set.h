// SPDX-License-Identifier: Apache-2.0
// key_set.h
//
// KeySet: what the key watcher publishes and every request reads, the
// keyring and revocation list swapped together so that a request sees the
// old pair or the new pair, never a mix.
//
// Publication (one writer, many readers): KeySetPublisher keeps the current
// snapshot under a mutex and a generation counter. Publish() stores the new
// snapshot, then increments the generation with release order. A reader
// (KeySetReader, one per thread) checks the generation with a relaxed load
// on every request; only when it changed does it take the mutex to copy the
// shared_ptr. So the request path takes no lock and touches no shared
// reference count except in the first request after a swap.
#ifndef TOKEND_DAEMON_AUTH_KEY_SET_H_
#define TOKEND_DAEMON_AUTH_KEY_SET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "daemon/auth/api_keys.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"

namespace tokend::auth {

struct KeySet {
  std::shared_ptr<const Keyring> keys;            // never null
  std::shared_ptr<const RevocationList> revoked;  // never null
  std::shared_ptr<const ApiKeyTable> api_keys;    // null when no API key is loaded, else non-empty

  static std::shared_ptr<const KeySet> Make(std::shared_ptr<const Keyring> keys,
                                            std::shared_ptr<const RevocationList> revoked,
                                            std::shared_ptr<const ApiKeyTable> api_keys = nullptr) {
    if (api_keys != nullptr && api_keys->empty()) api_keys = nullptr;
    return std::make_shared<const KeySet>(
        KeySet{std::move(keys), std::move(revoked), std::move(api_keys)});
  }
};

class KeySetPublisher {
 public:
  explicit KeySetPublisher(std::shared_ptr<const KeySet> initial) : current_(std::move(initial)) {}

  // Makes `next` (non-null) the current set. Thread-safe.
  void Publish(std::shared_ptr<const KeySet> next) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = std::move(next);
    }
    generation_.fetch_add(1, std::memory_order_release);
  }

  // The current set. Takes the mutex: not for the request path.
  std::shared_ptr<const KeySet> Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const KeySet> current_;
  std::atomic<uint64_t> generation_{0};
};

// One thread's view of the publisher. Not thread-safe: one per thread.
class KeySetReader {
 public:
  explicit KeySetReader(const KeySetPublisher& publisher)
      : publisher_(publisher), generation_(publisher.generation()), set_(publisher.Current()) {}

  // The current set; the reference stays valid until the next Get().
  const KeySet& Get() {
    uint64_t g = publisher_.generation();
    if (g != generation_) {
      // Read the generation before the pointer: if a Publish lands between
      // the two, the next Get() sees a newer generation and refreshes again.
      generation_ = g;
      set_ = publisher_.Current();
    }
    return *set_;
  }

 private:
  const KeySetPublisher& publisher_;
  uint64_t generation_;
  std::shared_ptr<const KeySet> set_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_KEY_SET_H_

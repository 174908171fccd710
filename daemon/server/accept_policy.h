// SPDX-License-Identifier: Apache-2.0
// accept_policy.h
//
// Who gets one of the loop's connection places, so that no single user can
// take them all and shut everyone else out. Places are counted per peer uid
// (SO_PEERCRED at accept) and in total. A new connection from `uid` is
// refused:
//   1. kFull when `max_total` connections are open;
//   2. kUidFull when `uid` already holds `max_per_uid` (0 = no cap);
//   3. kReserved when only the reserve is left (the last max_total / 8
//      places) and `uid` already holds at least light_share() connections:
//      the last places go to users holding few, so root and the other users
//      still get in while one or more users hog the rest.
// Rules 2 and 3 apply only with a per-uid cap (max_per_uid != 0).
//
// Thread-safety: every method may be called from any thread (one mutex; an
// accept is not a hot path).
#ifndef TOKEND_DAEMON_SERVER_ACCEPT_POLICY_H_
#define TOKEND_DAEMON_SERVER_ACCEPT_POLICY_H_

#include <sys/types.h>

#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace tokend::server {

class AcceptPolicy {
 public:
  enum class Decision { kAdmit, kFull, kUidFull, kReserved };

  AcceptPolicy(size_t max_total, size_t max_per_uid);
  AcceptPolicy(const AcceptPolicy&) = delete;
  AcceptPolicy& operator=(const AcceptPolicy&) = delete;

  // Takes a place for `uid` on kAdmit (give it back with Release()); takes
  // nothing otherwise.
  Decision Admit(uid_t uid);
  // REQUIRES: a place `uid` took with Admit().
  void Release(uid_t uid);

  size_t open() const;
  size_t open_for(uid_t uid) const;
  // The places kept for users holding fewer than light_share() each.
  size_t reserve() const { return reserve_; }
  size_t light_share() const { return light_share_; }

 private:
  const size_t max_total_;
  const size_t max_per_uid_;
  const size_t reserve_;
  const size_t light_share_;
  mutable std::mutex mu_;
  size_t open_ = 0;                           // guarded by mu_
  std::unordered_map<uid_t, size_t> by_uid_;  // guarded by mu_; no zero counts
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_ACCEPT_POLICY_H_

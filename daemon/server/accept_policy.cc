// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/accept_policy.h"

#include <algorithm>
#include <cassert>

namespace tokend::server {

AcceptPolicy::AcceptPolicy(size_t max_total, size_t max_per_uid)
    : max_total_(max_total),
      max_per_uid_(max_per_uid),
      reserve_(max_per_uid == 0 ? 0 : max_total / 8),
      light_share_(std::max<size_t>(1, std::min(max_per_uid, max_total / 8) / 8)) {}

AcceptPolicy::Decision AcceptPolicy::Admit(uid_t uid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= max_total_) return Decision::kFull;
  if (max_per_uid_ != 0) {
    const auto it = by_uid_.find(uid);
    const size_t held = it == by_uid_.end() ? 0 : it->second;
    if (held >= max_per_uid_) return Decision::kUidFull;
    if (max_total_ - open_ <= reserve_ && held >= light_share_) return Decision::kReserved;
  }
  ++open_;
  ++by_uid_[uid];
  return Decision::kAdmit;
}

void AcceptPolicy::Release(uid_t uid) {
  std::lock_guard<std::mutex> lock(mu_);
  assert(open_ > 0);
  --open_;
  const auto it = by_uid_.find(uid);
  assert(it != by_uid_.end());
  if (it != by_uid_.end() && --it->second == 0) by_uid_.erase(it);
}

size_t AcceptPolicy::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

size_t AcceptPolicy::open_for(uid_t uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? 0 : it->second;
}

}  // namespace tokend::server

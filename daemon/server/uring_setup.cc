// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/uring_setup.h"

#include <cerrno>

namespace tokend::server {

int SetupRing(io_uring* ring, unsigned sq_entries, unsigned cq_entries) {
  static constexpr unsigned kFlagSets[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int ret = -EINVAL;
  for (unsigned flags : kFlagSets) {
    io_uring_params p{};
    p.flags = flags;
    if (cq_entries != 0) {
      p.flags |= IORING_SETUP_CQSIZE;
      p.cq_entries = cq_entries;
    }
    ret = io_uring_queue_init_params(sq_entries, ring, &p);
    if (ret != -EINVAL) return ret;  // made, or refused for a reason no flag changes
  }
  return ret;
}

}  // namespace tokend::server

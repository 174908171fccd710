// SPDX-License-Identifier: Apache-2.0
// uring_setup.h
//
// Making an io_uring the same way everywhere: the daemon's worker loops, the
// transport floor server and tokend-bench's client loop, so that a
// comparison between them is never a comparison between ring setups.
#ifndef TOKEND_DAEMON_SERVER_URING_SETUP_H_
#define TOKEND_DAEMON_SERVER_URING_SETUP_H_

#include <liburing.h>

namespace tokend::server {

// SetupRing()
//
// io_uring_queue_init_params() for `sq_entries` submission entries and,
// when `cq_entries` is not 0, that many completion entries (else the
// kernel's default, twice sq_entries), with the newest flags the kernel
// accepts: SINGLE_ISSUER | DEFER_TASKRUN (Linux 6.1), else COOP_TASKRUN
// (5.19), else none. Whichever is taken, only the calling thread may submit
// to the ring and reap it. Returns 0, or the -errno of the last attempt
// (-EPERM where seccomp forbids io_uring, as Docker's default profile does).
int SetupRing(io_uring* ring, unsigned sq_entries, unsigned cq_entries);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_URING_SETUP_H_

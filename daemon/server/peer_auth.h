// SPDX-License-Identifier: Apache-2.0
// peer_auth.h
//
// Who may talk to the daemon, decided once per connection at accept from
// the kernel's record of the peer (SO_PEERCRED, and SO_PEERGROUPS for the
// supplementary groups): the credentials the client had when it called
// connect(2), which it cannot forge.
//
// The rule: with both allow lists empty, anyone the socket file's mode lets
// connect is allowed. Otherwise a peer is allowed when its uid is in
// `uids`, or its primary gid or any of its supplementary groups is in
// `gids`. There is no implicit exception, not even for root.
//
// Thread-safety: PeerPolicy is immutable after construction and may be
// shared; the functions keep no state.
#ifndef TOKEND_DAEMON_SERVER_PEER_AUTH_H_
#define TOKEND_DAEMON_SERVER_PEER_AUTH_H_

#include <sys/types.h>

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tokend::server {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;              // primary group
  std::vector<gid_t> groups;  // supplementary groups (may include gid)
};

class PeerPolicy {
 public:
  PeerPolicy() = default;
  PeerPolicy(std::vector<uid_t> uids, std::vector<gid_t> gids);

  // True when no list is set: every peer is allowed and nothing is checked.
  bool allows_everyone() const { return uids_.empty() && gids_.empty(); }
  // Whether `peer` passes the rule in the file comment.
  bool Allows(const PeerCredentials& peer) const;

 private:
  std::vector<uid_t> uids_;  // sorted
  std::vector<gid_t> gids_;  // sorted
};

// GetPeerCredentials()
//
// The credentials of the peer of the connected Unix socket `fd`. Supplementary
// groups come from SO_PEERGROUPS; on a kernel without it (before 4.13) the
// list is empty. Fails with the errno's code when getsockopt fails.
absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd);

// CheckPeer()
//
// OK when `policy` allows everyone (no system call) or allows the peer of
// `fd`; kPermissionDenied (naming the uid and gid) when it does not; the
// error of GetPeerCredentials() when the credentials cannot be read.
absl::Status CheckPeer(int fd, const PeerPolicy& policy);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_PEER_AUTH_H_

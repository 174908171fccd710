// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/peer_auth.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59  // Linux 4.13
#endif

namespace tokend::server {
namespace {

template <typename T>
std::vector<T> Sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

template <typename T>
bool Contains(const std::vector<T>& sorted, T v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

absl::Status ErrnoStatus(int err, const char* what) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, ": ", std::strerror(err)));
}

}  // namespace

PeerPolicy::PeerPolicy(std::vector<uid_t> uids, std::vector<gid_t> gids)
    : uids_(Sorted(std::move(uids))), gids_(Sorted(std::move(gids))) {}

bool PeerPolicy::Allows(const PeerCredentials& peer) const {
  if (allows_everyone()) return true;
  if (Contains(uids_, peer.uid)) return true;
  if (Contains(gids_, peer.gid)) return true;
  for (gid_t g : peer.groups) {
    if (Contains(gids_, g)) return true;
  }
  return false;
}

absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  PeerCredentials out;
  out.pid = cred.pid;
  out.uid = cred.uid;
  out.gid = cred.gid;

  // SO_PEERGROUPS reports the size it needs with ERANGE; a peer rarely has
  // more than a handful of groups, so one retry at most.
  std::vector<gid_t> groups(32);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      out.groups = std::move(groups);
      return out;
    }
    if (errno == ERANGE && attempt == 0) {
      groups.resize(glen / sizeof(gid_t) + 1);
      continue;
    }
    if (errno == ENOPROTOOPT) return out;  // old kernel: primary group only
    return ErrnoStatus(errno, "getsockopt(SO_PEERGROUPS)");
  }
  return ErrnoStatus(ERANGE, "getsockopt(SO_PEERGROUPS)");
}

absl::Status CheckPeer(int fd, const PeerPolicy& policy) {
  if (policy.allows_everyone()) return absl::OkStatus();
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (!peer.ok()) return peer.status();
  if (policy.Allows(*peer)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("peer uid ", peer->uid, " gid ", peer->gid,
                                                  " (pid ", peer->pid, ") is not allowed"));
}

}  // namespace tokend::server

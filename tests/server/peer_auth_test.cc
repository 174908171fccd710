// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/peer_auth.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "gtest/gtest.h"

namespace tokend::server {
namespace {

PeerCredentials Peer(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
  PeerCredentials p;
  p.uid = uid;
  p.gid = gid;
  p.groups = std::move(groups);
  return p;
}

TEST(PeerAuthTest, EmptyListsAllowEveryone) {
  PeerPolicy p;
  EXPECT_TRUE(p.allows_everyone());
  EXPECT_TRUE(p.Allows(Peer(12345, 12345)));
}

TEST(PeerAuthTest, UidListAllowsOnlyThoseUids) {
  PeerPolicy p({1000, 33}, {});
  EXPECT_FALSE(p.allows_everyone());
  EXPECT_TRUE(p.Allows(Peer(33, 5)));
  EXPECT_TRUE(p.Allows(Peer(1000, 5)));
  EXPECT_FALSE(p.Allows(Peer(1001, 5)));
  EXPECT_FALSE(p.Allows(Peer(0, 0))) << "root gets no implicit pass";
}

TEST(PeerAuthTest, GidListMatchesPrimaryOrSupplementaryGroup) {
  PeerPolicy p({}, {700});
  EXPECT_TRUE(p.Allows(Peer(1, 700)));
  EXPECT_TRUE(p.Allows(Peer(1, 2, {5, 700, 9})));
  EXPECT_FALSE(p.Allows(Peer(1, 2, {5, 9})));
}

TEST(PeerAuthTest, EitherListSuffices) {
  PeerPolicy p({10}, {20});
  EXPECT_TRUE(p.Allows(Peer(10, 99)));
  EXPECT_TRUE(p.Allows(Peer(99, 20)));
  EXPECT_FALSE(p.Allows(Peer(99, 99)));
}

class SocketPair : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fds_[2];
};

TEST_F(SocketPair, CredentialsAreThisProcesss) {
  absl::StatusOr<PeerCredentials> c = GetPeerCredentials(fds_[0]);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->uid, ::getuid());
  EXPECT_EQ(c->gid, ::getgid());
  EXPECT_EQ(c->pid, ::getpid());
  std::vector<gid_t> mine(::getgroups(0, nullptr));
  mine.resize(::getgroups(static_cast<int>(mine.size()), mine.data()));
  for (gid_t g : mine) {
    EXPECT_NE(std::find(c->groups.begin(), c->groups.end(), g), c->groups.end()) << g;
  }
}

TEST_F(SocketPair, CheckPeerAllowsAndRefuses) {
  EXPECT_TRUE(CheckPeer(fds_[0], PeerPolicy()).ok());
  EXPECT_TRUE(CheckPeer(fds_[0], PeerPolicy({::getuid()}, {})).ok());
  EXPECT_TRUE(CheckPeer(fds_[0], PeerPolicy({}, {::getgid()})).ok());
  const absl::Status refused = CheckPeer(fds_[0], PeerPolicy({::getuid() + 1}, {::getgid() + 1}));
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
}

TEST(PeerAuthTest, CheckPeerOnANonSocketFails) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const absl::Status st = CheckPeer(p[0], PeerPolicy({1}, {}));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.code(), absl::StatusCode::kPermissionDenied);
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace tokend::server

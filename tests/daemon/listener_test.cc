// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/daemon/test_util.h"

namespace tokend::server {
namespace {

using ::testing::HasSubstr;
using tokend::testing::BindUnix;
using tokend::testing::TempDir;
using tokend::testing::TryConnect;

// The process umask, read without changing it.
mode_t CurrentUmask() {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

ListenerOptions Options(const std::string& path, mode_t mode = 0660) {
  ListenerOptions o;
  o.path = path;
  o.mode = mode;
  return o;
}

// A socket file with nothing behind it: bound, then closed without unlink.
void MakeStaleSocket(const std::string& path) {
  int fd = BindUnix(path, SOCK_STREAM, -1);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_EQ(TryConnect(path), ECONNREFUSED);
}

TEST(ListenerTest, CreatesAListeningSocketWithExactlyTheModeAndRestoresTheUmask) {
  TempDir dir;
  for (mode_t umask_before : {mode_t{0}, mode_t{022}, mode_t{077}, mode_t{0777}}) {
    for (mode_t mode : {mode_t{0660}, mode_t{0600}, mode_t{0666}, mode_t{0777}, mode_t{0640}}) {
      SCOPED_TRACE(::testing::Message()
                   << "umask " << std::oct << umask_before << " mode " << mode);
      ::umask(umask_before);
      std::string path = dir.file("s.sock");
      absl::StatusOr<Listener> l = Listener::Bind(Options(path, mode));
      ASSERT_TRUE(l.ok()) << l.status();
      EXPECT_EQ(CurrentUmask(), umask_before);
      struct stat st = Lstat(path);
      EXPECT_TRUE(S_ISSOCK(st.st_mode));
      EXPECT_EQ(st.st_mode & 07777, mode);
      EXPECT_FALSE(l->inherited());
      EXPECT_FALSE(l->replaced_stale());
      EXPECT_EQ(l->path(), path);
      int fl = ::fcntl(l->fd(), F_GETFL);
      EXPECT_TRUE(fl & O_NONBLOCK);
      EXPECT_TRUE(::fcntl(l->fd(), F_GETFD) & FD_CLOEXEC);
      int listening = 0;
      socklen_t len = sizeof(listening);
      ASSERT_EQ(::getsockopt(l->fd(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len), 0);
      EXPECT_EQ(listening, 1);
      l->Close();
      EXPECT_FALSE(Exists(path));
    }
  }
  ::umask(022);
}

TEST(ListenerTest, UmaskIsRestoredWhenBindFails) {
  TempDir dir;
  ::umask(027);
  absl::StatusOr<Listener> l = Listener::Bind(Options(dir.file("missing-dir/s.sock")));
  EXPECT_FALSE(l.ok());
  EXPECT_THAT(std::string(l.status().message()), HasSubstr(dir.file("missing-dir/s.sock")));
  EXPECT_EQ(CurrentUmask(), mode_t{027});
  ::umask(022);
}

TEST(ListenerTest, GroupIsSetWhenAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's group to an arbitrary gid needs root";
  TempDir dir;
  ListenerOptions o = Options(dir.file("g.sock"), 0660);
  o.group = 4242;
  absl::StatusOr<Listener> l = Listener::Bind(o);
  ASSERT_TRUE(l.ok()) << l.status();
  struct stat st = Lstat(o.path);
  EXPECT_EQ(st.st_gid, gid_t{4242});
  EXPECT_EQ(st.st_mode & 07777, mode_t{0660});
}

TEST(ListenerTest, AcceptsConnections) {
  TempDir dir;
  absl::StatusOr<Listener> l = Listener::Bind(Options(dir.file("a.sock")));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(TryConnect(l->path()), 0);
}

TEST(ListenerTest, StaleSocketFileIsReplaced) {
  TempDir dir;
  std::string path = dir.file("stale.sock");
  MakeStaleSocket(path);
  absl::StatusOr<Listener> l = Listener::Bind(Options(path, 0640));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->replaced_stale());
  EXPECT_EQ(Lstat(path).st_mode & 07777, mode_t{0640});
  EXPECT_EQ(TryConnect(path), 0);  // the stale file refused connections
}

TEST(ListenerTest, LiveSocketIsRefusedAndLeftAlone) {
  TempDir dir;
  std::string path = dir.file("live.sock");
  int live = BindUnix(path, SOCK_STREAM, 16);
  ASSERT_GE(live, 0);
  struct stat before = Lstat(path);
  absl::StatusOr<Listener> l = Listener::Bind(Options(path));
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(l.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(l.status().message()), HasSubstr("already listening"));
  struct stat after = Lstat(path);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(TryConnect(path), 0);
  ::close(live);
}

TEST(ListenerTest, LiveSocketWithAFullBacklogIsStillRefused) {
  TempDir dir;
  std::string path = dir.file("busy.sock");
  int live = BindUnix(path, SOCK_STREAM, 0);
  ASSERT_GE(live, 0);
  // Fill the backlog until connect() would block.
  std::vector<int> clients;
  for (int i = 0; i < 64; ++i) {
    int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr = tokend::testing::UnixAddress(path);
    int rc = ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    clients.push_back(c);
    if (rc != 0 && errno == EAGAIN) break;
  }
  absl::StatusOr<Listener> l = Listener::Bind(Options(path));
  EXPECT_EQ(l.status().code(), absl::StatusCode::kAlreadyExists) << l.status();
  EXPECT_TRUE(Exists(path));
  for (int c : clients) ::close(c);
  ::close(live);
}

TEST(ListenerTest, NonSocketFilesAreRefusedAndLeftAlone) {
  TempDir dir;
  std::string file = dir.file("regular");
  { std::ofstream(file) << "not a socket"; }
  std::string subdir = dir.file("subdir");
  ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
  std::string link = dir.file("link");
  MakeStaleSocket(dir.file("target.sock"));
  ASSERT_EQ(::symlink(dir.file("target.sock").c_str(), link.c_str()), 0);
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

  for (const std::string& path : {file, subdir, link, fifo}) {
    SCOPED_TRACE(path);
    struct stat before = Lstat(path);
    absl::StatusOr<Listener> l = Listener::Bind(Options(path));
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(l.status().message()), HasSubstr("is not a socket"));
    EXPECT_THAT(std::string(l.status().message()), HasSubstr(path));
    struct stat after = Lstat(path);
    EXPECT_EQ(after.st_ino, before.st_ino);
  }
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "not a socket");
}

TEST(ListenerTest, TooLongPathIsRefused) {
  absl::StatusOr<Listener> l = Listener::Bind(Options("/tmp/" + std::string(200, 'x')));
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ListenerTest, ModeAbove0777IsRefused) {
  TempDir dir;
  absl::StatusOr<Listener> l = Listener::Bind(Options(dir.file("m.sock"), 04777));
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Exists(dir.file("m.sock")));
}

TEST(ListenerTest, CloseLeavesAFileThatReplacedOurs) {
  TempDir dir;
  std::string path = dir.file("r.sock");
  absl::StatusOr<Listener> l = Listener::Bind(Options(path));
  ASSERT_TRUE(l.ok()) << l.status();
  // A successor moved its own socket into place.
  std::string other = dir.file("other.sock");
  int fd = BindUnix(other, SOCK_STREAM, 4);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::rename(other.c_str(), path.c_str()), 0);
  l->Close();
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ(TryConnect(path), 0);
  ::close(fd);
}

TEST(ListenerTest, MovedListenerOwnsTheSocketOnce) {
  TempDir dir;
  std::string path = dir.file("mv.sock");
  absl::StatusOr<Listener> l = Listener::Bind(Options(path));
  ASSERT_TRUE(l.ok()) << l.status();
  Listener moved = std::move(*l);
  EXPECT_EQ(l->fd(), -1);
  l->Close();  // the moved-from shell owns nothing
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ(TryConnect(path), 0);
  moved.Close();
  EXPECT_FALSE(Exists(path));
}

TEST(ListenerTest, AdoptedSocketIsNeverUnlinked) {
  TempDir dir;
  std::string path = dir.file("adopt.sock");
  int fd = BindUnix(path, SOCK_STREAM, 8);
  ASSERT_GE(fd, 0);
  absl::StatusOr<Listener> l = Listener::Adopt(fd);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->inherited());
  EXPECT_EQ(l->path(), path);
  EXPECT_TRUE(::fcntl(l->fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(l->fd(), F_GETFD) & FD_CLOEXEC);
  l->Close();
  EXPECT_TRUE(Exists(path));
}

TEST(ListenerTest, AdoptRefusesWhatIsNotAListeningUnixStreamSocket) {
  TempDir dir;
  int not_listening = BindUnix(dir.file("nl.sock"), SOCK_STREAM, -1);
  int dgram = BindUnix(dir.file("dg.sock"), SOCK_DGRAM, -1);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  for (int fd : {not_listening, dgram, pipefd[0]}) {
    absl::StatusOr<Listener> l = Listener::Adopt(fd);
    ASSERT_FALSE(l.ok()) << fd;
    EXPECT_THAT(std::string(l.status().message()),
                HasSubstr("is not a listening AF_UNIX SOCK_STREAM socket"));
  }
  for (int fd : {not_listening, dgram, pipefd[0], pipefd[1]}) ::close(fd);
}

TEST(ListenerTest, FromSystemdWithoutActivationIsEmpty) {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->empty());
}

// Runs `body` in a child process whose descriptors from 3 on are `fds` and
// whose LISTEN_* variables say `count` descriptors were passed; returns its
// exit code.
int InChildWithListenFds(std::vector<int> fds, const char* count, int (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Move the originals out of the way first, then into place.
    for (int& fd : fds) fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (::dup2(fds[i], 3 + static_cast<int>(i)) < 0) ::_exit(100);
    }
    ::setenv("LISTEN_FDS", count, 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(ListenerTest, FromSystemdTakesTheInheritedSocketAndUnsetsTheVariables) {
  TempDir dir;
  std::string path = dir.file("act.sock");
  int fd = BindUnix(path, SOCK_STREAM, 8);
  ASSERT_GE(fd, 0);
  static std::string expected_path;
  expected_path = path;
  int code = InChildWithListenFds({fd}, "1", [] {
    absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
    if (!l.ok() || l->size() != 1) return 1;
    Listener& only = l->front();
    if (only.fd() != 3 || !only.inherited() || only.path() != expected_path) return 2;
    if (std::getenv("LISTEN_FDS") != nullptr || std::getenv("LISTEN_PID") != nullptr) return 3;
    only.Close();
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(Exists(path));  // the child's Close() did not unlink it
  EXPECT_EQ(TryConnect(path), 0);
  ::close(fd);
}

TEST(ListenerTest, FromSystemdReturnsEverySocketAndTakeByPathPicksOne) {
  TempDir dir;
  static std::string a_path, b_path;
  a_path = dir.file("a.sock");
  b_path = dir.file("b.sock");
  int a = BindUnix(a_path, SOCK_STREAM, 8);
  int b = BindUnix(b_path, SOCK_STREAM, 8);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  int code = InChildWithListenFds({a, b}, "2", [] {
    absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
    if (!l.ok() || l->size() != 2) return 1;
    std::optional<Listener> second = Listener::TakeByPath(&*l, b_path);
    if (!second.has_value() || second->fd() != 4 || l->size() != 1) return 2;
    if (Listener::TakeByPath(&*l, "/nowhere").has_value() || l->size() != 1) return 3;
    if (l->front().path() != a_path) return 4;
    return 0;
  });
  EXPECT_EQ(code, 0);
  ::close(a);
  ::close(b);
}

// systemd names the sockets in LISTEN_FDNAMES (FileDescriptorName=): the
// daemon picks its HTTP socket by the name "http", whatever its path.
TEST(ListenerTest, FromSystemdKeepsTheNamesAndTakeByNamePicksOne) {
  TempDir dir;
  static std::string a_path, b_path;
  a_path = dir.file("a.sock");
  b_path = dir.file("b.sock");
  int a = BindUnix(a_path, SOCK_STREAM, 8);
  int b = BindUnix(b_path, SOCK_STREAM, 8);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ::setenv("LISTEN_FDNAMES", "protocol:http", 1);
  int code = InChildWithListenFds({a, b}, "2", [] {
    absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
    if (!l.ok() || l->size() != 2) return 1;
    if (l->front().name() != "protocol" || l->back().name() != "http") return 2;
    if (std::getenv("LISTEN_FDNAMES") != nullptr) return 3;
    if (Listener::TakeByName(&*l, "metrics").has_value() || l->size() != 2) return 4;
    std::optional<Listener> http = Listener::TakeByName(&*l, "http");
    if (!http.has_value() || http->fd() != 4 || http->path() != b_path || l->size() != 1) return 5;
    return 0;
  });
  ::unsetenv("LISTEN_FDNAMES");
  EXPECT_EQ(code, 0);
  ::close(a);
  ::close(b);
}

// Without LISTEN_FDNAMES no socket has a name, so TakeByName finds none.
TEST(ListenerTest, FromSystemdWithoutNamesLeavesThemEmpty) {
  TempDir dir;
  int a = BindUnix(dir.file("a.sock"), SOCK_STREAM, 8);
  ASSERT_GE(a, 0);
  ::unsetenv("LISTEN_FDNAMES");
  int code = InChildWithListenFds({a}, "1", [] {
    absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
    if (!l.ok() || l->size() != 1) return 1;
    if (!l->front().name().empty()) return 2;
    if (Listener::TakeByName(&*l, "http").has_value()) return 3;
    return 0;
  });
  EXPECT_EQ(code, 0);
  ::close(a);
}

TEST(ListenerTest, FromSystemdRefusesANonListeningSocket) {
  TempDir dir;
  int not_listening = BindUnix(dir.file("nl.sock"), SOCK_STREAM, -1);
  int listening = BindUnix(dir.file("l.sock"), SOCK_STREAM, 8);
  ASSERT_GE(not_listening, 0);
  ASSERT_GE(listening, 0);
  auto refused = [] {
    absl::StatusOr<std::vector<Listener>> l = Listener::FromSystemd();
    return l.ok() ? 1 : 0;
  };
  EXPECT_EQ(InChildWithListenFds({not_listening}, "1", refused), 0);
  EXPECT_EQ(InChildWithListenFds({listening, not_listening}, "2", refused), 0);
  ::close(not_listening);
  ::close(listening);
}

}  // namespace
}  // namespace tokend::server

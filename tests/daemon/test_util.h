// SPDX-License-Identifier: Apache-2.0
// test_util.h
//
// Small helpers shared by the tests of daemon/: a temporary directory that
// removes itself, and raw Unix-socket helpers. Not thread-safe.
#ifndef TOKEND_TESTS_DAEMON_TEST_UTIL_H_
#define TOKEND_TESTS_DAEMON_TEST_UTIL_H_

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace tokend::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tokend-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  return addr;
}

// A socket bound at `path` (listening when `listen_backlog` >= 0), or -1.
inline int BindUnix(const std::string& path, int type, int listen_backlog) {
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr = UnixAddress(path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (listen_backlog >= 0 && ::listen(fd, listen_backlog) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// 0 when a stream connection to `path` succeeds (the socket is closed
// again), else the connect errno.
inline int TryConnect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un addr = UnixAddress(path);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

}  // namespace tokend::testing

#endif  // TOKEND_TESTS_DAEMON_TEST_UTIL_H_

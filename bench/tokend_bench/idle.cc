// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/idle.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/tokend_bench/runner.h"
#include "protocol/codec.h"

namespace tokend::bench {
namespace {

namespace protocol = tokend::protocol;

void RaiseFileLimit(size_t wanted) {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

class FdSet {
 public:
  ~FdSet() {
    for (int fd : fds_) ::close(fd);
  }
  void Add(int fd) { fds_.push_back(fd); }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::vector<int> fds_;
};

}  // namespace

absl::StatusOr<uint64_t> ReadVmRssKib(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (v.substr(0, 6) != "VmRSS:") continue;
    v = absl::StripAsciiWhitespace(v.substr(6));
    if (v.size() > 3 && v.substr(v.size() - 3) == " kB") v.remove_suffix(3);
    uint64_t kib = 0;
    if (!absl::SimpleAtoi(v, &kib)) break;
    return kib;
  }
  return absl::DataLossError(absl::StrCat(path, ": no VmRSS line"));
}

absl::StatusOr<pid_t> PeerPid(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::InternalError(absl::StrCat("SO_PEERCRED: ", std::strerror(errno)));
  }
  return cred.pid;
}

absl::StatusOr<IdleResult> MeasureIdleConnections(const std::string& socket_path, size_t n,
                                                  pid_t server_pid) {
  RaiseFileLimit(n + 64);
  IdleResult r;
  r.socket_path = socket_path;
  r.connections = n;
  r.server_pid = server_pid;
  if (r.server_pid == 0) {
    absl::StatusOr<int> probe = ConnectUnix(socket_path);
    if (!probe.ok()) return probe.status();
    absl::StatusOr<pid_t> pid = PeerPid(*probe);
    ::close(*probe);
    if (!pid.ok()) return pid.status();
    r.server_pid = *pid;
  }
  absl::StatusOr<uint64_t> before = ReadVmRssKib(r.server_pid);
  if (!before.ok()) return before.status();
  r.rss_before_kib = *before;

  FdSet conns;
  std::string ping;
  protocol::AppendPingRequest(&ping, 1);
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<int> fd = ConnectUnix(socket_path);
    if (!fd.ok()) {
      return absl::Status(fd.status().code(),
                          absl::StrCat("idle connection ", i, ": ", fd.status().message()));
    }
    conns.Add(*fd);
    if (::send(*fd, ping.data(), ping.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(ping.size())) {
      return absl::UnavailableError(absl::StrCat("idle connection ", i, ": send failed"));
    }
  }

  // Every connection must see its PING answered.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (int fd : conns.fds()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  size_t answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<epoll_event> events(1024);
  while (answered < n && std::chrono::steady_clock::now() < deadline) {
    const int got = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    for (int i = 0; i < got; ++i) {
      char buf[64];
      const ssize_t len = ::recv(events[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (len == static_cast<ssize_t>(protocol::kHeaderSize)) {
        ++answered;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, events[i].data.fd, nullptr);
      } else if (len == 0) {
        ::close(ep);
        return absl::UnavailableError("the server closed an idle connection");
      }
    }
  }
  ::close(ep);
  if (answered < n) {
    return absl::DeadlineExceededError(
        absl::StrCat(n - answered, " of ", n, " idle connections got no PING answer in 30 s"));
  }
  absl::StatusOr<uint64_t> after = ReadVmRssKib(r.server_pid);
  if (!after.ok()) return after.status();
  r.rss_after_kib = *after;
  return r;
}

}  // namespace tokend::bench

// SPDX-License-Identifier: Apache-2.0
#include "client/connection.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "tokend/client.h"

namespace tokend::client {
namespace {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Sleeps `ms` milliseconds; a signal only shortens the nap (callers loop).
void Nap(int ms) { poll(nullptr, 0, ms); }

int ClassifyConnectErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ECONNREFUSED:
      return TOKEND_ERR_NO_DAEMON;
    case EACCES:
    case EPERM:
      return TOKEND_ERR_PERMISSION;
    default:
      return TOKEND_ERR_CONNECT;
  }
}

bool IsLost(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }

}  // namespace

Deadline Deadline::After(int timeout_ms) {
  Deadline d;
  d.at_ns_ = MonotonicNs() + static_cast<int64_t>(timeout_ms) * 1000000;
  return d;
}

int Deadline::RemainingMs() const {
  const int64_t left = at_ns_ - MonotonicNs();
  if (left <= 0) return 0;
  const int64_t ms = (left + 999999) / 1000000;
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

std::string ErrnoMessage(const char* what, int err) {
  char buf[128];
  // GNU strerror_r returns the message, which may or may not be `buf`.
  const char* msg = strerror_r(err, buf, sizeof buf);
  std::string out = what;
  out += ": ";
  out += msg;
  return out;
}

int Connection::Connect(const std::string& path, const Deadline& deadline, std::string* error) {
  Close();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    *error = "socket path \"" + path + "\" is empty or longer than " +
             std::to_string(sizeof(addr.sun_path) - 1) + " bytes";
    errno = EINVAL;
    return TOKEND_ERR_INVALID;
  }
  memcpy(addr.sun_path, path.data(), path.size());

  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    const int err = errno;
    *error = ErrnoMessage("socket", err);
    errno = err;
    return TOKEND_ERR_CONNECT;
  }

  int nap_ms = 1;
  for (;;) {
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return TOKEND_OK;
    int err = errno;
    if (err == EISCONN) return TOKEND_OK;
    if (err == EINTR) continue;
    if (err == EINPROGRESS || err == EALREADY) {
      const int rc = Wait(/*want_write=*/true, deadline, error);
      if (rc != TOKEND_OK) {
        Close();
        return rc;
      }
      socklen_t len = sizeof err;
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0) return TOKEND_OK;
    } else if (err == EAGAIN) {
      // AF_UNIX: the daemon's listen queue is full. Poll cannot tell when
      // it drains, so retry with a short, growing nap.
      const int left = deadline.RemainingMs();
      if (left == 0) {
        *error = "connect " + path + ": the daemon's listen queue stayed full until the timeout";
        Close();
        errno = EAGAIN;
        return TOKEND_ERR_TIMEOUT;
      }
      Nap(std::min(nap_ms, left));
      nap_ms = std::min(nap_ms * 2, 50);
      continue;
    }
    *error = ErrnoMessage(("connect " + path).c_str(), err);
    Close();
    errno = err;
    return ClassifyConnectErrno(err);
  }
}

void Connection::Close() {
  if (fd_ >= 0) {
    const int saved = errno;
    close(fd_);  // Linux frees the descriptor even when close reports EINTR
    fd_ = -1;
    errno = saved;
  }
}

Io Connection::Send(const char* data, size_t len, size_t* sent, std::string* error) {
  for (;;) {
    const ssize_t n = send(fd_, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      *sent = static_cast<size_t>(n);
      return Io::kDone;
    }
    const int err = n == 0 ? EAGAIN : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return Io::kAgain;
    *error = ErrnoMessage("send", err);
    errno = err;
    return IsLost(err) ? Io::kLost : Io::kFailed;
  }
}

Io Connection::Recv(char* buf, size_t len, size_t* received, std::string* error) {
  for (;;) {
    const ssize_t n = recv(fd_, buf, len, MSG_DONTWAIT);
    if (n > 0) {
      *received = static_cast<size_t>(n);
      return Io::kDone;
    }
    if (n == 0) {
      *error = "the daemon closed the connection";
      return Io::kLost;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return Io::kAgain;
    *error = ErrnoMessage("recv", err);
    errno = err;
    return IsLost(err) ? Io::kLost : Io::kFailed;
  }
}

int Connection::Wait(bool want_write, const Deadline& deadline, std::string* error) {
  for (;;) {
    const int left = deadline.RemainingMs();
    if (left == 0) {
      *error = "the daemon did not answer within the timeout";
      errno = ETIMEDOUT;
      return TOKEND_ERR_TIMEOUT;
    }
    pollfd p{};
    p.fd = fd_;
    p.events = static_cast<short>(POLLIN | (want_write ? POLLOUT : 0));
    const int n = poll(&p, 1, left);
    if (n > 0) return TOKEND_OK;  // POLLHUP/POLLERR too: the next I/O call says what
    if (n == 0) continue;         // the loop head reports the timeout
    const int err = errno;
    if (err == EINTR) continue;
    *error = ErrnoMessage("poll", err);
    errno = err;
    return TOKEND_ERR_IO;
  }
}

}  // namespace tokend::client

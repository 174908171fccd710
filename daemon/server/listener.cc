// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tokend::server {
namespace {

absl::Status ErrnoError(int err, absl::string_view what, absl::string_view path) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EADDRINUSE:
    case EEXIST:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

bool MakeAddress(const std::string& path, sockaddr_un* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// What answers at an existing socket file.
enum class Probe { kLive, kStale };

absl::StatusOr<Probe> ProbeSocket(const sockaddr_un& addr, socklen_t len, const std::string& path) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return ErrnoError(errno, "socket() to probe", path);
  int rc = ::connect(s, reinterpret_cast<const sockaddr*>(&addr), len);
  int err = rc == 0 ? 0 : errno;
  ::close(s);
  // A full backlog (EAGAIN) still means something is listening.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return Probe::kLive;
  if (err == ECONNREFUSED) return Probe::kStale;
  return ErrnoError(err, "cannot tell whether a server is listening on", path);
}

absl::Status SetNonBlockingCloexec(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    return ErrnoError(errno, "fcntl(O_NONBLOCK) on inherited socket", std::to_string(fd));
  }
  int fdfl = ::fcntl(fd, F_GETFD);
  if (fdfl < 0 || ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
    return ErrnoError(errno, "fcntl(FD_CLOEXEC) on inherited socket", std::to_string(fd));
  }
  return absl::OkStatus();
}

std::string SocketPathOf(int fd) {
  sockaddr_un addr;
  socklen_t len = sizeof(addr);
  std::memset(&addr, 0, sizeof(addr));
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  if (len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] == '\0') return "";
  return std::string(addr.sun_path, strnlen(addr.sun_path, sizeof(addr.sun_path)));
}

}  // namespace

absl::StatusOr<Listener> Listener::Bind(const ListenerOptions& options) {
  const std::string& path = options.path;
  sockaddr_un addr;
  socklen_t addr_len = 0;
  if (!MakeAddress(path, &addr, &addr_len)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path \"", path,
                                                   "\" is empty or longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  if ((options.mode & ~static_cast<mode_t>(0777)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket mode ", options.mode, " is not in 0..0777"));
  }

  bool replaced_stale = false;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
    }
    absl::StatusOr<Probe> probe = ProbeSocket(addr, addr_len, path);
    if (!probe.ok()) return probe.status();
    if (*probe == Probe::kLive) {
      return absl::AlreadyExistsError(absl::StrCat("a server is already listening on ", path,
                                                   " (another tokend?); leaving it alone"));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, "cannot remove stale socket", path);
    }
    replaced_stale = true;
  } else if (errno != ENOENT) {
    return ErrnoError(errno, "cannot stat", path);
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoError(errno, "socket() for", path);

  // Bind with only the owner's bits of the mode, so that no one else can
  // connect before the group and the final mode are in place.
  const mode_t owner_only = options.mode & 0700;
  const mode_t old_umask = ::umask(static_cast<mode_t>(0777 & ~owner_only));
  int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len);
  int bind_errno = errno;
  ::umask(old_umask);
  if (rc != 0) {
    ::close(fd);
    if (bind_errno == EADDRINUSE) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " appeared while binding (another tokend starting?)"));
    }
    return ErrnoError(bind_errno, "bind", path);
  }

  // From here on the file is ours: a failure removes it.
  auto fail = [&](int err, absl::string_view what) {
    ::unlink(path.c_str());
    ::close(fd);
    return ErrnoError(err, what, path);
  };
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
    return fail(errno, "stat after bind");
  if (options.group.has_value() &&
      ::lchown(path.c_str(), static_cast<uid_t>(-1), *options.group) != 0) {
    return fail(errno, absl::StrCat("cannot set group ", *options.group, " on"));
  }
  if (::chmod(path.c_str(), options.mode) != 0) return fail(errno, "cannot chmod");
  if (::listen(fd, options.backlog) != 0) return fail(errno, "listen on");

  Listener listener(fd, path, /*inherited=*/false, st.st_dev, st.st_ino);
  listener.replaced_stale_ = replaced_stale;
  return listener;
}

absl::StatusOr<std::vector<Listener>> Listener::FromSystemd() {
  char** names = nullptr;
  int n = sd_listen_fds_with_names(/*unset_environment=*/1, &names);
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad socket activation variables (LISTEN_FDS): ", std::strerror(-n)));
  }
  std::vector<std::string> fd_names;
  if (names != nullptr) {
    for (int i = 0; i < n; ++i) {
      fd_names.emplace_back(names[i] != nullptr ? names[i] : "");
      std::free(names[i]);
    }
    std::free(names);
  }
  std::vector<Listener> listeners;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Listener> adopted = Adopt(SD_LISTEN_FDS_START + i);
    if (!adopted.ok()) return adopted.status();
    // Without LISTEN_FDNAMES systemd's library names every socket "unknown".
    if (static_cast<size_t>(i) < fd_names.size() && fd_names[i] != "unknown") {
      adopted->name_ = fd_names[i];
    }
    listeners.push_back(*std::move(adopted));
  }
  return listeners;
}

std::optional<Listener> Listener::TakeByName(std::vector<Listener>* listeners,
                                             const std::string& name) {
  for (auto it = listeners->begin(); it != listeners->end(); ++it) {
    if (!name.empty() && it->name() == name) {
      Listener taken = std::move(*it);
      listeners->erase(it);
      return taken;
    }
  }
  return std::nullopt;
}

std::optional<Listener> Listener::TakeByPath(std::vector<Listener>* listeners,
                                             const std::string& path) {
  for (auto it = listeners->begin(); it != listeners->end(); ++it) {
    if (it->path() == path) {
      Listener taken = std::move(*it);
      listeners->erase(it);
      return taken;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Listener> Listener::Adopt(int fd) {
  int r = sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, nullptr, 0);
  if (r < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("inherited descriptor ", fd, " is unusable: ", std::strerror(-r)));
  }
  if (r == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inherited descriptor ", fd, " is not a listening AF_UNIX SOCK_STREAM socket"));
  }
  absl::Status st = SetNonBlockingCloexec(fd);
  if (!st.ok()) return st;
  return Listener(fd, SocketPathOf(fd), /*inherited=*/true, 0, 0);
}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      name_(std::move(other.name_)),
      inherited_(other.inherited_),
      replaced_stale_(other.replaced_stale_),
      dev_(other.dev_),
      ino_(other.ino_) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    name_ = std::move(other.name_);
    inherited_ = other.inherited_;
    replaced_stale_ = other.replaced_stale_;
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

Listener::~Listener() { Close(); }

void Listener::Close() {
  if (fd_ < 0) return;
  if (!inherited_ && !path_.empty()) {
    // Unlink only the file we created: a successor may have replaced it.
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ &&
        st.st_ino == ino_) {
      ::unlink(path_.c_str());
    }
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace tokend::server

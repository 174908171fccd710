// SPDX-License-Identifier: Apache-2.0
// listener.h
//
// The listening Unix socket the event loops accept on: either inherited from
// systemd (socket activation, LISTEN_FDS) or created at a path. Creating one:
//   - a path where a live daemon answers (connect succeeds, or its backlog
//     is full) is refused with a clear error and left alone;
//   - a stale socket file (connect gets ECONNREFUSED) is replaced;
//   - any other existing file (not a socket) is refused;
//   - the socket file is never, even for an instant, more open than the
//     requested mode: it is bound under a umask that leaves only the owner's
//     bits, then given its group, then chmod-ed to the requested mode. The
//     process umask is restored before Bind() returns.
// A socket we created is unlinked when its Listener is destroyed (only if
// the path still names the inode we created); an inherited one never is.
//
// Thread-safety: Bind() changes the process umask for the duration of one
// bind(2); call it before starting threads that create files. A Listener is
// a move-only owner of its descriptor; its const methods are thread-safe.
#ifndef TOKEND_DAEMON_SERVER_LISTENER_H_
#define TOKEND_DAEMON_SERVER_LISTENER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tokend::server {

struct ListenerOptions {
  std::string path;
  mode_t mode = 0660;
  std::optional<gid_t> group;  // unset: keep the creating process's group
  int backlog = 4096;
};

class Listener {
 public:
  // Bind()
  //
  // Creates, binds and listens on `options.path` by the rules above. Fails
  // with kAlreadyExists when a live daemon answers there, kFailedPrecondition
  // when the path is not a socket, and the errno's code (with the path and
  // the call in the message) otherwise. The descriptor is non-blocking and
  // close-on-exec.
  static absl::StatusOr<Listener> Bind(const ListenerOptions& options);

  // FromSystemd()
  //
  // The sockets systemd passed through LISTEN_FDS / LISTEN_PID
  // (sd_listen_fds), in order; empty when none were passed. Fails when any
  // of them is not a listening AF_UNIX SOCK_STREAM socket (the caller then
  // serves none). Unsets the LISTEN_* variables so children do not inherit
  // them. Each descriptor is made non-blocking and close-on-exec, and
  // carries the name systemd gave it (FileDescriptorName=, LISTEN_FDNAMES).
  static absl::StatusOr<std::vector<Listener>> FromSystemd();

  // TakeByName()
  //
  // Moves out of `listeners` the one whose name() is `name`, if any.
  static std::optional<Listener> TakeByName(std::vector<Listener>* listeners,
                                            const std::string& name);

  // TakeByPath()
  //
  // Moves out of `listeners` the one whose path() is `path`, if any.
  static std::optional<Listener> TakeByPath(std::vector<Listener>* listeners,
                                            const std::string& path);

  // Adopt()
  //
  // Wraps an already listening descriptor (inherited: never unlinked).
  // Checks it as FromSystemd() does.
  static absl::StatusOr<Listener> Adopt(int fd);

  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  int fd() const { return fd_; }
  // The socket's path (from getsockname for an inherited socket; may be
  // empty for an unnamed one).
  const std::string& path() const { return path_; }
  // The name systemd passed with an inherited socket (FileDescriptorName=;
  // by default the socket unit's name); empty otherwise.
  const std::string& name() const { return name_; }
  // True when the socket came from systemd and is not ours to unlink.
  bool inherited() const { return inherited_; }
  // True when Bind() found a stale socket file and replaced it.
  bool replaced_stale() const { return replaced_stale_; }

  // Closes the descriptor and, for a socket we created, unlinks its file if
  // the path still names it. Idempotent; the destructor calls it.
  void Close();

 private:
  Listener(int fd, std::string path, bool inherited, dev_t dev, ino_t ino)
      : fd_(fd), path_(std::move(path)), inherited_(inherited), dev_(dev), ino_(ino) {}

  int fd_ = -1;
  std::string path_;
  std::string name_;
  bool inherited_ = false;
  bool replaced_stale_ = false;
  dev_t dev_ = 0;  // identity of the socket file we created
  ino_t ino_ = 0;
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_LISTENER_H_

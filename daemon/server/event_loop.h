// event_loop.h
//
// The loops that move bytes between client sockets and Services: io_uring
// (uring_loop.cc) and epoll (epoll_loop.cc), with the same behaviour. Each
// runs `threads` workers; each worker owns its ring or epoll set, its
// connections and its own Service (from the factory, called on that worker's
// thread). Workers share only the listening socket.
#ifndef TOKEND_DAEMON_SERVER_EVENT_LOOP_H_
#define TOKEND_DAEMON_SERVER_EVENT_LOOP_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/server/service.h"

namespace tokend::server {

struct LoopOptions {
  int threads = 1;
  size_t max_connections = 16384;            // across all workers
  size_t max_unsent_bytes = 1 << 20;         // per connection: stop reading above this
  std::chrono::milliseconds frame_timeout{10000};  // an incomplete frame may sit this long
  std::chrono::milliseconds drain_timeout{5000};   // Stop(): time to answer what was received
  // Peer credential allow lists (SO_PEERCRED at accept); empty = anyone the
  // socket's file mode lets in.
  std::vector<uid_t> allow_uids;
  std::vector<gid_t> allow_gids;
};

using ServiceFactory = std::function<std::unique_ptr<Service>(int worker)>;

class EventLoop {
 public:
  virtual ~EventLoop() = default;
  // Runs the workers until Stop(); returns when all have exited.
  virtual absl::Status Run() = 0;
  // Stop accepting, answer what was already received, close, return from
  // Run(). Thread-safe; not async-signal-safe (call from a signal thread).
  virtual void Stop() = 0;
  virtual const char* name() const = 0;  // "io_uring" or "epoll"
};

// MakeUringLoop()
//
// Fails with kUnavailable when io_uring is refused (seccomp, sysctl
// kernel.io_uring_disabled, old kernel): the caller falls back to epoll.
absl::StatusOr<std::unique_ptr<EventLoop>> MakeUringLoop(int listen_fd, LoopOptions options,
                                                         ServiceFactory factory);
absl::StatusOr<std::unique_ptr<EventLoop>> MakeEpollLoop(int listen_fd, LoopOptions options,
                                                         ServiceFactory factory);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_EVENT_LOOP_H_

// SPDX-License-Identifier: Apache-2.0
// event_loop.h
//
// The loops that move bytes between client sockets and protocol handlers
// (protocol_handler.h): io_uring (uring_loop.cc) and epoll (epoll_loop.cc),
// with the same behaviour. A loop serves one or more endpoints, each a
// listening socket with its own handler factory (tokend: the binary
// protocol's socket and, optionally, the HTTP socket). Each loop runs
// `threads` workers; each worker accepts on every endpoint and owns its ring
// or epoll set, its connections and one handler per endpoint (from the
// endpoint's factory, called on that worker's thread). A connection is
// served by the handler of the endpoint it was accepted on. Workers share
// only the listening sockets and the connection count; the limits and
// allow lists apply to all endpoints together.
//
// Behaviour common to both loops:
//   - Every response a batch of completions produces for a connection goes
//     out in one send.
//   - A protocol error is answered (after the responses before it) and the
//     connection then closes; nothing after the bad frame is answered.
//   - A connection whose unsent responses exceed max_unsent_bytes is not
//     read from until they are down to half of that; while the buffers of
//     all connections together exceed max_buffered_bytes, the same holds
//     above Connection::kTightUnsentBytes (connection.h). A paused
//     connection is not read from at all (io_uring keeps one receive in
//     flight, cancelled at the pause).
//   - A connection whose unsent output has not moved for
//     write_stall_timeout is closed; an incomplete frame older than
//     frame_timeout closes its connection.
//   - Past max_connections a new connection is closed at once; so is one
//     whose uid holds max_connections_per_uid places, or, while only the
//     last eighth of max_connections is free, one whose uid already holds
//     several (accept_policy.h); and a peer the allow lists refuse. None of
//     this touches any other connection.
//   - Stop(): accepting stops, the bytes each connection had already been
//     sent are read and answered, then each connection closes once its
//     responses are out; one still unsent drain_timeout after Stop() is
//     closed anyway, and Run() returns.
//
// Thread-safety: Run() is called once, from one thread; Stop() and stats()
// from any thread. Ownership: the loop does not own the listening sockets
// (the caller closes them after Run() returns); it owns every accepted
// descriptor. The epoll loop sets O_NONBLOCK on each listening socket; the
// io_uring loop accepts either way.
#ifndef TOKEND_DAEMON_SERVER_EVENT_LOOP_H_
#define TOKEND_DAEMON_SERVER_EVENT_LOOP_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/server/protocol_handler.h"
#include "daemon/server/service.h"

namespace tokend::server {

// A listening socket and the handlers of the connections accepted on it.
struct Endpoint {
  int listen_fd = -1;
  HandlerFactory factory;
};

// The most endpoints one loop serves.
inline constexpr size_t kMaxEndpoints = 8;

struct LoopOptions {
  int threads = 1;
  size_t max_connections = 16384;     // across all workers
  size_t max_unsent_bytes = 1 << 20;  // per connection: stop reading above this
  // All connections' buffers together; above this every connection stops
  // reading while it has more than Connection::kTightUnsentBytes unsent.
  // 0 = no global limit.
  size_t max_buffered_bytes = 16 << 20;
  // Unsent output that has not moved for this long closes its connection;
  // zero = never.
  std::chrono::milliseconds write_stall_timeout{30000};
  // Places one peer uid may hold; 0 = no per-uid cap (and no reserve).
  size_t max_connections_per_uid = 0;
  std::chrono::milliseconds frame_timeout{10000};  // an incomplete frame may sit this long
  std::chrono::milliseconds drain_timeout{5000};   // Stop(): time to answer what was received
  // Peer credential allow lists (SO_PEERCRED at accept); empty = anyone the
  // socket's file mode lets in. See peer_auth.h for the rule.
  std::vector<uid_t> allow_uids;
  std::vector<gid_t> allow_gids;
  // Tuning. The most one read takes from one connection (the size of each
  // io_uring provided buffer, and of the epoll loop's read buffer).
  size_t recv_buffer_size = 16 * 1024;
  // io_uring: provided buffers per worker (rounded up to a power of two, at
  // most 32768). When they run out the kernel ends a connection's receive
  // with -ENOBUFS, and the loop re-arms it once buffers are back.
  size_t recv_buffers = 256;
};

// Counters of one loop, summed over its workers; each value is exact, a
// snapshot may mix values a few events apart.
struct LoopStats {
  uint64_t connections_accepted = 0;  // admitted past the limit and the allow lists
  uint64_t connections_open = 0;      // admitted and not yet closed
  uint64_t refused_max_connections = 0;
  uint64_t refused_peer = 0;            // refused by the allow lists
  uint64_t refused_per_uid = 0;         // refused by max_connections_per_uid or the reserve
  uint64_t write_stall_timeouts = 0;    // closed for output that did not move
  uint64_t buffered_bytes = 0;          // buffer memory all connections hold now
  uint64_t frame_timeouts = 0;          // closed for an incomplete frame
  uint64_t drain_timeouts = 0;          // closed with responses still unsent
  uint64_t read_pauses = 0;             // times a connection hit its unsent cap
  uint64_t recv_no_buffers = 0;         // io_uring: receives ended by -ENOBUFS
  ServiceStats service;                 // every handler of every endpoint
  std::vector<ServiceStats> endpoints;  // each endpoint's handlers, in the order given
};

using ServiceFactory = std::function<std::unique_ptr<Service>(int worker)>;

class EventLoop {
 public:
  virtual ~EventLoop() = default;
  // Runs the workers until Stop(); returns when all have exited. An error
  // (a worker's setup failed, a null Service from the factory, an
  // unexpected failure of the ring or epoll set) stops every worker and is
  // returned.
  virtual absl::Status Run() = 0;
  // Stop accepting, answer what was already received, close, return from
  // Run(). Thread-safe; not async-signal-safe (call from a signal thread).
  // Before Run(), makes Run() return at once.
  virtual void Stop() = 0;
  virtual const char* name() const = 0;  // "io_uring" or "epoll"
  // Thread-safe; valid before, during and after Run().
  virtual LoopStats stats() const { return {}; }
};

// MakeUringLoop()
//
// Fails with kUnavailable when io_uring is refused (seccomp, sysctl
// kernel.io_uring_disabled, old kernel): the caller falls back to epoll. The
// check sets up a ring and a provided-buffer ring (5.19, as the multishot
// accept) and runs one receive into it, so a kernel lacking any feature the
// loop needs is caught here.
// kInvalidArgument on a bad option (threads < 1, a zero size), on no
// endpoint or more than kMaxEndpoints, and on an endpoint with no socket or
// no factory, or a socket given twice.
absl::StatusOr<std::unique_ptr<EventLoop>> MakeUringLoop(std::vector<Endpoint> endpoints,
                                                         LoopOptions options);
absl::StatusOr<std::unique_ptr<EventLoop>> MakeEpollLoop(std::vector<Endpoint> endpoints,
                                                         LoopOptions options);

// ServiceEndpoint()
//
// The Endpoint of `listen_fd` served by the Services `factory` makes (a null
// factory gives an endpoint with no factory).
Endpoint ServiceEndpoint(int listen_fd, ServiceFactory factory);

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_EVENT_LOOP_H_

// SPDX-License-Identifier: Apache-2.0
// connection.h
//
// The socket under a tokend_client: connect to a Unix socket with a
// deadline, and move bytes both ways without ever blocking past it. Errors
// are TOKEND_ERR_* codes (include/tokend/client.h) with a message in words;
// a lost connection (EOF, EPIPE, ECONNRESET) is told apart from other I/O
// errors so that the caller can reconnect once.
// Not thread-safe; a Connection owns its file descriptor.
#ifndef TOKEND_CLIENT_CONNECTION_H_
#define TOKEND_CLIENT_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tokend::client {

// A point on the monotonic clock after which a call gives up.
class Deadline {
 public:
  // REQUIRES: timeout_ms >= 0.
  static Deadline After(int timeout_ms);

  bool Expired() const { return RemainingMs() == 0; }
  // Milliseconds left, rounded up, for poll(); 0 once the deadline passed.
  int RemainingMs() const;

 private:
  int64_t at_ns_ = 0;
};

// What one I/O step did.
enum class Io {
  kDone,    // progress: bytes moved
  kAgain,   // would block: poll, then retry
  kLost,    // the peer closed or reset the connection
  kFailed,  // any other error; errno-based message in *error
};

class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connect()
  //
  // Closes any current socket, then connects a non-blocking, close-on-exec
  // stream socket to `path`. Returns TOKEND_OK, or TOKEND_ERR_INVALID (path
  // too long), _NO_DAEMON (ENOENT, ENOTDIR, ECONNREFUSED), _PERMISSION
  // (EACCES, EPERM), _TIMEOUT (the listen queue stayed full until
  // `deadline`) or _CONNECT, with errno set and a message in *error.
  int Connect(const std::string& path, const Deadline& deadline, std::string* error);

  void Close();
  bool is_open() const { return fd_ >= 0; }

  // Send()
  //
  // One non-blocking send (MSG_NOSIGNAL: a closed peer is kLost, never
  // SIGPIPE); EINTR is retried. On kDone, *sent > 0.
  Io Send(const char* data, size_t len, size_t* sent, std::string* error);

  // Recv()
  //
  // One non-blocking receive into `buf`; EINTR is retried. End of stream is
  // kLost. On kDone, *received > 0.
  Io Recv(char* buf, size_t len, size_t* received, std::string* error);

  // Wait()
  //
  // Polls until the socket is readable (or hung up), or also writable when
  // `want_write`, or `deadline` passes. EINTR re-polls with the time left.
  // Returns TOKEND_OK, TOKEND_ERR_TIMEOUT or TOKEND_ERR_IO.
  int Wait(bool want_write, const Deadline& deadline, std::string* error);

 private:
  int fd_ = -1;
};

// "what: strerror(err)", thread-safe.
std::string ErrnoMessage(const char* what, int err);

}  // namespace tokend::client

#endif  // TOKEND_CLIENT_CONNECTION_H_

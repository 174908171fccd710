// SPDX-License-Identifier: Apache-2.0
// harness.h
//
// Runs the real tokend binary for integration tests: a temporary directory
// holding the socket, the keys and the log; a NOTIFY_SOCKET datagram socket
// the test binds, through which the daemon says READY=1, RELOADING=1,
// STOPPING=1; and a blocking protocol client built on the codec.
// TokendProcess and Client are used from one thread each (a test may run
// several Clients on several threads). Destroying a TokendProcess kills a
// daemon still running and removes the directory.
#ifndef TOKEND_TESTS_INTEGRATION_HARNESS_H_
#define TOKEND_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/codec.h"

namespace tokend::integration {

using std::chrono::milliseconds;

inline constexpr milliseconds kDeadline{10000};

// A response frame, its VALIDATE fields copied out.
struct Response {
  protocol::FrameHeader header;
  std::string body;
  bool protocol_error = false;  // body is the single byte 255
  uint8_t status = 0xff;        // VALIDATE only
  uint8_t alg = 0;
  int64_t exp = 0;
  std::string subject;
  std::string claims;
};

class Client {
 public:
  Client() = default;
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&&) = delete;
  Client(const Client&) = delete;

  // Connects to `path`; false (with errno kept) on failure.
  bool Connect(const std::string& path);
  void Close();
  int fd() const { return fd_; }

  bool SendAll(std::string_view bytes);
  // Reads until `n` response frames are in, the peer closes, or the
  // deadline passes; returns what arrived.
  std::vector<Response> Read(size_t n, milliseconds deadline = kDeadline);
  // True when the peer closes (read returns 0 or ECONNRESET) before the
  // deadline, with no more bytes arriving first.
  bool WaitClosed(milliseconds deadline = kDeadline);

  // One VALIDATE round trip; status 0xff when no answer came.
  Response Validate(std::string_view token, std::string_view audience = "", uint16_t flags = 0);
  // One PING round trip; true when the echo arrived with the right id.
  bool Ping();

 private:
  int fd_ = -1;
  uint32_t next_id_ = 1;
  std::string in_;  // bytes read but not yet a whole frame
};

class TokendProcess {
 public:
  // Creates the temporary directory (with keys/ inside) and binds the
  // notify socket.
  TokendProcess();
  ~TokendProcess();
  TokendProcess(const TokendProcess&) = delete;
  TokendProcess& operator=(const TokendProcess&) = delete;

  const std::string& dir() const { return dir_; }
  std::string socket_path() const { return dir_ + "/tokend.sock"; }
  std::string keys_dir() const { return dir_ + "/keys"; }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  // Writes `bytes` to keys/<name> through a temporary file renamed into
  // place (as a deployment would), mode 0600.
  void WriteKey(const std::string& name, std::string_view bytes) const;
  void WriteFile(const std::string& path, std::string_view bytes) const;

  struct SpawnOptions {
    std::vector<std::string> prefix;     // a wrapper run before tokend
    std::vector<std::string> extra_env;  // "NAME=VALUE"
    // Runs the process under a seccomp filter that fails io_uring_setup(2)
    // with EPERM, as systemd's SystemCallFilter or the sysctl
    // kernel.io_uring_disabled would.
    bool deny_io_uring = false;
  };

  // Spawns `prefix... tokend args...` with stdout and stderr going to the
  // log file and NOTIFY_SOCKET set. With an empty prefix the daemon is the
  // spawned process itself.
  bool Spawn(const std::vector<std::string>& args, const SpawnOptions& options);
  bool Spawn(const std::vector<std::string>& args) { return Spawn(args, SpawnOptions{}); }
  // The usual command line: --socket, --keys and --threads 2, then `args`.
  bool Start(const std::vector<std::string>& args);

  // Waits for a READY=1 notification. False when the process exits or the
  // deadline passes first.
  bool WaitReady(milliseconds deadline = kDeadline);
  // The next notification containing `needle` (earlier ones are kept in
  // notifications()), or "" at the deadline.
  std::string WaitNotify(std::string_view needle, milliseconds deadline = kDeadline);
  const std::vector<std::string>& notifications() const { return notifications_; }

  void Signal(int signo) const;
  // After Signal(SIGSTOP): waits until every thread of the process has
  // stopped (kill() returns before they have). False at the deadline or
  // when the process is gone.
  bool WaitStopped(milliseconds deadline = kDeadline);
  // The exit code once the process has exited (a signal death is 128 +
  // signal), or nullopt at the deadline.
  std::optional<int> WaitExit(milliseconds deadline = kDeadline);
  bool running() const { return pid_ > 0 && !exit_code_.has_value(); }
  pid_t pid() const { return pid_; }

  // Everything the daemon wrote to stdout and stderr so far.
  std::string Log() const;

 private:
  bool SpawnWithoutIoUring(char** argv, char** envp);
  std::string ReadNotify(milliseconds timeout);
  bool Reap(bool block);

  std::string dir_;
  int notify_fd_ = -1;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::vector<std::string> notifications_;
  size_t notify_seen_ = 0;  // notifications_ already returned by WaitNotify
};

// The path of the tokend binary under test.
const char* TokendBinary();

// Signed tokens for the keys a test writes (HMAC with tools/minter/minter.h).
std::string Mint(std::string_view secret, std::string_view kid, std::string_view payload_json,
                 std::string_view alg = "HS256");
std::string RandomKey(size_t bytes = 32);
int64_t Now();

}  // namespace tokend::integration

#endif  // TOKEND_TESTS_INTEGRATION_HARNESS_H_

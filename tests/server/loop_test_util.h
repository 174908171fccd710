// SPDX-License-Identifier: Apache-2.0
// loop_test_util.h
//
// Helpers for the event-loop tests: a listening socket in a temporary
// directory, a running loop (io_uring or epoll) over the fake validator, and
// a blocking client that reads response frames with a deadline.
#ifndef TOKEND_TESTS_SERVER_LOOP_TEST_UTIL_H_
#define TOKEND_TESTS_SERVER_LOOP_TEST_UTIL_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "daemon/server/event_loop.h"
#include "daemon/server/service.h"
#include "gtest/gtest.h"
#include "protocol/codec.h"
#include "tests/server/fake_validator.h"

namespace tokend::server::testing {

using namespace std::chrono_literals;

// Generous: only a broken loop ever waits this long.
inline constexpr auto kDeadline = std::chrono::seconds(20);

enum class LoopKind { kUring, kEpoll };

inline std::string KindName(const ::testing::TestParamInfo<LoopKind>& info) {
  return info.param == LoopKind::kUring ? "io_uring" : "epoll";
}

// Polls `pred` until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout =
                        std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A listening Unix socket in a fresh temporary directory.
class TempSocket {
 public:
  TempSocket() {
    std::string tmpl = "/tmp/tokend-loop-XXXXXX";
    char* dir = ::mkdtemp(tmpl.data());
    if (dir == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    dir_ = dir;
    path_ = dir_ + "/s.sock";
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd_, 4096) != 0) {
      ADD_FAILURE() << "bind/listen: " << std::strerror(errno);
    }
  }
  ~TempSocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  TempSocket(const TempSocket&) = delete;
  TempSocket& operator=(const TempSocket&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

struct Response {
  protocol::FrameHeader header;
  std::string body;
};

// A blocking client connection.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ADD_FAILURE() << "connect: " << std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `n` response frames are in (true), or the connection ends
  // or the deadline passes (false; what was read is in *out).
  bool Read(size_t n, std::vector<Response>* out,
            std::chrono::milliseconds timeout =
                std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      while (out->size() < n && buf_.size() >= protocol::kHeaderSize) {
        const protocol::FrameHeader h = protocol::DecodeHeader(buf_.data());
        if (buf_.size() < protocol::kHeaderSize + h.body_len) break;
        out->push_back({h, buf_.substr(protocol::kHeaderSize, h.body_len)});
        buf_.erase(0, protocol::kHeaderSize + h.body_len);
      }
      if (out->size() >= n) return true;
      if (!Fill(end)) return false;
    }
  }

  std::vector<Response> Read(size_t n) {
    std::vector<Response> out;
    EXPECT_TRUE(Read(n, &out)) << "got " << out.size() << " of " << n << " responses";
    return out;
  }

  // True when the server closes the connection (end of stream or reset)
  // with no further bytes before the deadline.
  bool ExpectClosed(std::chrono::milliseconds timeout =
                        std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (buf_.empty()) {
      if (!Fill(end)) return closed_;
    }
    ADD_FAILURE() << buf_.size() << " unexpected bytes before close";
    return false;
  }

  // True when nothing arrives and the connection stays open for `quiet`.
  bool StaysQuiet(std::chrono::milliseconds quiet) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(quiet.count())) == 0 && buf_.empty();
  }

 private:
  // Reads once; false at end of stream, error or deadline.
  bool Fill(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    if (n == 0 || errno == ECONNRESET) closed_ = true;
    return false;
  }

  int fd_ = -1;
  std::string buf_;
  bool closed_ = false;
};

inline std::string Ping(uint32_t id) {
  std::string s;
  protocol::AppendPingRequest(&s, id);
  return s;
}

inline std::string Validate(uint32_t id, std::string_view token, std::string_view aud = "",
                            uint16_t flags = 0) {
  std::string s;
  protocol::AppendValidateRequest(&s, id, flags, token, aud);
  return s;
}

inline protocol::ValidateResponse DecodeValidate(const Response& r) {
  protocol::ValidateResponse v;
  EXPECT_TRUE(protocol::DecodeValidateResponse(r.body, &v));
  return v;
}

// MakeLoop()
//
// A loop of `kind` with one endpoint: `listen_fd`, served by the Services
// `factory` makes.
inline absl::StatusOr<std::unique_ptr<EventLoop>> MakeLoop(LoopKind kind, int listen_fd,
                                                           LoopOptions options,
                                                           ServiceFactory factory) {
  std::vector<Endpoint> endpoints;
  endpoints.push_back(ServiceEndpoint(listen_fd, std::move(factory)));
  return kind == LoopKind::kUring ? MakeUringLoop(std::move(endpoints), std::move(options))
                                  : MakeEpollLoop(std::move(endpoints), std::move(options));
}

// A loop of `kind` over FakeValidators, running on its own thread.
class RunningLoop {
 public:
  // Sets *skip_reason (and runs nothing) when io_uring is refused here.
  RunningLoop(LoopKind kind, int listen_fd, LoopOptions options, std::string* skip_reason) {
    ServiceFactory factory = [this](int) {
      return std::make_unique<Service>(std::make_unique<FakeValidator>(&validate_calls_));
    };
    absl::StatusOr<std::unique_ptr<EventLoop>> loop =
        MakeLoop(kind, listen_fd, std::move(options), factory);
    if (!loop.ok()) {
      if (kind == LoopKind::kUring && loop.status().code() == absl::StatusCode::kUnavailable) {
        *skip_reason = "io_uring unavailable here: " + std::string(loop.status().message());
      } else {
        ADD_FAILURE() << loop.status();
      }
      return;
    }
    loop_ = *std::move(loop);
    thread_ = std::thread([this] { run_status_ = loop_->Run(); });
  }

  ~RunningLoop() { EXPECT_TRUE(StopAndJoin().ok()) << run_status_; }

  absl::Status StopAndJoin() {
    if (loop_ != nullptr) loop_->Stop();
    if (thread_.joinable()) thread_.join();
    return run_status_;
  }

  EventLoop* loop() { return loop_.get(); }
  LoopStats stats() const { return loop_->stats(); }
  uint64_t validate_calls() const { return validate_calls_.load(); }

 private:
  std::atomic<uint64_t> validate_calls_{0};
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  absl::Status run_status_;
};

}  // namespace tokend::server::testing

#endif  // TOKEND_TESTS_SERVER_LOOP_TEST_UTIL_H_

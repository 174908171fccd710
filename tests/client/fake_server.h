// SPDX-License-Identifier: Apache-2.0
// fake_server.h
//
// A stand-in for tokend in client tests: it listens on a Unix socket,
// serves each connection on its own thread with blocking I/O, and speaks
// the wire protocol through the real codec (protocol/codec.h). Its
// answers are a pure function of the request (below), so a test can check
// that each result belongs to its own request; its Behavior makes it
// misbehave the ways a client must survive: answer out of order, never
// answer, drop connections, send protocol errors, wrong ids or garbage.
//
// Answers: a token "status:N" gets status N (alg HS384, exp 99); any other
// token gets OK, alg HS256, exp kFakeExp, subject = the token, and, when
// WANT_CLAIMS is set, claims {"tok":"<token>","aud":"<audience>"}.
//
// Thread-safe: the test thread may change the behavior and read the
// counters while connections are served.
#ifndef TOKEND_TESTS_CLIENT_FAKE_SERVER_H_
#define TOKEND_TESTS_CLIENT_FAKE_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tokend::testing {

inline constexpr int64_t kFakeExp = 1700000000;

enum class Behavior {
  kAnswer,         // answer every request, in order
  kReverse,        // hold answers until `group` requests are in, answer them reversed
  kSilent,         // read requests, never answer
  kHold,           // hold every answer until Release()
  kProtocolError,  // answer the first request with the 255 byte, then close
  kWrongId,        // answer with the request id + 1000
  kBadVersion,     // answer with a frame header of version 2
};

class FakeServer {
 public:
  // Listens on `path` (removed first if it exists).
  explicit FakeServer(std::string path);
  ~FakeServer();  // Stop()
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Starts listening and accepting. Returns false (with the reason in
  // error()) when the socket cannot be set up.
  bool Start();
  // Closes the listener and every connection, joins the threads, removes
  // the socket file: what a daemon's exit looks like to its clients.
  void Stop();

  void set_behavior(Behavior b) { behavior_.store(b); }
  void set_group(size_t n) { group_.store(n); }
  // Connection number `n` (1-based: 1 is the first accepted) is closed
  // after answering `answers` requests (0: right after accept). Others are
  // unaffected. May be called before the connection exists.
  void CloseConnectionAfter(int n, uint64_t answers);
  // Every connection closes after `answers` answers (0: off).
  void set_close_every_after(uint64_t answers) { close_every_after_.store(answers); }
  // Lets held answers go (Behavior::kHold).
  void Release();

  int connections() const { return connections_.load(); }
  int closed_connections() const { return closed_.load(); }
  uint64_t requests() const { return requests_.load(); }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

  // Waits until `pred` holds for this server, up to 10 s. True if it did.
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(*this); });
  }

 private:
  void AcceptLoop();
  void Serve(int fd, int number);
  void Notify();

  const std::string path_;
  std::string error_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};
  std::thread acceptor_;
  std::atomic<Behavior> behavior_{Behavior::kAnswer};
  std::atomic<size_t> group_{2};
  std::atomic<uint64_t> close_every_after_{0};
  std::atomic<int> connections_{0};
  std::atomic<int> closed_{0};
  std::atomic<uint64_t> requests_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  bool stopping_ = false;
  std::vector<std::pair<int, uint64_t>> close_after_;  // (connection number, answers)
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
};

}  // namespace tokend::testing

#endif  // TOKEND_TESTS_CLIENT_FAKE_SERVER_H_

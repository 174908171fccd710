// SPDX-License-Identifier: Apache-2.0
#include "tests/client/fake_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "protocol/codec.h"

namespace tokend::testing {
namespace {

namespace proto = ::tokend::protocol;

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The answer to one VALIDATE request (see the header).
void AppendAnswer(std::string* out, uint32_t id, uint16_t flags,
                  const proto::ValidateRequest& req) {
  proto::ValidateResponse r;
  std::string claims;
  constexpr std::string_view kStatusPrefix = "status:";
  if (req.token.substr(0, kStatusPrefix.size()) == kStatusPrefix) {
    const std::string_view n = req.token.substr(kStatusPrefix.size());
    unsigned v = 0;
    std::from_chars(n.data(), n.data() + n.size(), v);
    r.status = static_cast<uint8_t>(v);
    r.alg = 2;
    r.exp = 99;
  } else {
    r.status = 0;
    r.alg = 1;
    r.exp = kFakeExp;
    r.subject = req.token;
    if (flags & proto::kFlagWantClaims) {
      claims = "{\"tok\":\"" + std::string(req.token) + "\",\"aud\":\"" +
               std::string(req.audience) + "\"}";
      r.claims = claims;
    }
  }
  proto::AppendValidateResponse(out, id, r);
}

}  // namespace

FakeServer::FakeServer(std::string path) : path_(std::move(path)) {}

FakeServer::~FakeServer() { Stop(); }

bool FakeServer::Start() {
  unlink(path_.c_str());
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listen_fd_ < 0 || path_.size() >= sizeof addr.sun_path) {
    error_ = "socket or path length";
    return false;
  }
  memcpy(addr.sun_path, path_.data(), path_.size());
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 128) != 0 || pipe2(wake_fd_, O_CLOEXEC) != 0) {
    error_ = std::string("bind/listen/pipe: ") + strerror(errno);
    return false;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void FakeServer::Stop() {
  if (!acceptor_.joinable()) return;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  const char b = 0;
  (void)!write(wake_fd_[1], &b, 1);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(conn_threads_);
  }
  for (std::thread& t : threads) t.join();
  close(listen_fd_);
  close(wake_fd_[0]);
  close(wake_fd_[1]);
  listen_fd_ = wake_fd_[0] = wake_fd_[1] = -1;
  unlink(path_.c_str());
}

void FakeServer::CloseConnectionAfter(int n, uint64_t answers) {
  std::lock_guard<std::mutex> lock(mu_);
  close_after_.emplace_back(n, answers);
}

void FakeServer::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

void FakeServer::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

void FakeServer::AcceptLoop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int number = ++connections_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        close(fd);
        return;
      }
      conn_fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd, number] { Serve(fd, number); });
    }
    Notify();
  }
}

void FakeServer::Serve(int fd, int number) {
  uint64_t limit = close_every_after_.load();
  bool has_limit = limit != 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [n, answers] : close_after_) {
      if (n == number) {
        limit = answers;
        has_limit = true;
      }
    }
  }
  uint64_t answered = 0;
  bool closing = has_limit && limit == 0;
  std::string in;
  std::vector<std::string> held;
  char buf[64 * 1024];
  while (!closing) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    std::string out;
    size_t off = 0;
    while (!closing) {
      proto::RequestFrame f;
      size_t consumed = 0;
      const proto::FrameStatus st =
          proto::NextRequestFrame(std::string_view(in).substr(off), &f, &consumed);
      if (st == proto::FrameStatus::kNeedMore) break;
      off += consumed;
      ++requests_;
      Notify();
      const Behavior behavior = behavior_.load();
      proto::ValidateRequest req;
      if (st == proto::FrameStatus::kProtocolError || behavior == Behavior::kProtocolError ||
          (f.header.opcode == proto::kOpValidate && !proto::DecodeValidateRequest(f.body, &req))) {
        proto::AppendProtocolError(&out, f.header);
        closing = true;
        break;
      }
      if (behavior == Behavior::kSilent) continue;
      const uint32_t id = f.header.request_id + (behavior == Behavior::kWrongId ? 1000 : 0);
      std::string resp;
      if (f.header.opcode == proto::kOpPing) {
        proto::AppendPingResponse(&resp, id);
      } else {
        AppendAnswer(&resp, id, f.header.flags, req);
      }
      if (behavior == Behavior::kBadVersion) resp[4] = 2;
      if (behavior == Behavior::kReverse || behavior == Behavior::kHold) {
        held.push_back(std::move(resp));
        if (behavior == Behavior::kReverse && held.size() >= group_.load()) {
          for (auto it = held.rbegin(); it != held.rend(); ++it) out += *it;
          held.clear();
        }
      } else {
        out += resp;
      }
      ++answered;
      if (has_limit && answered >= limit) closing = true;
    }
    in.erase(0, off);
    if (behavior_.load() == Behavior::kHold && !held.empty()) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return released_ || stopping_; });
      for (std::string& r : held) out += r;
      held.clear();
    }
    if (!WriteAll(fd, out)) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn_fds_.erase(std::find(conn_fds_.begin(), conn_fds_.end(), fd));
    close(fd);
  }
  ++closed_;
  Notify();
}

}  // namespace tokend::testing

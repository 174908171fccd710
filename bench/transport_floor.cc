// SPDX-License-Identifier: Apache-2.0
// tokend-floor-server: the transport floor for the benchmark report.
//
// The least a server speaking docs/protocol.md over io_uring can do: one
// thread, one ring, multishot accept, multishot receive over provided
// buffers, and for every frame a fixed answer (a PING response for a PING,
// an OK VALIDATE response with subject "bench" for anything else) with no
// validation, no limits and no timers. All answers a batch of completions
// produces for one connection go out in one send. Run tokend-bench against
// it and against tokend: the difference is what tokend's own work costs.
//
//   tokend-floor-server --socket PATH
//
// Stops on SIGINT or SIGTERM and removes the socket file.
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/uring_setup.h"
#include "protocol/codec.h"

namespace {

namespace protocol = tokend::protocol;

// user_data: low 8 bits the operation, the rest the connection's fd.
enum Op : uint64_t { kAccept = 1, kRecv = 2, kSend = 3, kSignal = 4 };
uint64_t Tag(Op op, int fd = 0) { return op | (static_cast<uint64_t>(fd) << 8); }

constexpr unsigned kBuffers = 1024;
constexpr size_t kBufferSize = 16 * 1024;
constexpr uint16_t kGroup = 0;

struct Conn {
  int fd = -1;
  std::string in;       // an incomplete frame
  std::string pending;  // answers not yet handed to a send
  std::string sending;  // the send in flight
  size_t sent = 0;
  bool send_inflight = false;
  bool recv_armed = false;
  bool dirty = false;
  bool closing = false;
  bool cancel_sent = false;
};

class FloorServer {
 public:
  int Run(const char* path);

 private:
  bool Setup(const char* path);
  io_uring_sqe* Sqe();
  void ArmAccept();
  void ArmRecv(Conn& c);
  void OnRecv(int fd, int res, unsigned flags);
  void Answer(Conn& c, std::string_view data);
  void Flush(Conn& c);
  void MaybeClose(Conn& c);

  io_uring ring_{};
  io_uring_buf_ring* br_ = nullptr;
  char* bufs_ = nullptr;
  int listen_fd_ = -1;
  int sig_fd_ = -1;
  bool stop_ = false;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  std::vector<int> dirty_;
  int recycled_ = 0;         // buffers given back in this batch
  std::string validate_ok_;  // the fixed VALIDATE answer, id 0
};

bool FloorServer::Setup(const char* path) {
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof(a.sun_path)) {
    std::fprintf(stderr, "tokend-floor-server: socket path too long\n");
    return false;
  }
  std::strcpy(a.sun_path, path);
  ::unlink(path);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(listen_fd_, 4096) != 0) {
    std::fprintf(stderr, "tokend-floor-server: bind/listen %s: %s\n", path, std::strerror(errno));
    return false;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  sig_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);

  int ret = tokend::server::SetupRing(&ring_, 512, 8192);
  if (ret < 0) {
    std::fprintf(stderr, "tokend-floor-server: io_uring: %s\n", std::strerror(-ret));
    return false;
  }
  const size_t ring_bytes = kBuffers * sizeof(io_uring_buf);
  void* r = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* b = ::mmap(nullptr, kBuffers * kBufferSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED || b == MAP_FAILED) return false;
  br_ = static_cast<io_uring_buf_ring*>(r);
  bufs_ = static_cast<char*>(b);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(br_);
  reg.ring_entries = kBuffers;
  reg.bgid = kGroup;
  if ((ret = io_uring_register_buf_ring(&ring_, &reg, 0)) < 0) {
    std::fprintf(stderr, "tokend-floor-server: buffer ring: %s\n", std::strerror(-ret));
    return false;
  }
  io_uring_buf_ring_init(br_);
  for (unsigned i = 0; i < kBuffers; ++i) {
    io_uring_buf_ring_add(br_, bufs_ + i * kBufferSize, kBufferSize, static_cast<uint16_t>(i),
                          io_uring_buf_ring_mask(kBuffers), static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br_, kBuffers);

  protocol::ValidateResponse ok;
  ok.status = 0;
  ok.alg = 1;
  ok.exp = 4102444800;  // 2100-01-01
  ok.subject = "bench";
  protocol::AppendValidateResponse(&validate_ok_, 0, ok);
  return true;
}

io_uring_sqe* FloorServer::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  if (sqe == nullptr) {
    std::fprintf(stderr, "tokend-floor-server: submission queue full\n");
    std::abort();
  }
  return sqe;
}

void FloorServer::ArmAccept() {
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, Tag(kAccept));
}

void FloorServer::ArmRecv(Conn& c) {
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kGroup;
  io_uring_sqe_set_data64(sqe, Tag(kRecv, c.fd));
  c.recv_armed = true;
}

void FloorServer::Answer(Conn& c, std::string_view data) {
  std::string joined;
  if (!c.in.empty()) {
    c.in.append(data);
    joined.swap(c.in);
    data = joined;
  }
  while (data.size() >= protocol::kHeaderSize) {
    const protocol::FrameHeader h = protocol::DecodeHeader(data.data());
    if (h.body_len > protocol::kMaxBodySize) {
      c.closing = true;
      return;
    }
    if (data.size() < protocol::kHeaderSize + h.body_len) break;
    if (h.opcode == protocol::kOpPing) {
      protocol::AppendPingResponse(&c.pending, h.request_id);
    } else {
      const size_t at = c.pending.size();
      c.pending.append(validate_ok_);
      std::memcpy(&c.pending[at + 8], data.data() + 8, 4);  // the request id
    }
    data.remove_prefix(protocol::kHeaderSize + h.body_len);
  }
  c.in.assign(data);
}

void FloorServer::OnRecv(int fd, int res, unsigned flags) {
  Conn* c = fd < static_cast<int>(conns_.size()) ? conns_[fd].get() : nullptr;
  if (flags & IORING_CQE_F_BUFFER) {
    const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (c != nullptr && res > 0 && !c->closing) {
      Answer(*c, std::string_view(bufs_ + bid * kBufferSize, static_cast<size_t>(res)));
    }
    io_uring_buf_ring_add(br_, bufs_ + bid * kBufferSize, kBufferSize, bid,
                          io_uring_buf_ring_mask(kBuffers), recycled_++);
  }
  if (c == nullptr) return;
  if ((flags & IORING_CQE_F_MORE) == 0) c->recv_armed = false;
  if (res == 0 || (res < 0 && res != -ENOBUFS)) c->closing = true;
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(fd);
  }
}

void FloorServer::Flush(Conn& c) {
  if (!c.closing && !c.recv_armed) ArmRecv(c);
  if (!c.send_inflight && !c.pending.empty()) {
    c.sending.swap(c.pending);
    c.pending.clear();
    c.sent = 0;
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, Tag(kSend, c.fd));
    c.send_inflight = true;
  }
  MaybeClose(c);
}

void FloorServer::MaybeClose(Conn& c) {
  if (!c.closing) return;
  if (c.recv_armed) {
    if (c.cancel_sent) return;
    c.cancel_sent = true;
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_cancel_fd(sqe, c.fd, 0);
    io_uring_sqe_set_data64(sqe, 0);
    return;
  }
  if (c.send_inflight) return;
  const int fd = c.fd;
  ::close(fd);
  conns_[fd].reset();
}

int FloorServer::Run(const char* path) {
  if (!Setup(path)) return 1;
  ArmAccept();
  {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_poll_add(sqe, sig_fd_, POLLIN);
    io_uring_sqe_set_data64(sqe, Tag(kSignal));
  }
  std::fprintf(stderr, "tokend-floor-server: listening on %s\n", path);
  while (!stop_) {
    const int ret = io_uring_submit_and_wait(&ring_, 1);
    if (ret < 0 && ret != -EINTR && ret != -EBUSY) {
      std::fprintf(stderr, "tokend-floor-server: io_uring_enter: %s\n", std::strerror(-ret));
      break;
    }
    unsigned head;
    unsigned count = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++count;
      const uint64_t ud = cqe->user_data;
      const int fd = static_cast<int>(ud >> 8);
      switch (ud & 0xff) {
        case kAccept:
          if (cqe->res >= 0) {
            if (static_cast<size_t>(cqe->res) >= conns_.size()) conns_.resize(cqe->res + 1);
            conns_[cqe->res] = std::make_unique<Conn>();
            conns_[cqe->res]->fd = cqe->res;
            ArmRecv(*conns_[cqe->res]);
          }
          if ((cqe->flags & IORING_CQE_F_MORE) == 0) ArmAccept();
          break;
        case kRecv:
          OnRecv(fd, cqe->res, cqe->flags);
          break;
        case kSend:
          if (fd < static_cast<int>(conns_.size()) && conns_[fd] != nullptr) {
            Conn& c = *conns_[fd];
            c.send_inflight = false;
            if (cqe->res <= 0) {
              c.closing = true;
            } else if (static_cast<size_t>(cqe->res) < c.sending.size()) {
              // A short send: the rest goes before anything newer.
              c.sending.erase(0, static_cast<size_t>(cqe->res));
              c.pending.insert(0, c.sending);
            }
            if (!c.dirty) {
              c.dirty = true;
              dirty_.push_back(fd);
            }
          }
          break;
        case kSignal:
          stop_ = true;
          break;
        default:
          break;
      }
    }
    io_uring_cq_advance(&ring_, count);
    io_uring_buf_ring_advance(br_, recycled_);
    recycled_ = 0;
    for (int fd : dirty_) {
      if (conns_[fd] == nullptr) continue;
      conns_[fd]->dirty = false;
      Flush(*conns_[fd]);
    }
    dirty_.clear();
  }
  io_uring_queue_exit(&ring_);
  for (auto& c : conns_) {
    if (c != nullptr) ::close(c->fd);
  }
  ::close(listen_fd_);
  ::unlink(path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      path = argv[++i];
    } else if (a.substr(0, 9) == "--socket=") {
      path = argv[i] + 9;
    } else {
      std::fprintf(stderr, "usage: tokend-floor-server --socket PATH\n");
      return 2;
    }
  }
  if (path == nullptr) {
    std::fprintf(stderr, "usage: tokend-floor-server --socket PATH\n");
    return 2;
  }
  FloorServer server;
  return server.Run(path);
}

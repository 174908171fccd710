// SPDX-License-Identifier: Apache-2.0
// tokend-grpc-bench: cache-hit checks through the three fronts of one
// daemon, in one run: the binary protocol (VALIDATE), the HTTP front (GET
// with Authorization: Bearer) and the gRPC front (Envoy's
// Authorization/Check). It starts `tokend` itself (--threads 1, with all
// three sockets) in a temporary directory, mints one token, and for each
// front runs C client threads, each with its own connection (gRPC: one
// channel each) and one call in flight, for S seconds, after one warm-up
// call that puts the token in the cache and checks it is allowed.
//
// For each front it prints the calls per second and the daemon's CPU time
// per call (utime + stime of the tokend process, from /proc), whose inverse
// is the calls per second one daemon core would sustain: the figure that
// compares the fronts without the client's own cost, which differs between
// them (a gRPC client does far more work per call than a binary one).
//
//   tokend-grpc-bench --tokend PATH [--seconds S] [--clients C] [--rounds R]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "protocol/codec.h"
#include "tools/minter/minter.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

int Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// One call on a client's own connection; true when allowed.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual bool Call() = 0;
};

// A Caller over its own Unix socket connection: sends req_, then reads
// until TakeAnswer() finds a whole answer at the front of in_.
class SocketCaller : public Caller {
 public:
  explicit SocketCaller(const std::string& path) : fd_(Connect(path)) {}
  ~SocketCaller() override { ::close(fd_); }
  bool Call() final {
    if (!WriteAll(fd_, req_)) return false;
    for (;;) {
      if (const std::optional<bool> ok = TakeAnswer(); ok.has_value()) return *ok;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) return false;
      in_.append(buf, static_cast<size_t>(n));
    }
  }

 protected:
  // Whether the answer at the front of in_ (which it then removes) allowed
  // the request; nullopt while that answer is incomplete.
  virtual std::optional<bool> TakeAnswer() = 0;

  std::string req_;
  std::string in_;

 private:
  int fd_;
};

class BinaryCaller final : public SocketCaller {
 public:
  BinaryCaller(const std::string& path, const std::string& token) : SocketCaller(path) {
    tokend::protocol::AppendValidateRequest(&req_, 1, 0, token, "");
  }

 private:
  std::optional<bool> TakeAnswer() override {
    tokend::protocol::RequestFrame f;
    size_t used = 0;
    if (tokend::protocol::NextResponseFrame(in_, &f, &used) !=
        tokend::protocol::FrameStatus::kFrame) {
      return std::nullopt;
    }
    tokend::protocol::ValidateResponse r;
    const bool ok = tokend::protocol::DecodeValidateResponse(f.body, &r) && r.status == 0;
    in_.erase(0, used);
    return ok;
  }
};

class HttpCaller final : public SocketCaller {
 public:
  HttpCaller(const std::string& path, const std::string& token) : SocketCaller(path) {
    req_ = "GET /orders HTTP/1.1\r\nHost: tokend\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  }

 private:
  // Every auth answer has Content-Length: 0: it ends at the blank line.
  std::optional<bool> TakeAnswer() override {
    const size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    const bool ok = in_.compare(0, 12, "HTTP/1.1 200") == 0;
    in_.erase(0, end + 4);
    return ok;
  }
};

class GrpcCaller final : public Caller {
 public:
  GrpcCaller(const std::string& path, const std::string& token, int id) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    args.SetInt("tokend.bench.client", id);
    stub_ = envoy::service::auth::v3::Authorization::NewStub(
        grpc::CreateCustomChannel("unix:" + path, grpc::InsecureChannelCredentials(), args));
    auto* http = req_.mutable_attributes()->mutable_request()->mutable_http();
    http->set_path("/orders");
    (*http->mutable_headers())["authorization"] = "Bearer " + token;
  }
  bool Call() override {
    grpc::ClientContext ctx;
    envoy::service::auth::v3::CheckResponse res;
    return stub_->Check(&ctx, req_, &res).ok() && res.status().code() == 0;
  }

 private:
  std::unique_ptr<envoy::service::auth::v3::Authorization::Stub> stub_;
  envoy::service::auth::v3::CheckRequest req_;
};

// utime + stime of `pid`, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Result {
  double calls_per_second = 0;
  double cpu_us_per_call = 0;
  bool ok = true;
};

Result Run(pid_t daemon, int clients, double seconds,
           const std::function<std::unique_ptr<Caller>(int)>& make) {
  std::vector<std::unique_ptr<Caller>> callers;
  Result r;
  for (int i = 0; i < clients; ++i) {
    callers.push_back(make(i));
    if (!callers.back()->Call()) r.ok = false;  // warm-up: cached, and allowed
  }
  if (!r.ok) return r;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> failed{0};
  const double cpu0 = CpuSeconds(daemon);
  const Clock::time_point t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, c = callers[i].get()] {
      uint64_t n = 0, bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!c->Call()) ++bad;
        ++n;
      }
      calls.fetch_add(n);
      failed.fetch_add(bad);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds(daemon) - cpu0;
  r.ok = failed.load() == 0;
  r.calls_per_second = static_cast<double>(calls.load()) / elapsed;
  r.cpu_us_per_call = cpu * 1e6 / static_cast<double>(std::max<uint64_t>(calls.load(), 1));
  return r;
}

bool WaitForSocket(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    const int fd = Connect(path);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokend;
  double seconds = 3;
  int clients = 4;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--tokend") tokend = argv[i + 1];
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    if (flag == "--clients") clients = std::atoi(argv[i + 1]);
    if (flag == "--rounds") rounds = std::atoi(argv[i + 1]);
  }
  if (tokend.empty() || seconds <= 0 || clients <= 0 || rounds <= 0) {
    std::fprintf(stderr,
                 "usage: tokend-grpc-bench --tokend PATH [--seconds S] [--clients C] "
                 "[--rounds R]\n");
    return 2;
  }
  char tmpl[] = "/tmp/tokend-grpc-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  ::mkdir((dir + "/keys").c_str(), 0700);
  const std::string key = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz";
  { std::ofstream(dir + "/keys/k1") << key; }
  const std::string token = tokend::auth::MintToken(
      tokend::auth::Alg::kHS256, R"({"alg":"HS256","typ":"JWT","kid":"k1"})",
      R"({"sub":"alice","aud":"api","exp":)" + std::to_string(time(nullptr) + 3600) + "}", key);
  const std::string bin = dir + "/tokend.sock", http = dir + "/http.sock",
                    grpcs = dir + "/grpc.sock";
  std::vector<std::string> args = {tokend, "--keys",        dir + "/keys", "--socket",
                                   bin,    "--http-socket", http,          "--grpc-socket",
                                   grpcs,  "--threads",     "1",           "--audience",
                                   "api"};
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, tokend.c_str(), nullptr, nullptr, cargv.data(), environ) != 0) {
    std::perror("spawn tokend");
    return 1;
  }
  if (!WaitForSocket(bin) || !WaitForSocket(http) || !WaitForSocket(grpcs)) {
    std::fprintf(stderr, "tokend did not come up\n");
    ::kill(pid, SIGTERM);
    return 1;
  }
  std::printf("tokend --threads 1, %d client threads, one call in flight each, %.1f s per run\n",
              clients, seconds);
  std::printf("%-6s %-7s %14s %18s %22s\n", "round", "front", "calls/s", "daemon CPU/call",
              "calls/s per daemon core");
  bool all_ok = true;
  for (int round = 1; round <= rounds; ++round) {
    const struct {
      const char* name;
      std::function<std::unique_ptr<Caller>(int)> make;
    } fronts[] = {
        {"binary", [&](int) { return std::make_unique<BinaryCaller>(bin, token); }},
        {"http", [&](int) { return std::make_unique<HttpCaller>(http, token); }},
        {"grpc", [&](int i) { return std::make_unique<GrpcCaller>(grpcs, token, i); }},
    };
    for (const auto& f : fronts) {
      const Result r = Run(pid, clients, seconds, f.make);
      all_ok = all_ok && r.ok;
      std::printf("%-6d %-7s %14.0f %15.2f us %22.0f%s\n", round, f.name, r.calls_per_second,
                  r.cpu_us_per_call, r.cpu_us_per_call > 0 ? 1e6 / r.cpu_us_per_call : 0.0,
                  r.ok ? "" : "  (calls refused or failed)");
      std::fflush(stdout);
    }
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove_all(dir);
  return all_ok ? 0 : 1;
}

// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/harness.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <utility>

#include "daemon/auth/status.h"
#include "tools/minter/minter.h"

extern char** environ;

namespace tokend::integration {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point end) {
  auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  return addr;
}

bool ParseResponse(const protocol::RequestFrame& frame, Response* r) {
  r->header = frame.header;
  r->body = std::string(frame.body);
  r->protocol_error = protocol::IsProtocolErrorBody(r->body);
  if (r->protocol_error || frame.header.opcode != protocol::kOpValidate) return true;
  protocol::ValidateResponse v;
  if (!protocol::DecodeValidateResponse(r->body, &v)) return false;
  r->status = v.status;
  r->alg = v.alg;
  r->exp = v.exp;
  r->subject = std::string(v.subject);
  r->claims = std::string(v.claims);
  return true;
}

}  // namespace

const char* TokendBinary() { return TOKEND_BINARY; }

int64_t Now() { return static_cast<int64_t>(::time(nullptr)); }

std::string RandomKey(size_t bytes) {
  std::string key(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(key.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return key;
}

std::string Mint(std::string_view secret, std::string_view kid, std::string_view payload_json,
                 std::string_view alg) {
  auth::Alg mac_alg = auth::AlgFromName(alg);
  std::string header = "{\"alg\":" + auth::JsonQuote(alg) + ",\"typ\":\"JWT\"";
  if (!kid.empty()) header += ",\"kid\":" + auth::JsonQuote(kid);
  header += "}";
  if (mac_alg == auth::Alg::kUnknown) mac_alg = auth::Alg::kHS256;
  return auth::MintToken(mac_alg, header, payload_json, secret);
}

// ---------------------------------------------------------------- Client

Client::~Client() { Close(); }

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), next_id_(other.next_id_), in_(std::move(other.in_)) {}

bool Client::Connect(const std::string& path) {
  Close();
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_un addr = Address(path);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    Close();
    errno = err;
    return false;
  }
  return true;
}

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

bool Client::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::vector<Response> Client::Read(size_t n, milliseconds deadline) {
  std::vector<Response> out;
  const auto end = Clock::now() + deadline;
  for (;;) {
    // Cut every whole frame already buffered.
    for (;;) {
      if (out.size() >= n) return out;
      protocol::RequestFrame frame;
      size_t consumed = 0;
      protocol::FrameStatus st = protocol::NextResponseFrame(in_, &frame, &consumed);
      if (st == protocol::FrameStatus::kProtocolError && in_.size() > protocol::kHeaderSize &&
          frame.header.body_len == 1) {
        // The answer to a bad version echoes that version, which the
        // client-side codec refuses: take the 255 body as it is.
        frame.body = std::string_view(in_).substr(protocol::kHeaderSize, 1);
        consumed = protocol::kHeaderSize + 1;
        st = protocol::FrameStatus::kFrame;
      }
      if (st != protocol::FrameStatus::kFrame) break;
      Response r;
      if (!ParseResponse(frame, &r)) return out;
      out.push_back(std::move(r));
      in_.erase(0, consumed);
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, RemainingMs(end));
    if (rc <= 0) return out;
    char buf[65536];
    ssize_t got = ::recv(fd_, buf, sizeof(buf), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return out;
    in_.append(buf, static_cast<size_t>(got));
  }
}

bool Client::WaitClosed(milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(end)) <= 0) return false;
    char buf[4096];
    ssize_t got = ::recv(fd_, buf, sizeof(buf), 0);
    if (got == 0 || (got < 0 && errno == ECONNRESET)) return in_.empty();
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    in_.append(buf, static_cast<size_t>(got));
  }
}

Response Client::Validate(std::string_view token, std::string_view audience, uint16_t flags) {
  std::string req;
  uint32_t id = next_id_++;
  protocol::AppendValidateRequest(&req, id, flags, token, audience);
  Response none;
  if (!SendAll(req)) return none;
  std::vector<Response> got = Read(1);
  if (got.size() != 1 || got[0].header.request_id != id) return none;
  return got[0];
}

bool Client::Ping() {
  std::string req;
  uint32_t id = next_id_++;
  protocol::AppendPingRequest(&req, id);
  if (!SendAll(req)) return false;
  std::vector<Response> got = Read(1);
  return got.size() == 1 && got[0].header.request_id == id &&
         got[0].header.opcode == protocol::kOpPing && got[0].body.empty();
}

// ---------------------------------------------------------- TokendProcess

TokendProcess::TokendProcess() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tokend-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  ::mkdir(keys_dir().c_str(), 0700);
  notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr = Address(path("notify.sock"));
  if (::bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(notify_fd_);
    notify_fd_ = -1;
  }
}

TokendProcess::~TokendProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  if (notify_fd_ >= 0) ::close(notify_fd_);
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

void TokendProcess::WriteFile(const std::string& target, std::string_view bytes) const {
  std::string tmp = target + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ::chmod(tmp.c_str(), 0600);
  ::rename(tmp.c_str(), target.c_str());
}

void TokendProcess::WriteKey(const std::string& name, std::string_view bytes) const {
  // The temporary name starts with '.', so a reload never reads it as a key.
  std::string tmp = keys_dir() + "/." + name + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ::chmod(tmp.c_str(), 0600);
  ::rename(tmp.c_str(), (keys_dir() + "/" + name).c_str());
}

bool TokendProcess::Spawn(const std::vector<std::string>& args, const SpawnOptions& options) {
  std::vector<std::string> argv_s = options.prefix;
  argv_s.push_back(TokendBinary());
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("LISTEN_") ||
        kv.starts_with("WATCHDOG_") || kv.starts_with("TOKEND_")) {
      continue;
    }
    env_s.emplace_back(kv);
  }
  env_s.push_back("NOTIFY_SOCKET=" + path("notify.sock"));
  env_s.insert(env_s.end(), options.extra_env.begin(), options.extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  if (options.deny_io_uring) return SpawnWithoutIoUring(argv.data(), envp.data());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = path("tokend.log");
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The daemon starts with an empty signal mask and default dispositions,
  // whatever the test process has blocked.
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  if (rc != 0) rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  exit_code_.reset();
  return rc == 0;
}

bool TokendProcess::SpawnWithoutIoUring(char** argv, char** envp) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls.
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  int log_fd = ::open(path("tokend.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return false;
  sigset_t empty;
  sigemptyset(&empty);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      ::_exit(126);
    }
    ::execve(argv[0], argv, envp);
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) return false;
  pid_ = pid;
  exit_code_.reset();
  return true;
}

bool TokendProcess::Start(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"--socket", socket_path(), "--keys",
                                  keys_dir(), "--threads",   "2"};
  all.insert(all.end(), args.begin(), args.end());
  return Spawn(all);
}

std::string TokendProcess::ReadNotify(milliseconds timeout) {
  pollfd p{notify_fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
  char buf[4096];
  ssize_t n = ::recv(notify_fd_, buf, sizeof(buf), 0);
  if (n <= 0) return "";
  notifications_.emplace_back(buf, static_cast<size_t>(n));
  return notifications_.back();
}

std::string TokendProcess::WaitNotify(std::string_view needle, milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  for (;;) {
    while (notify_seen_ < notifications_.size()) {
      const std::string& m = notifications_[notify_seen_++];
      if (m.find(needle) != std::string::npos) return m;
    }
    if (Clock::now() >= end) return "";
    // Poll in short slices so that an early exit is noticed.
    ReadNotify(milliseconds(std::min(50, RemainingMs(end))));
    if (notify_seen_ == notifications_.size() && !running()) {
      // Drain what the process sent before it exited.
      if (ReadNotify(milliseconds(0)).empty()) return "";
    }
    Reap(/*block=*/false);
  }
}

bool TokendProcess::WaitReady(milliseconds deadline) {
  return !WaitNotify("READY=1", deadline).empty();
}

void TokendProcess::Signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

bool TokendProcess::WaitStopped(milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (running()) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WUNTRACED | WNOHANG);
    if (r == pid_ && WIFSTOPPED(status)) return true;
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

bool TokendProcess::Reap(bool block) {
  if (pid_ <= 0 || exit_code_.has_value()) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

std::optional<int> TokendProcess::WaitExit(milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  while (!Reap(/*block=*/false)) {
    if (Clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return exit_code_;
}

std::string TokendProcess::Log() const {
  std::ifstream in(path("tokend.log"), std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace tokend::integration

// SPDX-License-Identifier: Apache-2.0
// http_trickle.cc
//
// tokend-http-trickle: what slow HTTP clients cost the daemon's CPU. Opens
// --connections connections to an HTTP socket, sends on each the request
// line and --header-bytes of header fields (a large Content-Length
// declared), then trickles the body one byte per connection every
// --interval-us for --seconds. The daemon's CPU time (utime + stime of
// /proc/PID/stat) is read before and after the trickle and printed, with
// the bytes sent and whether every connection stayed open.
//
//   tokend-http-trickle --socket PATH --pid PID [--connections 8]
//       [--header-bytes 20480] [--interval-us 500] [--seconds 5]
//
// The daemon should run with --threads 1, so that the figure is one
// worker's. Before the trickle starts the tool waits until the headers are
// all sent (and the daemon's CPU settles), so the figure is the trickle's.
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Args {
  std::string socket;
  long pid = 0;
  int connections = 8;
  size_t header_bytes = 20 * 1024;
  long interval_us = 500;
  double seconds = 5;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "tokend-http-trickle: %s\nusage: tokend-http-trickle --socket PATH --pid PID "
               "[--connections N] [--header-bytes N] [--interval-us N] [--seconds S]\n",
               why);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view f = argv[i];
    if (i + 1 >= argc) Usage("every option takes a value");
    const char* v = argv[++i];
    if (f == "--socket") {
      a.socket = v;
    } else if (f == "--pid") {
      a.pid = std::atol(v);
    } else if (f == "--connections") {
      a.connections = std::atoi(v);
    } else if (f == "--header-bytes") {
      a.header_bytes = std::strtoul(v, nullptr, 10);
    } else if (f == "--interval-us") {
      a.interval_us = std::atol(v);
    } else if (f == "--seconds") {
      a.seconds = std::atof(v);
    } else {
      Usage("unknown option");
    }
  }
  if (a.socket.empty() || a.pid <= 0) Usage("--socket and --pid are required");
  if (a.connections < 1 || a.interval_us < 1 || a.seconds <= 0) Usage("bad value");
  return a;
}

// utime + stime of `pid`, in seconds.
double CpuSeconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    std::fprintf(stderr, "tokend-http-trickle: cannot read /proc/%ld/stat\n", pid);
    std::exit(1);
  }
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields 3.. after the command; utime and stime are fields 14 and 15.
  for (int n = 3; n <= 15 && (fields >> field); ++n) {
    if (n == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int Connect(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("tokend-http-trickle: connect");
    std::exit(1);
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The request line and headers: X-Pad fields of up to 1000 bytes each,
// adding up to about `header_bytes`.
std::string Head(size_t header_bytes, size_t body_bytes) {
  std::string h =
      "POST /auth HTTP/1.1\r\nHost: tokend\r\nContent-Length: " + std::to_string(body_bytes) +
      "\r\n";
  for (int i = 0; h.size() + 4 < header_bytes; ++i) {
    const size_t left = header_bytes - h.size() - 4;
    const std::string name = "X-Pad-" + std::to_string(i) + ": ";
    if (left <= name.size() + 1) break;
    const size_t value = std::min<size_t>(1000, left - name.size() - 2);
    h += name + std::string(value, 'p') + "\r\n";
  }
  return h + "\r\n";
}

void SleepUntil(const timespec& t) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  const auto ticks = static_cast<size_t>(a.seconds * 1e6 / static_cast<double>(a.interval_us));
  // One byte per tick, and room to spare: the request never completes.
  const size_t body = ticks + 1024;
  const std::string head = Head(a.header_bytes, body);

  std::vector<int> fds;
  for (int i = 0; i < a.connections; ++i) {
    fds.push_back(Connect(a.socket));
    if (!SendAll(fds.back(), head)) {
      std::fprintf(stderr, "tokend-http-trickle: sending the headers failed\n");
      return 1;
    }
  }
  usleep(200 * 1000);  // the daemon reads the headers

  const double cpu_before = CpuSeconds(a.pid);
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  timespec next = start;
  size_t sent = 0;
  int failed = 0;
  std::vector<bool> open(fds.size(), true);
  for (size_t t = 0; t < ticks; ++t) {
    next.tv_nsec += a.interval_us * 1000;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      ++next.tv_sec;
    }
    SleepUntil(next);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!open[i]) continue;
      if (SendAll(fds[i], "b")) {
        ++sent;
      } else {
        open[i] = false;
        ++failed;
      }
    }
  }
  timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  const double cpu_after = CpuSeconds(a.pid);
  const double wall = static_cast<double>(end.tv_sec - start.tv_sec) +
                      static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
  std::printf(
      "connections %d, headers %zu bytes each, body 1 byte per connection every %ld us\n"
      "trickle: %.2f s wall, %zu body bytes sent, %d connections closed by the server\n"
      "server CPU (utime+stime of pid %ld): %.3f s\n",
      a.connections, head.size(), a.interval_us, wall, sent, failed, a.pid, cpu_after - cpu_before);
  for (int fd : fds) close(fd);
  return failed == 0 ? 0 : 1;
}

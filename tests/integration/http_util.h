// SPDX-License-Identifier: Apache-2.0
// http_util.h
//
// Helpers for the HTTP front's integration tests: running a program (curl,
// nginx) and capturing its output, and reading the responses curl -i
// prints. Header-only; each helper is used from one thread.
#ifndef TOKEND_TESTS_INTEGRATION_HTTP_UTIL_H_
#define TOKEND_TESTS_INTEGRATION_HTTP_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokend::integration {

struct ProgramResult {
  int exit_code = -1;  // 128 + signal for a signal death; -1 when it never ran
  std::string out;     // stdout and stderr, interleaved
};

// RunProgram()
//
// Runs argv[0] (looked up in PATH) with `argv`, collects its output, and
// kills it (exit code 128 + 9) when it outlives `timeout`.
inline ProgramResult RunProgram(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  ProgramResult r;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return r;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return r;
  }
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  const auto end = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    const int pr = ::poll(&p, 1, killed ? 1000 : static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) {
      if (killed) break;
      continue;
    }
    char buf[4096];
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// One response as curl -i prints it.
struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

// ParseResponses()
//
// The responses in curl -i output (several when curl fetched several URLs),
// bodies taken by Content-Length. Stops at the first thing that does not
// parse.
inline std::vector<HttpResponse> ParseResponses(std::string_view text) {
  std::vector<HttpResponse> rs;
  while (text.substr(0, 5) == "HTTP/") {
    const size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) break;
    HttpResponse r;
    std::string_view head = text.substr(0, end + 2);
    const size_t sp = head.find(' ');
    r.status = std::atoi(std::string(head.substr(sp + 1, 3)).c_str());
    head.remove_prefix(head.find("\r\n") + 2);
    size_t length = 0;
    while (!head.empty()) {
      const size_t eol = head.find("\r\n");
      const std::string_view line = head.substr(0, eol);
      head.remove_prefix(eol + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length") length = std::stoul(std::string(value));
      r.headers.emplace(name, std::string(value));
    }
    text.remove_prefix(end + 4);
    if (r.status != 100) {
      r.body = std::string(text.substr(0, length));
      text.remove_prefix(std::min(length, text.size()));
      rs.push_back(std::move(r));
    }
  }
  return rs;
}

inline bool Executable(const char* path) { return ::access(path, X_OK) == 0; }

}  // namespace tokend::integration

#endif  // TOKEND_TESTS_INTEGRATION_HTTP_UTIL_H_

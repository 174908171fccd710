// SPDX-License-Identifier: Apache-2.0
#include "daemon/signal_thread.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tokend {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status SignalThread::BlockSignals() {
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return Errno("signal(SIGPIPE, SIG_IGN)");
  sigset_t set = HandledSignals();
  int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(rc)));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SignalThread>> SignalThread::Start(Handlers handlers) {
  sigset_t set = HandledSignals();
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return Errno("signalfd");
  int wfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wfd < 0) {
    absl::Status st = Errno("eventfd");
    ::close(sfd);
    return st;
  }
  return std::unique_ptr<SignalThread>(new SignalThread(sfd, wfd, std::move(handlers)));
}

SignalThread::SignalThread(int signal_fd, int wake_fd, Handlers handlers)
    : signal_fd_(signal_fd), wake_fd_(wake_fd), handlers_(std::move(handlers)) {
  thread_ = std::thread([this] { Main(); });
}

SignalThread::~SignalThread() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
  if (thread_.joinable()) thread_.join();
  ::close(signal_fd_);
  ::close(wake_fd_);
}

void SignalThread::Main() {
  for (;;) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      int signo = static_cast<int>(info.ssi_signo);
      if (signo == SIGHUP) {
        if (handlers_.reload) handlers_.reload();
      } else if (handlers_.stop) {
        handlers_.stop(signo);
      }
    }
  }
}

}  // namespace tokend

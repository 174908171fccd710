// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tokend::server {
namespace {

// One STATUS= value: a single line.
std::string StatusLine(std::string_view status) {
  std::string line = "STATUS=";
  for (char c : status) line.push_back(c == '\n' ? ' ' : c);
  return line;
}

uint64_t MonotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
}

SystemdNotifier::~SystemdNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void SystemdNotifier::Send(std::string_view state) {
  if (!enabled_) return;
  std::string s(state);
  sd_notify(/*unset_environment=*/0, s.c_str());
}

void SystemdNotifier::Ready(std::string_view status) {
  Send(absl::StrCat("READY=1\n", StatusLine(status)));
}

void SystemdNotifier::Reloading(std::string_view status) {
  Send(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", MonotonicMicros(), "\n", StatusLine(status)));
}

void SystemdNotifier::Stopping(std::string_view status) {
  Send(absl::StrCat("STOPPING=1\n", StatusLine(status)));
}

void SystemdNotifier::Status(std::string_view status) { Send(StatusLine(status)); }

absl::StatusOr<std::chrono::microseconds> SystemdNotifier::StartWatchdog() {
  uint64_t usec = 0;
  int r = sd_watchdog_enabled(/*unset_environment=*/0, &usec);
  if (r < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad watchdog variables (WATCHDOG_USEC/WATCHDOG_PID): ", std::strerror(-r)));
  }
  if (r == 0 || usec == 0 || watchdog_.joinable()) return std::chrono::microseconds(0);
  std::chrono::microseconds period(usec);
  watchdog_ = std::thread([this, period] { WatchdogMain(period / 2); });
  return period;
}

void SystemdNotifier::WatchdogMain(std::chrono::microseconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    // sd_notify directly: WATCHDOG_USEC alone (without NOTIFY_SOCKET at
    // construction) is harmless, libsystemd then does nothing.
    sd_notify(/*unset_environment=*/0, "WATCHDOG=1");
    lock.lock();
    cv_.wait_for(lock, interval, [this] { return stop_; });
  }
}

}  // namespace tokend::server

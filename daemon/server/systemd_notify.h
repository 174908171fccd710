// SPDX-License-Identifier: Apache-2.0
// systemd_notify.h
//
// Tells the service manager what the daemon is doing (sd_notify(3)):
// READY=1 with a STATUS= line once it serves, RELOADING=1 with
// MONOTONIC_USEC while a SIGHUP reload runs (the systemd >= 253
// Type=notify-reload handshake; older managers ignore the extra field),
// STOPPING=1 on shutdown, and WATCHDOG=1 pings from a timer thread at half
// of WATCHDOG_USEC when the unit has a watchdog (sd_watchdog_enabled).
// Without NOTIFY_SOCKET every call is a cheap no-op.
//
// Thread-safety: every method may be called from any thread (each
// notification is one datagram on its own socket, which libsystemd opens per
// call). The notifier owns the watchdog thread and joins it on destruction.
// The environment is read once, in the constructor.
#ifndef TOKEND_DAEMON_SERVER_SYSTEMD_NOTIFY_H_
#define TOKEND_DAEMON_SERVER_SYSTEMD_NOTIFY_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace tokend::server {

class SystemdNotifier {
 public:
  SystemdNotifier();
  ~SystemdNotifier();  // stops the watchdog thread
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // True when NOTIFY_SOCKET was set at construction.
  bool enabled() const { return enabled_; }

  // READY=1 and STATUS=<status>.
  void Ready(std::string_view status);
  // RELOADING=1, MONOTONIC_USEC=<now, CLOCK_MONOTONIC> and STATUS=<status>.
  void Reloading(std::string_view status);
  // STOPPING=1 and STATUS=<status>.
  void Stopping(std::string_view status);
  // STATUS=<status> alone.
  void Status(std::string_view status);

  // StartWatchdog()
  //
  // When the manager asked for a watchdog (WATCHDOG_USEC, and WATCHDOG_PID
  // naming this process if set), starts a thread that sends WATCHDOG=1 every
  // half period until destruction, and returns the period; returns zero and
  // starts nothing otherwise. Fails only when the variables are malformed.
  absl::StatusOr<std::chrono::microseconds> StartWatchdog();

  // Sends `state` (newline-separated KEY=VALUE lines) as is.
  void Send(std::string_view state);

 private:
  void WatchdogMain(std::chrono::microseconds interval);

  bool enabled_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace tokend::server

#endif  // TOKEND_DAEMON_SERVER_SYSTEMD_NOTIFY_H_

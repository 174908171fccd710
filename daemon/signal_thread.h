// SPDX-License-Identifier: Apache-2.0
// signal_thread.h
//
// Process signals for the daemon, handled on one dedicated thread instead of
// in async-signal handlers, so that handlers may lock, log and call into the
// event loop and the key watcher. BlockSignals() must run in main before any
// other thread starts: every thread then inherits a mask that blocks SIGHUP,
// SIGTERM and SIGINT (delivered only to the signal thread's signalfd), and
// SIGPIPE is ignored process-wide (a client that hangs up makes send() fail
// with EPIPE instead of killing the daemon).
//
// Thread-safety: the handlers run one at a time on the signal thread, in the
// order the signals arrive; a signal that arrives while a handler runs is
// handled after it (repeats of one signal may be merged, as the kernel
// does). Destroying the SignalThread wakes and joins the thread; it must not
// be destroyed from inside a handler.
#ifndef TOKEND_DAEMON_SIGNAL_THREAD_H_
#define TOKEND_DAEMON_SIGNAL_THREAD_H_

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace tokend {

class SignalThread {
 public:
  struct Handlers {
    std::function<void()> reload;         // SIGHUP
    std::function<void(int signo)> stop;  // SIGTERM, SIGINT
  };

  // BlockSignals()
  //
  // Blocks SIGHUP, SIGTERM and SIGINT in the calling thread and ignores
  // SIGPIPE. REQUIRES: no other thread has started yet.
  static absl::Status BlockSignals();

  // Start()
  //
  // Starts the thread. REQUIRES: BlockSignals() was called. Fails when the
  // signalfd, the eventfd or the thread cannot be created.
  static absl::StatusOr<std::unique_ptr<SignalThread>> Start(Handlers handlers);

  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  SignalThread(int signal_fd, int wake_fd, Handlers handlers);
  void Main();

  int signal_fd_;
  int wake_fd_;
  Handlers handlers_;
  std::thread thread_;
};

}  // namespace tokend

#endif  // TOKEND_DAEMON_SIGNAL_THREAD_H_

// SPDX-License-Identifier: Apache-2.0
// auth_adapter.h
//
// The seam between the server, which knows frames, and daemon/auth, which
// knows tokens: AuthRequestValidator implements server::RequestValidator over
// one auth::Validator, reading the wall clock for `now`. main gives each
// event-loop worker its own (through the ServiceFactory), so an instance is
// used by one thread only: not thread-safe. The Policy, KeySetPublisher and
// TokenCache it is built over are shared, must outlive it, and are
// thread-safe themselves.
//
// LoadInitialKeySet() is the daemon's startup load, with the one rule that
// differs from a reload: a keys path that does not exist yet starts the
// daemon with no keys (every token gets UNKNOWN_KEY until the watcher sees
// the keys appear) instead of refusing to start.
#ifndef TOKEND_DAEMON_AUTH_ADAPTER_H_
#define TOKEND_DAEMON_AUTH_ADAPTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/key_watcher.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/validator.h"
#include "daemon/server/service.h"

namespace tokend {

// Seconds since the epoch; a plain function so the request path pays no
// indirection through std::function.
using WallClock = int64_t (*)();

// The system's wall clock (CLOCK_REALTIME_COARSE: a vDSO read, precise to a
// few milliseconds, far finer than the one-second NumericDate resolution).
int64_t SystemWallClockSeconds();

class AuthRequestValidator final : public server::RequestValidator {
 public:
  AuthRequestValidator(const auth::Policy& policy, const auth::KeySetPublisher& keys,
                       auth::TokenCache* cache, WallClock clock = &SystemWallClockSeconds);

  Outcome Validate(std::string_view token, std::string_view audience, bool want_claims) override;
  void Prepare(std::span<const std::string_view> tokens) override { validator_.Prepare(tokens); }

 private:
  auth::Validator validator_;
  WallClock clock_;
};

// LoadInitialKeySet()
//
// auth::LoadKeySet(), except that a missing keys path yields an empty
// keyring (with the revocation list still loaded) and a warning appended to
// `*warnings`. Fails, naming the file, on any key or revocation file that
// exists but cannot be loaded.
absl::StatusOr<std::shared_ptr<const auth::KeySet>> LoadInitialKeySet(
    const auth::KeyWatcherOptions& options, std::vector<std::string>* warnings);

}  // namespace tokend

#endif  // TOKEND_DAEMON_AUTH_ADAPTER_H_

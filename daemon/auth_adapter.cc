// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth_adapter.h"

#include <sys/stat.h>
#include <time.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/revocation.h"

namespace tokend {

int64_t SystemWallClockSeconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

AuthRequestValidator::AuthRequestValidator(const auth::Policy& policy,
                                           const auth::KeySetPublisher& keys,
                                           auth::TokenCache* cache, WallClock clock)
    : validator_(policy, keys, cache), clock_(clock) {}

server::RequestValidator::Outcome AuthRequestValidator::Validate(std::string_view token,
                                                                 std::string_view audience,
                                                                 bool want_claims) {
  auth::ValidationResult r = validator_.Validate(token, audience, want_claims, clock_());
  Outcome out;
  out.status = static_cast<uint8_t>(r.status);
  out.alg = static_cast<uint8_t>(r.alg);
  out.exp = r.exp;
  out.subject = r.subject;
  out.claims = r.claims_json;
  out.cache_hit = r.cache_hit;
  return out;
}

absl::StatusOr<std::shared_ptr<const auth::KeySet>> LoadInitialKeySet(
    const auth::KeyWatcherOptions& options, std::vector<std::string>* warnings) {
  struct stat st;
  if (::stat(options.keys_path.c_str(), &st) != 0 && errno == ENOENT) {
    std::shared_ptr<const auth::RevocationList> revoked = auth::RevocationList::Empty();
    if (!options.revoked_path.empty()) {
      absl::StatusOr<std::shared_ptr<const auth::RevocationList>> loaded =
          auth::RevocationList::Load(options.revoked_path);
      if (!loaded.ok()) return loaded.status();
      revoked = *std::move(loaded);
    }
    warnings->push_back(absl::StrCat("keys path ", options.keys_path,
                                     " does not exist: starting with no keys (every token gets "
                                     "UNKNOWN_KEY until keys appear there)"));
    return auth::KeySet::Make(auth::Keyring::Empty(), std::move(revoked));
  }
  return auth::LoadKeySet(options, warnings);
}

}  // namespace tokend

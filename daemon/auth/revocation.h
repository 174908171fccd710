// SPDX-License-Identifier: Apache-2.0
// revocation.h
//
// An immutable set of revoked tokens and jti values, read from a file with
// one entry per line (blank lines and lines starting with '#' ignored,
// surrounding whitespace trimmed). A line with exactly two '.' is a whole
// compact token or a jti that happens to hold two dots ("2024.06.x"): it is
// filed under both readings, so it revokes the token with that text and any
// token whose jti is that text. Any other line is a jti. An opaque API key
// is revoked by its token (stored as a jti: pass it as `jti`) or by its
// `.apikeys` line, of which only the first field, `sha256:<digest>`, is kept
// (pass ApiKeyDigestText() as `jti`). Immutable after construction: share by
// const pointer, thread-safe.
#ifndef TOKEND_DAEMON_AUTH_REVOCATION_H_
#define TOKEND_DAEMON_AUTH_REVOCATION_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace tokend::auth {

class RevocationList {
 public:
  static std::shared_ptr<const RevocationList> Empty();
  static std::shared_ptr<const RevocationList> Parse(std::string_view text);
  // No revocation list is near this: 64 MiB holds a million lines of
  // 64-byte entries.
  static constexpr size_t kMaxFileBytes = size_t{64} << 20;

  // Load()
  //
  // Reads and parses `path` (ReadRegularFile: never blocks on a FIFO or a
  // device). Fails, with a message naming the file and why, when it cannot
  // be opened, is not a regular file, or is larger than `max_bytes`.
  static absl::StatusOr<std::shared_ptr<const RevocationList>> Load(
      const std::string& path, size_t max_bytes = kMaxFileBytes);

  // True when `token` or, when non-empty, `jti` is listed. Called for every
  // request: a string that no entry could match is usually turned away by a
  // 1024-bit pre-filter, without hashing it.
  bool IsRevoked(std::string_view token, std::string_view jti) const;

  // Distinct entries (lines), a two-dot line counting once.
  size_t size() const { return entries_; }
  bool empty() const { return size() == 0; }
  bool operator==(const RevocationList& other) const {
    return tokens_ == other.tokens_ && jtis_ == other.jtis_;
  }

 private:
  // One bit per value of FilterSlot() over the entries of each set.
  using Filter = std::array<uint64_t, 16>;
  static size_t FilterSlot(std::string_view s);
  static void AddToFilter(Filter& filter, std::string_view s);
  static bool MayContain(const Filter& filter, std::string_view s);

  absl::flat_hash_set<std::string> tokens_;
  absl::flat_hash_set<std::string> jtis_;  // also holds every two-dot line
  size_t entries_ = 0;
  Filter token_filter_{};
  Filter jti_filter_{};
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_REVOCATION_H_

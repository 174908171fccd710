// revocation.h
//
// An immutable set of revoked tokens and jti values, read from a file with
// one entry per line (blank lines and lines starting with '#' ignored,
// surrounding whitespace trimmed). A line with two '.' is a whole compact
// token; any other line is a jti. An opaque API key is revoked by its token
// (stored as a jti: pass it as `jti`) or by its `.apikeys` line, of which
// only the first field, `sha256:<digest>`, is kept (pass ApiKeyDigestText()
// as `jti`). Immutable after construction: share by const pointer,
// thread-safe.
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
  // Load()
  //
  // Reads and parses `path`. Fails, naming the file, when it cannot be read.
  static absl::StatusOr<std::shared_ptr<const RevocationList>> Load(const std::string& path);

  // True when `token` or, when non-empty, `jti` is listed. Called for every
  // request: a string that no entry could match is usually turned away by a
  // 1024-bit pre-filter, without hashing it.
  bool IsRevoked(std::string_view token, std::string_view jti) const;

  size_t size() const { return tokens_.size() + jtis_.size(); }
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
  absl::flat_hash_set<std::string> jtis_;
  Filter token_filter_{};
  Filter jti_filter_{};
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_REVOCATION_H_

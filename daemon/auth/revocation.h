// revocation.h
//
// An immutable set of revoked tokens and jti values, read from a file with
// one entry per line (blank lines and lines starting with '#' ignored,
// surrounding whitespace trimmed). A line with two '.' is a whole compact
// token; any other line is a jti. Immutable after construction: share by
// const pointer, thread-safe.
#ifndef TOKEND_DAEMON_AUTH_REVOCATION_H_
#define TOKEND_DAEMON_AUTH_REVOCATION_H_

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

  // True when `token` or, when non-empty, `jti` is listed.
  bool IsRevoked(std::string_view token, std::string_view jti) const;

  size_t size() const { return tokens_.size() + jtis_.size(); }
  bool empty() const { return size() == 0; }
  bool operator==(const RevocationList& other) const {
    return tokens_ == other.tokens_ && jtis_ == other.jtis_;
  }

 private:
  absl::flat_hash_set<std::string> tokens_;
  absl::flat_hash_set<std::string> jtis_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_REVOCATION_H_

// SPDX-License-Identifier: Apache-2.0
// api_keys.h
//
// Opaque API keys, hashed at rest (DESIGN.md "Opaque API keys"). A file
// ending in `.apikeys` lists keys by digest, one a line:
//
//   sha256:<base64url of SHA-256(token), 43 characters> <subject> [expires=<RFC 3339 time>]
//
// fields separated by spaces or tabs; blank lines and lines whose first
// non-blank character is `#` are ignored. The token itself is never stored.
// The subject is 1 to 255 bytes of visible ASCII (0x21..0x7E): it is sent on
// to the application in an HTTP header, so a byte that could end or fold a
// header, or arrive changed, is refused at load rather than escaped later.
//
// ApiKeyTable is an immutable lookup table from digest to key, built once per
// key set and shared by const pointer (every method is const and
// thread-safe); it is published with the rest of the key set (key_set.h).
// ApiKeyDigestOf() is a pure function, safe from any thread.
//
// Why a lookup by digest is constant-time in the token's content: the token
// enters only SHA-256, whose running time depends on its length alone. What
// follows depends on the digest: the probe sequence of the table starts at
// the digest's first bytes, and every probe compares all 32 bytes with
// ConstantTimeEqual (constant_time.h). A timing difference can therefore tell an attacker at most
// whether the digest of a token they chose lands on an occupied slot, that
// is a few bits of some stored SHA-256(secret). Those bits do not help find
// a token whose digest matches in all 256 bits (SHA-256 is preimage
// resistant), and a token one byte away from a real key has a digest
// unrelated to that key's, so there is no near miss to measure: the
// byte-at-a-time guessing that a plain early-exit string comparison allows
// is impossible. The table is not seeded because its hash is the first 8
// bytes of a SHA-256 output, which nobody can aim at a slot without a
// preimage attack. A token's length is not secret: tokens shorter than
// kMinApiKeyBytes are refused without hashing.
#ifndef TOKEND_DAEMON_AUTH_API_KEYS_H_
#define TOKEND_DAEMON_AUTH_API_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tokend::auth {

// No token shorter than this is ever accepted (DESIGN.md).
inline constexpr size_t kMinApiKeyBytes = 16;
// Longest subject a line may carry.
inline constexpr size_t kMaxApiKeySubjectBytes = 255;

// Latest expiry a line may give: 9999-12-31T23:59:59Z.
inline constexpr int64_t kMaxApiKeyExpiry = 253402300799;

using ApiKeyDigest = std::array<uint8_t, 32>;

struct ApiKey {
  ApiKeyDigest digest{};
  std::string subject;
  int64_t exp = 0;     // seconds since the epoch; 0: never expires
  std::string source;  // "FILE:LINE", for messages
};

// ParseApiKeys()
//
// Parses the text of one `.apikeys` file; `source` names it in messages.
// Fails on the first malformed line, naming `source`, the line number and
// the rule broken (never echoing the subject's bytes): a digest that is not
// `sha256:` and 43 characters of canonical base64url, a missing or invalid
// subject, an expiry that is not RFC 3339 or not after 1970, an unknown or
// repeated field, a digest repeated within the file.
absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(std::string_view text, const std::string& source);

// ValidApiKeySubject()
//
// True when `subject` may stand on a line: 1..255 bytes of 0x21..0x7E.
bool ValidApiKeySubject(std::string_view subject);

// ApiKeyDigestText()
//
// "sha256:" and the base64url of `digest`: the first field of its line.
std::string ApiKeyDigestText(const ApiKeyDigest& digest);

// ApiKeyLine()
//
// A line (no newline) for `digest`, `subject` and `exp` (0: no expiry), as
// ParseApiKeys() reads it. REQUIRES: ValidApiKeySubject(subject).
std::string ApiKeyLine(const ApiKeyDigest& digest, std::string_view subject, int64_t exp);

class ApiKeyTable {
 public:
  // Build()
  //
  // Indexes `keys` (from any number of files). Fails, naming both lines, on
  // a digest listed twice, and on more than 2^31 keys.
  static absl::StatusOr<std::shared_ptr<const ApiKeyTable>> Build(std::vector<ApiKey> keys);

  // Find()
  //
  // The key whose digest is `digest`, or null. Every candidate is compared
  // in full with ConstantTimeEqual (see the file comment).
  const ApiKey* Find(const ApiKeyDigest& digest) const;

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<ApiKey>& keys() const { return keys_; }

  // True when both hold the same digests with the same subjects and expiries.
  bool SameKeysAs(const ApiKeyTable& other) const;

 private:
  ApiKeyTable() = default;

  static constexpr uint32_t kEmptySlot = UINT32_MAX;
  struct Slot {
    ApiKeyDigest digest{};
    uint32_t index = kEmptySlot;  // into keys_
  };

  std::vector<ApiKey> keys_;
  std::vector<Slot> slots_;  // open addressing, linear probing, load <= 1/2
  size_t mask_ = 0;          // slots_.size() - 1
};

// ApiKeyDigestOf()
//
// SHA-256 of `token`: what a key file stores and a lookup finds. Never
// fails and never allocates (hmac.h, Sha256()).
ApiKeyDigest ApiKeyDigestOf(std::string_view token);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_API_KEYS_H_

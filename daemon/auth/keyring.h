// SPDX-License-Identifier: Apache-2.0
// keyring.h
//
// A Keyring is an immutable snapshot of the loaded keys (HMAC secrets and
// public keys, signature.h): built once by
// Build(), never modified, shared by const pointer between threads (every
// method is const and thread-safe). A new key set is a new Keyring, swapped
// in whole by KeySetPublisher (key_set.h).
//
// Key rules (docs/design.md "Keys on disk"): a key shorter than its algorithm's
// hash output is refused; a published default secret (denylist.h) is refused;
// a duplicate kid is refused; a key bound to an alg serves only that alg; an
// unbound key serves every HS alg whose hash output fits in the key. A public
// key serves only its own family (PublicKey::algs(), never an HMAC alg), or
// the one alg it is bound to; a key may be bound to one issuer.
#ifndef TOKEND_DAEMON_AUTH_KEYRING_H_
#define TOKEND_DAEMON_AUTH_KEYRING_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "daemon/auth/hmac.h"
#include "daemon/auth/secret.h"
#include "daemon/auth/signature.h"
#include "daemon/auth/status.h"

namespace tokend::auth {

// One key as read from disk, before it is checked and keyed.
struct KeyMaterial {
  std::string kid;
  Alg bound_alg = Alg::kUnknown;                // kUnknown: not bound to one algorithm
  SecretBytes secret;                           // HMAC keys; empty for a public key
  std::string source;                           // the file it came from, for messages
  std::shared_ptr<const PublicKey> public_key;  // set for an asymmetric key
  std::string bound_issuer;  // non-empty: verifies only tokens with exactly this `iss`
};

struct Key {
  std::string kid;
  Alg bound_alg = Alg::kUnknown;
  // Identity of (kid, binding, issuer binding, secret bytes or public key):
  // a rewritten or rotated key under the same kid is a different key. First
  // 8 bytes of a SHA-256; never logged.
  uint64_t fingerprint = 0;
  std::string source;
  std::string bound_issuer;                     // non-empty: the only `iss` this key vouches for
  AlgSet serves;                                // every alg this key verifies
  std::array<std::unique_ptr<HmacKey>, 4> mac;  // indexed by HS Alg; null: not served
  std::shared_ptr<const PublicKey> public_key;  // null for an HMAC key

  bool Serves(Alg alg) const { return serves.Contains(alg); }
  const HmacKey* MacFor(Alg alg) const {
    const auto i = static_cast<size_t>(alg);
    return i < mac.size() ? mac[i].get() : nullptr;
  }
};

class Keyring {
 public:
  // Build()
  //
  // Checks and keys every entry of `material`. Fails, naming the source file
  // and the rule (never the secret), on a short key, a denylisted secret, a
  // duplicate kid, a public key bound to an alg of another family, or an
  // OpenSSL error. `material` is consumed.
  static absl::StatusOr<std::shared_ptr<const Keyring>> Build(std::vector<KeyMaterial> material);

  // An empty keyring: every token gets kUnknownKey.
  static std::shared_ptr<const Keyring> Empty();

  // The key named `kid`, or null.
  const Key* FindByKid(std::string_view kid) const;

  // Keys that serve `alg`, in load order: the candidates for a token with no kid.
  std::span<const Key* const> KeysFor(Alg alg) const;

  // True when a key with this fingerprint is loaded.
  bool Contains(uint64_t fingerprint) const;

  // True when both hold the same keys (same kids, bindings and bytes).
  bool SameKeysAs(const Keyring& other) const;

  // A number no other Keyring of this process has had or will have, so a
  // caller may remember something about this keyring by it without the
  // risk a reused address would bring.
  uint64_t serial() const { return serial_; }

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<std::unique_ptr<Key>>& keys() const { return keys_; }

 private:
  Keyring();
  const uint64_t serial_;
  std::vector<std::unique_ptr<Key>> keys_;
  absl::flat_hash_map<std::string, const Key*> by_kid_;
  std::array<std::vector<const Key*>, kAlgCount> by_alg_;
  std::vector<uint64_t> fingerprints_;  // sorted
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_KEYRING_H_

// SPDX-License-Identifier: Apache-2.0
// hmac.h
//
// HMAC-SHA2 (RFC 2104) with the inner and outer hash states precomputed once
// per key: a MAC then costs two copies of a plain struct and the hashing of
// the message, with no key schedule, no fetch and no allocation.
//
// The states are OpenSSL's SHA256_CTX and SHA512_CTX, whose functions
// (SHA256_Update, ...) OpenSSL 3.0 deprecates in favour of EVP. EVP has no
// way to copy a digest state without allocating: EVP_MD_CTX_copy_ex frees,
// cleanses and allocates the provider's context on every copy, twice per
// MAC, which made a MAC of the 252-byte bench token cost 1.26x this one
// (BM_HmacEvpCopy / BM_HmacFloor). The hashing itself is the same OpenSSL
// code either way (its SHA-NI or AVX2 block function).
//
// Sha256() hashes with the same functions on a state on the stack, for the
// same reason: an EVP digest of a 43-byte API key allocates and frees its
// context on every EVP_DigestInit_ex2.
//
// HmacKey is immutable after Create() and may be shared by any number of
// threads (Compute only reads it). HmacComputer holds one thread's scratch
// state: one per thread, never shared. Both wipe their states when
// destroyed.
#ifndef TOKEND_DAEMON_AUTH_HMAC_H_
#define TOKEND_DAEMON_AUTH_HMAC_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/status.h"

namespace tokend::auth {

inline constexpr size_t kMaxMacSize = 64;

// Sha256()
//
// The SHA-256 of `data`, written to `out`. Never fails and never allocates;
// the state, which held the tail of `data`, is wiped before it returns.
void Sha256(std::string_view data, std::span<uint8_t, 32> out);

class HmacKey {
 public:
  // Create()
  //
  // Precomputes the states of `alg` (an HS alg) keyed with `secret`. Fails
  // only on an OpenSSL error; key length policy is the keyring's job.
  static absl::StatusOr<std::unique_ptr<HmacKey>> Create(Alg alg, std::span<const uint8_t> secret);
  ~HmacKey();
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;

  Alg alg() const { return alg_; }
  size_t mac_size() const { return AlgHashSize(alg_); }

 private:
  friend class HmacComputer;
  struct States;  // the hash states after absorbing key ^ ipad and key ^ opad
  HmacKey(Alg alg, std::unique_ptr<States> states);
  Alg alg_;
  std::unique_ptr<States> states_;
};

class HmacComputer {
 public:
  HmacComputer();
  ~HmacComputer();
  HmacComputer(const HmacComputer&) = delete;
  HmacComputer& operator=(const HmacComputer&) = delete;

  // Compute()
  //
  // Writes the key.mac_size()-byte MAC of `data` to `out` (room for
  // key.mac_size() bytes). Returns false on an OpenSSL failure; `out` is
  // then unspecified.
  [[nodiscard]] bool Compute(const HmacKey& key, std::string_view data, uint8_t* out);

  // Verify()
  //
  // True when `tag` is exactly key.mac_size() bytes and equals the MAC of
  // `data`, compared in constant time (ConstantTimeEqual). A short
  // (truncated) tag is false.
  [[nodiscard]] bool Verify(const HmacKey& key, std::string_view data,
                            std::span<const uint8_t> tag);

 private:
  struct Scratch;  // a hash state being finished
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_HMAC_H_

// SPDX-License-Identifier: Apache-2.0
// hmac.h
//
// HMAC-SHA2 (RFC 2104) over OpenSSL digests with the inner and outer hash
// states precomputed once per key: a MAC then costs two EVP_MD_CTX_copy_ex
// and the hashing of the message, with no key schedule and no fetch.
//
// HmacKey is immutable after Create() and may be shared by any number of
// threads (Compute only reads it). HmacComputer holds one thread's scratch
// contexts: one per thread, never shared. The digests are fetched once
// (EVP_MD_fetch) and kept for the life of the process.
#ifndef TOKEND_DAEMON_AUTH_HMAC_H_
#define TOKEND_DAEMON_AUTH_HMAC_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace tokend::auth {

inline constexpr size_t kMaxMacSize = 64;

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
  HmacKey(Alg alg, EVP_MD_CTX* inner, EVP_MD_CTX* outer)
      : alg_(alg), inner_(inner), outer_(outer) {}
  Alg alg_;
  EVP_MD_CTX* inner_;  // after absorbing key ^ ipad
  EVP_MD_CTX* outer_;  // after absorbing key ^ opad
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
  // key.mac_size() bytes). Returns false on an OpenSSL failure, after
  // clearing OpenSSL's error queue; `out` is then unspecified.
  [[nodiscard]] bool Compute(const HmacKey& key, std::string_view data, uint8_t* out);

  // Verify()
  //
  // True when `tag` is exactly key.mac_size() bytes and equals the MAC of
  // `data`, compared with CRYPTO_memcmp. A short (truncated) tag is false.
  [[nodiscard]] bool Verify(const HmacKey& key, std::string_view data,
                            std::span<const uint8_t> tag);

 private:
  // One scratch context per Alg, so that a context always holds the same
  // digest and copying a key's state into it never touches the digest's
  // shared reference count. Null where allocation failed.
  std::array<EVP_MD_CTX*, 4> work_{};
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_HMAC_H_

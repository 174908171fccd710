// SPDX-License-Identifier: Apache-2.0
// signature.h
//
// Asymmetric JWS signatures (RFC 7518 §3.3-3.5, RFC 8037) over OpenSSL 3's
// EVP API: RS256/384/512 (RSASSA-PKCS1-v1_5), PS256/384/512 (RSASSA-PSS,
// MGF1 with the same hash, salt length = hash length), ES256/384/512 (ECDSA
// on P-256/384/521, signature in the JWS form r||s) and EdDSA (Ed25519).
//
// PublicKey is one checked public key, immutable after Create() and shared
// by any number of threads. SignatureVerifier holds one thread's prepared
// contexts (one per thread, never shared): the first verify under a
// (key, alg) pair builds an EVP_PKEY_CTX set up for it, later ones reuse it,
// so a verify hashes the signing input into a reused digest context and
// calls EVP_PKEY_verify, with no allocation and no fetch.
#ifndef TOKEND_DAEMON_AUTH_SIGNATURE_H_
#define TOKEND_DAEMON_AUTH_SIGNATURE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/status.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace tokend::auth {

// Smallest RSA modulus accepted (DESIGN.md "Public keys").
inline constexpr int kMinRsaBits = 2048;
// Largest RSA modulus accepted: bounds the signature buffer and the cost an
// attacker-supplied key file could impose. 8192 bits = 1024-byte signatures.
inline constexpr int kMaxRsaBits = 8192;
inline constexpr size_t kMaxSignatureSize = kMaxRsaBits / 8;

enum class PublicKeyType : uint8_t { kRsa, kEc, kEd25519 };

class PublicKey {
 public:
  // Create()
  //
  // Takes ownership of `pkey` (freed on failure too) and checks it: RSA of
  // kMinRsaBits..kMaxRsaBits bits with public exponent 65537 and without the
  // ROCA fingerprint (CVE-2017-15361); EC on P-256,
  // P-384 or P-521 with the point on its curve; Ed25519. Anything else
  // (DSA, X25519, Ed448, other curves, a key with private parts) fails with
  // a message naming the rule.
  static absl::StatusOr<std::shared_ptr<const PublicKey>> Create(EVP_PKEY* pkey);
  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  PublicKeyType type() const { return type_; }
  // RSA: modulus bits. EC: field bits (256, 384, 521). Ed25519: 256.
  int bits() const { return bits_; }
  // Every alg this key type may verify: RS*/PS* for RSA, the curve's one ES
  // alg for EC, EdDSA for Ed25519. Never an HMAC alg.
  AlgSet algs() const { return algs_; }
  // DER SubjectPublicKeyInfo: the key's identity (fingerprints, equality).
  const std::string& spki() const { return spki_; }
  // A number unique to this object in this process (never reused).
  uint64_t serial() const { return serial_; }
  // "RSA-2048", "EC P-256", "Ed25519": for messages.
  std::string Describe() const;

  EVP_PKEY* pkey() const { return pkey_; }

 private:
  friend class SignatureVerifier;
  PublicKey() = default;
  EVP_PKEY* pkey_ = nullptr;
  PublicKeyType type_ = PublicKeyType::kRsa;
  int bits_ = 0;
  AlgSet algs_;
  std::string spki_;
  uint64_t serial_ = 0;
  // EC: the size of r and of s in a JWS signature, and the group order,
  // big-endian, that long.
  size_t ec_scalar_bytes_ = 0;
  std::array<uint8_t, 66> ec_order_{};
};

class SignatureVerifier {
 public:
  SignatureVerifier();
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // Verify()
  //
  // True when `sig` is a valid `alg` signature of `data` under `key`. False
  // when `key` does not serve `alg` (an HMAC alg, RS256 with an EC key, ES384
  // with a P-256 key), for an ECDSA signature that is not exactly r||s of the
  // curve's size, or whose r or s is zero or not below the group order (DER
  // is refused by its length), and on any OpenSSL failure (the error queue
  // is cleared).
  [[nodiscard]] bool Verify(const PublicKey& key, Alg alg, std::string_view data,
                            std::span<const uint8_t> sig);

 private:
  struct Prepared {
    uint64_t key_serial = 0;  // 0: empty slot
    Alg alg = Alg::kUnknown;
    EVP_PKEY_CTX* pctx = nullptr;  // RSA, ECDSA: set up for EVP_PKEY_verify
    EVP_MD_CTX* mdctx = nullptr;   // EdDSA: after EVP_DigestVerifyInit
  };
  // The prepared context for (key, alg), building it on first use; null on
  // an OpenSSL failure.
  Prepared* Prepare(const PublicKey& key, Alg alg);
  static void Free(Prepared& p);

  // A thread sees few keys; a full table evicts round robin.
  static constexpr size_t kSlots = 32;
  std::array<Prepared, kSlots> slots_{};
  size_t next_victim_ = 0;
  // Digest contexts for SHA-256/384/512, each always holding its one digest.
  std::array<EVP_MD_CTX*, 3> md_{};
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_SIGNATURE_H_

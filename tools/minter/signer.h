// SPDX-License-Identifier: Apache-2.0
// signer.h
//
// Signing with private keys, for `tokenctl keygen` / `mint --key`, tests and
// benchmarks: never on the daemon's path (the daemon only verifies and
// refuses private keys). Key generation for RSA, EC P-256/384/521 and
// Ed25519, PEM in and out, and compact JWS signing for every asymmetric alg
// (ECDSA signatures in the JWS r||s form). Pure functions: thread-safe.
#ifndef TOKEND_DAEMON_AUTH_SIGNER_H_
#define TOKEND_DAEMON_AUTH_SIGNER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tokend::auth {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// GenerateKey()
//
// A new private key: `kind` is "RSA" (with `rsa_bits`, at least 2048),
// "P-256", "P-384", "P-521" or "Ed25519".
absl::StatusOr<PkeyPtr> GenerateKey(std::string_view kind, int rsa_bits = 2048);

// PrivateKeyPem() / PublicKeyPem() / PublicJwk()
//
// PKCS#8 private key PEM; SubjectPublicKeyInfo PEM; the public key as one
// JWK object with `kid` and `use: sig` (and `alg` when `alg` is known).
absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key);
absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* key);
absl::StatusOr<std::string> PublicJwk(EVP_PKEY* key, std::string_view kid, Alg alg);

// ReadPrivateKeyPem()
//
// A private key from PEM text (PKCS#8 or the traditional RSA/EC forms).
absl::StatusOr<PkeyPtr> ReadPrivateKeyPem(std::string_view pem);

// DefaultAlgFor()
//
// RS256 for RSA, the curve's ES alg for EC, EdDSA for Ed25519.
Alg DefaultAlgFor(EVP_PKEY* key);

// SignJws()
//
// base64url(header_json) '.' base64url(payload_json) '.' base64url(sig),
// signed with `key` under `alg` (an RS, PS, ES or EdDSA alg matching the
// key's type). The JSON is used as given, byte for byte.
absl::StatusOr<std::string> SignJws(Alg alg, std::string_view header_json,
                                    std::string_view payload_json, EVP_PKEY* key);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_SIGNER_H_

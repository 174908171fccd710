// SPDX-License-Identifier: Apache-2.0
// public_key.h
//
// Public keys from their file forms into KeyMaterial (DESIGN.md "Public
// keys"): a JWK of `kty` RSA, EC or OKP inside a JWK Set, and a `.pem` file
// holding one SubjectPublicKeyInfo or one certificate. Private material in
// any form is refused; keys meant for something other than signatures are
// skipped. The key checks themselves (sizes, exponent, curve, point) are
// PublicKey::Create()'s (signature.h). Free functions: thread-safe. Messages
// name the file and the rule.
#ifndef TOKEND_DAEMON_AUTH_PUBLIC_KEY_H_
#define TOKEND_DAEMON_AUTH_PUBLIC_KEY_H_

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/auth/keyring.h"

namespace tokend::auth {

// ParsePublicJwk()
//
// One JWK whose `kty` is not "oct". `where` names it in messages ("file:
// keys[2] (kid "x")"). Sets *skipped (and adds a warning) for a key tokend
// does not verify with but that a JWK Set may carry beside signing keys:
// `use` other than "sig", `key_ops` without "verify", an `alg` that is no
// JWS signature alg tokend knows (RSA-OAEP, ES224...), an EC curve other
// than P-256/384/521, an OKP curve other than Ed25519, an unknown kty. Fails
// on private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`), a
// missing or empty `kid`, missing or malformed members, an `alg` of another
// key type or curve (HS256 or ES256 on an RSA key, ES384 on P-256), and
// every PublicKey::Create() rule. "ES521" (RFC 7520's spelling) is ES512.
absl::StatusOr<KeyMaterial> ParsePublicJwk(simdjson::dom::object jwk, std::string_view kty,
                                           const std::string& where, const std::string& source,
                                           std::vector<std::string>* warnings, bool* skipped);

// ParsePublicPem()
//
// A `.pem` file: exactly one `BEGIN PUBLIC KEY` or `BEGIN CERTIFICATE`
// block (a certificate is only a container for its public key here: its
// dates, issuer and chain are not checked). Any private key block is
// refused. The key's kid is `kid`, unbound to an alg.
absl::StatusOr<KeyMaterial> ParsePublicPem(std::string_view pem, const std::string& kid,
                                           const std::string& source);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_PUBLIC_KEY_H_

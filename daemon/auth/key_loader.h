// key_loader.h
//
// Reads key files from disk into KeyMaterial, by DESIGN.md "Keys on disk":
//   *.json, *.jwks  a JWK Set of `kty: oct` keys and public keys (RSA, EC,
//                   OKP: public_key.h); other kty skipped, warned;
//   *.pem           one public key or certificate (public_key.h);
//   *.b64           one base64/base64url secret, whitespace around ignored;
//   *.iss           not a key: the issuer every key of the sibling NAME.jwks,
//                   NAME.json or NAME.pem is bound to (one line);
//   anything else   one raw secret, its exact bytes (not starting with '.').
// Symbolic links are followed (a Kubernetes Secret volume is links into
// ..data/). Free functions, no shared state: thread-safe. Errors and warnings
// name the file and the problem, never a secret's bytes.
#ifndef TOKEND_DAEMON_AUTH_KEY_LOADER_H_
#define TOKEND_DAEMON_AUTH_KEY_LOADER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/auth/keyring.h"

namespace tokend::auth {

struct LoadedKeys {
  std::vector<KeyMaterial> keys;
  std::vector<std::string> warnings;  // one line each, for the log
};

// LoadKeyMaterial()
//
// Reads `path`, a key file or a directory of key files (not recursive; dot
// files and subdirectories are skipped). A missing path or an empty
// directory yields no keys and a warning. Fails on the first unreadable or
// invalid file.
absl::StatusOr<LoadedKeys> LoadKeyMaterial(const std::string& path);

// LoadKeyring()
//
// LoadKeyMaterial() then Keyring::Build(): the whole set or an error.
absl::StatusOr<std::shared_ptr<const Keyring>> LoadKeyring(const std::string& path,
                                                           std::vector<std::string>* warnings);

// ParseJwks()
//
// Parses a JWK Set document. `source` names it in messages.
absl::StatusOr<std::vector<KeyMaterial>> ParseJwks(std::string_view json, const std::string& source,
                                                   std::vector<std::string>* warnings);

// ReadKeyFile()
//
// Reads one key file by the rules above (for tokenctl mint, which wants the
// key the daemon would load). For a JWK Set, `kid` selects the key; empty
// `kid` means the set must hold exactly one.
absl::StatusOr<KeyMaterial> ReadKeyFile(const std::string& path, std::string_view kid);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_KEY_LOADER_H_

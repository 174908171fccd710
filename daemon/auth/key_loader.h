// SPDX-License-Identifier: Apache-2.0
// key_loader.h
//
// Reads key files from disk into KeyMaterial, by docs/design.md "Keys on disk":
//   *.json, *.jwks  a JWK Set of `kty: oct` keys and public keys (RSA, EC,
//                   OKP: public_key.h); other kty skipped, warned;
//   *.pem           one public key or certificate (public_key.h);
//   *.b64           one base64/base64url secret, whitespace around ignored;
//   *.apikeys       opaque API keys by digest (api_keys.h), not HMAC keys;
//   *.iss           not a key: the issuer every key of the sibling NAME.jwks,
//                   NAME.json or NAME.pem is bound to (one line);
//   anything else   one raw secret, its exact bytes (not starting with '.').
// In a directory, files named like backups or documents are not keys (see
// NotAKeyFileReason()) and are skipped with a warning, and a key file that
// every user may read (mode & 004) loads with a warning.
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
#include "daemon/auth/api_keys.h"
#include "daemon/auth/keyring.h"

namespace tokend::auth {

struct LoadedKeys {
  std::vector<KeyMaterial> keys;
  std::vector<ApiKey> api_keys;       // from *.apikeys files, in load order
  std::vector<std::string> warnings;  // one line each, for the log
};

// NotAKeyFileReason()
//
// Why a directory entry named `name` is not read as a key, or "" when it
// is one. An editor's or a package manager's copy keeps an old secret alive
// and a README would become a published key, so these are refused by name
// (suffixes compared without case):
//   backups and temporary copies: "~", ".bak", ".backup", ".old", ".orig",
//     ".rej", ".save", ".swp", ".swo", ".tmp", ".temp", ".part",
//     ".dpkg-old/-new/-dist/-bak/-tmp", ".ucf-old/-new/-dist",
//     ".rpmnew", ".rpmsave", ".rpmorig", and Emacs's "#name#";
//   documents: ".md", ".markdown", ".txt", ".rst", ".adoc", ".html", ".htm",
//     ".pdf", and names starting README, LICENSE, LICENCE, COPYING, NOTICE or
//     CHANGELOG.
// A key file's own forms (.json, .jwks, .b64, raw) are unaffected unless
// they also end so ("k1.json.bak" is refused). Applies to directory entries
// only: a file named by --keys itself is read whatever its name.
std::string NotAKeyFileReason(std::string_view name);

// LoadKeyMaterial()
//
// Reads `path`, a key file or a directory of key files (not recursive; dot
// files, subdirectories and files refused by NotAKeyFileReason() are skipped,
// the last with a warning). A missing path or an empty
// directory yields no keys and a warning. Fails on the first unreadable or
// invalid file, or dangling symbolic link. An entry removed between the
// directory's listing and its reading is left out, as if the listing had
// come a moment later: a reload racing a removal is not a failed load.
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

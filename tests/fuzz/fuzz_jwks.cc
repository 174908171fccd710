// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: ParseJwks on arbitrary bytes, and ParsePublicPem
// on the same bytes. Neither may crash; every key ParseJwks accepts is a
// well-formed symmetric key or a checked public key that serves only its
// own family, and a PEM accepted is a public key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/auth/key_loader.h"
#include "daemon/auth/public_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  auto keys = tokend::auth::ParseJwks(json, "fuzz.json", &warnings);
  if (keys.ok()) {
    for (const tokend::auth::KeyMaterial& m : *keys) {
      if (m.kid.empty() || m.source != "fuzz.json") std::abort();
      if (m.public_key != nullptr) {
        if (!m.secret.empty() || m.public_key->algs().Contains(tokend::auth::Alg::kHS256)) {
          std::abort();
        }
        if (m.bound_alg != tokend::auth::Alg::kUnknown &&
            !m.public_key->algs().Contains(m.bound_alg)) {
          std::abort();
        }
        continue;
      }
      if (m.secret.empty()) std::abort();
      if (m.bound_alg != tokend::auth::Alg::kUnknown &&
          tokend::auth::AlgHashSize(m.bound_alg) == 0) {
        std::abort();
      }
    }
  }
  auto pem = tokend::auth::ParsePublicPem(json, "fuzz", "fuzz.pem");
  if (pem.ok() && pem->public_key == nullptr) std::abort();
  return 0;
}

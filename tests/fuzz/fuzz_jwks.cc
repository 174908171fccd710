// libFuzzer entry point: ParseJwks on arbitrary bytes. It must never crash,
// and every key it accepts must be a well-formed symmetric key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/auth/key_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  auto keys = tokend::auth::ParseJwks(json, "fuzz.json", &warnings);
  if (keys.ok()) {
    for (const tokend::auth::KeyMaterial& m : *keys) {
      if (m.kid.empty() || m.secret.empty() || m.source != "fuzz.json") std::abort();
      if (m.bound_alg != tokend::auth::Alg::kUnknown &&
          tokend::auth::AlgHashSize(m.bound_alg) == 0) {
        std::abort();
      }
    }
  }
  return 0;
}

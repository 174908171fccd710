// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: ParseApiKeys on arbitrary bytes. It must never
// crash; every key it accepts must carry a subject that is safe in an HTTP
// header, a non-negative expiry and its line as source; the line it would be
// written as must parse back to the same key; and a table built from the
// keys must find each of them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/auth/api_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace auth = tokend::auth;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = auth::ParseApiKeys(text, "fuzz.apikeys");
  if (!keys.ok()) {
    if (keys.status().message().find("fuzz.apikeys:") != 0) std::abort();
    return 0;
  }
  for (const auth::ApiKey& k : *keys) {
    if (!auth::ValidApiKeySubject(k.subject) || k.exp < 0) std::abort();
    if (k.source.find("fuzz.apikeys:") != 0) std::abort();
    auto again = auth::ParseApiKeys(auth::ApiKeyLine(k.digest, k.subject, k.exp), "again");
    if (!again.ok() || again->size() != 1) std::abort();
    const auth::ApiKey& a = (*again)[0];
    if (a.digest != k.digest || a.subject != k.subject || a.exp != k.exp) std::abort();
  }
  const std::vector<auth::ApiKey> copy = *keys;
  auto table = auth::ApiKeyTable::Build(*std::move(keys));
  if (!table.ok()) std::abort();  // digests are unique within one file
  for (const auth::ApiKey& k : copy) {
    const auth::ApiKey* found = (*table)->Find(k.digest);
    if (found == nullptr || found->subject != k.subject) std::abort();
  }
  return 0;
}

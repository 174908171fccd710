// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: strict base64url decoding of arbitrary bytes. Every
// accepted input must be the one canonical encoding of what it decodes to,
// every implementation the CPU can run must agree, and the lenient key-file
// decoder must accept what the strict one accepts, with the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/auth/base64url.h"

namespace b64 = tokend::auth::base64_internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string decoded;
  const bool ok = tokend::auth::Base64UrlDecode(in, decoded);
  if (ok && tokend::auth::Base64UrlEncode(decoded) != in) std::abort();
  if (ok && decoded.size() != tokend::auth::Base64UrlDecodedSize(size)) std::abort();

  size_t dots[2];
  size_t dot_count = 0;
  const bool dots_ok = tokend::auth::Base64UrlFindDots(in, dots, &dot_count);
  if (ok && (!dots_ok || dot_count != 0)) std::abort();
  for (size_t k = 0; dots_ok && k < dot_count && k < 2; ++k) {
    if (dots[k] >= size || in[dots[k]] != '.' || (k == 1 && dots[1] <= dots[0])) std::abort();
  }

  // Exactly sized buffers, so the sanitizers see any overrun.
  for (b64::Impl impl : {b64::Impl::kScalar, b64::Impl::kAvx2, b64::Impl::kAvx512Vbmi}) {
    if (!b64::Supported(impl)) continue;
    const size_t room = tokend::auth::Base64UrlDecodedSize(size);
    auto buf = std::make_unique<uint8_t[]>(room == 0 ? 1 : room);
    size_t n = 0;
    const bool impl_ok = b64::DecodeUrlWith(impl, in, buf.get(), &n);
    if (impl_ok != ok) std::abort();
    if (ok && (n != decoded.size() ||
               std::string_view(reinterpret_cast<char*>(buf.get()), n) != decoded)) {
      std::abort();
    }
    size_t impl_dots[2];
    size_t impl_count = 0;
    if (b64::FindDotsWith(impl, in, impl_dots, &impl_count) != dots_ok) std::abort();
    if (dots_ok && impl_count != dot_count) std::abort();
    for (size_t k = 0; dots_ok && k < dot_count && k < 2; ++k) {
      if (impl_dots[k] != dots[k]) std::abort();
    }
  }

  std::string lenient;
  const bool lenient_ok = tokend::auth::Base64DecodeLenient(in, lenient);
  if (ok && (!lenient_ok || lenient != decoded)) std::abort();
  return 0;
}

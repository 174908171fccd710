// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/constant_time.h"

#include <openssl/crypto.h>

namespace tokend::auth {

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  constexpr size_t kPiece = 16;
  int differ = 0;
  size_t i = 0;
  for (; i + kPiece <= a.size(); i += kPiece) {
    differ |= CRYPTO_memcmp(a.data() + i, b.data() + i, kPiece);
  }
  if (i < a.size()) differ |= CRYPTO_memcmp(a.data() + i, b.data() + i, a.size() - i);
  return differ == 0;
}

}  // namespace tokend::auth

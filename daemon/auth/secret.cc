// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/secret.h"

#include <openssl/crypto.h>

#include <utility>

namespace tokend::auth {

SecretBytes::SecretBytes(std::string_view bytes) : bytes_(bytes) {}

SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  // A short string is copied out of the source's inline buffer, not stolen:
  // the source must be wiped either way.
  other.Wipe();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (bytes_.size() != other.bytes_.size()) return false;
  return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

void SecretBytes::Wipe() {
  // Grow to the full capacity first (no reallocation) so that every byte the
  // buffer may ever have held, inline or on the heap, is cleansed.
  bytes_.resize(bytes_.capacity());
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

}  // namespace tokend::auth

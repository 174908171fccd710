// SPDX-License-Identifier: Apache-2.0
// secret.h
//
// SecretBytes: key material that is wiped (OPENSSL_cleanse) when it is
// destroyed or overwritten, and that never prints itself. Movable, not
// copyable by accident: Clone() says so. Not thread-safe to mutate.
#ifndef TOKEND_DAEMON_AUTH_SECRET_H_
#define TOKEND_DAEMON_AUTH_SECRET_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tokend::auth {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view bytes);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Clone() const { return SecretBytes(view()); }
  std::string_view view() const { return bytes_; }
  std::span<const uint8_t> span() const {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // Constant-time equality of contents (length may leak).
  bool Equals(const SecretBytes& other) const;

 private:
  void Wipe();
  std::string bytes_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_SECRET_H_

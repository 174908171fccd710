// SPDX-License-Identifier: Apache-2.0
// constant_time.h
//
// Comparing secrets (MACs, key digests) in time that depends on their length
// alone.
#ifndef TOKEND_DAEMON_AUTH_CONSTANT_TIME_H_
#define TOKEND_DAEMON_AUTH_CONSTANT_TIME_H_

#include <cstdint>
#include <span>

namespace tokend::auth {

// ConstantTimeEqual()
//
// True when `a` and `b` hold the same bytes. Lengths are public: different
// lengths are false at once. Otherwise every byte is read whatever the
// contents, through CRYPTO_memcmp in 16-byte pieces combined without a
// branch: OpenSSL's x86-64 CRYPTO_memcmp compares exactly 16 bytes as two
// words and any other length byte by byte, which made a 32-byte MAC's
// comparison cost a twentieth of the MAC itself.
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_CONSTANT_TIME_H_

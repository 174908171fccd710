// SPDX-License-Identifier: Apache-2.0
// token_tag.h
//
// TokenTagger computes the token cache's 128-bit keyed tag of a token
// (docs/design.md "The cache"): the name under which a verified token is
// remembered. The cache compares tags, never token bytes, so the tag must
// be unforgeable: without the key, no token other than a cached one may
// find that one's entry.
//
// Construction (where the CPU has PCLMULQDQ and AES-NI):
//
//   tag(m) = AES-128_K( POLYVAL_H( m || 0^pad || L ) )
//
// with POLYVAL as RFC 8452 §3 defines it, the message zero-padded to whole
// 16-byte blocks, and L one block holding the message length in bits
// (little-endian, in its first 8 bytes). H and K are 128-bit keys drawn
// independently at random.
//
// Forgery bound. POLYVAL_H is an ε-almost-∆-universal hash: for two
// distinct inputs of at most n blocks each (the length block included),
// POLYVAL_H(a) = POLYVAL_H(b) means that H is a root of a nonzero
// polynomial of degree at most n, so Pr_H[collision] ≤ n / 2^128. AES-128
// is a permutation, so two tags collide exactly when the POLYVAL values
// do. A token of 64 KiB has at most 4097 blocks: one attempt to find a
// cached token's entry with another token succeeds with probability at
// most 2^12 / 2^128 = 2^-116, better than the 2^-100 the cache needs, and
// q attempts with at most q times that. Because a tag is a PRP of the hash
// value, anything an attacker learns of tags (by timing which bucket a
// lookup touches, say) is, as far as AES-128 is a pseudorandom
// permutation, independent of H: the bound holds against an adaptive
// attacker. (Nothing in the bound depends on the token's length being
// secret; the length block only keeps "m" and "m || 0" apart.)
//
// Why not a library. OpenSSL offers SipHash and GMAC only through EVP_MAC:
// SipHash-2-4 with a reused context costs 108 ns for a 200-byte token
// against 18 ns here, HighwayHash (used before, and still the fallback)
// 73 ns (BM_EvpSiphash128/200, BM_TokenTag/0/200 and /2/200 of
// tokend-micro-bench, one run). Here the blocks' products are independent
// (each block times its own power of H, one reduction per 32 blocks), so
// most of the cost is the reduction and the ten AES rounds, which do not
// grow with the token.
//
// Implementations, chosen once per process from the CPU's features:
//   kVpclmul  AVX-512 (F, BW) + VPCLMULQDQ + AES-NI: four blocks per
//             instruction, masked loads for the last bytes.
//   kPclmul   SSE + PCLMULQDQ + AES-NI: one block per instruction.
//   kHighway  elsewhere: HighwayHash-128 (a keyed PRF, arXiv:1612.06257)
//             of the token under the same 32 key bytes. A different
//             function, equally unforgeable; every tagger of one process
//             uses the same implementation, so tags are comparable.
// kVpclmul and kPclmul compute the same function (a test checks it).
//
// Thread-safety: immutable after construction; Tag() may be called from any
// number of threads. The key material is wiped on destruction.
#ifndef TOKEND_DAEMON_AUTH_TOKEN_TAG_H_
#define TOKEND_DAEMON_AUTH_TOKEN_TAG_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tokend::auth {

class TokenTagger {
 public:
  static constexpr size_t kKeyBytes = 32;
  enum class Impl { kVpclmul, kPclmul, kHighway };

  // `key`: kKeyBytes uniformly random bytes (the first 16 are H, the last
  // 16 the AES key). Uses Best().
  explicit TokenTagger(std::span<const uint8_t, kKeyBytes> key);
  // As above with a given implementation. REQUIRES: Supported(impl).
  TokenTagger(std::span<const uint8_t, kKeyBytes> key, Impl impl);
  ~TokenTagger();
  TokenTagger(const TokenTagger&) = delete;
  TokenTagger& operator=(const TokenTagger&) = delete;

  // The tag of `bytes`, as two little-endian words of the output block.
  std::array<uint64_t, 2> Tag(std::string_view bytes) const;

  Impl impl() const { return impl_; }
  static bool Supported(Impl impl);
  // The fastest implementation this CPU supports.
  static Impl Best();
  static const char* Name(Impl impl);

  // Blocks per reduction: powers H^1..H^kChunkBlocks+1 are precomputed.
  static constexpr size_t kChunkBlocks = 32;

 private:
  // Descending powers of H in POLYVAL's "dot" sense (RFC 8452 §3):
  // powers_[i] = H^(kPowers - i), then kPad zero blocks so that a 4-block
  // load past the smallest power stays inside the array.
  static constexpr size_t kPowers = kChunkBlocks + 1;
  static constexpr size_t kPad = 4;
  alignas(64) uint8_t powers_[kPowers + kPad][16];
  alignas(16) uint8_t round_keys_[11][16];  // AES-128 key schedule
  uint8_t key_[kKeyBytes];                  // for kHighway
  Impl impl_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_TOKEN_TAG_H_

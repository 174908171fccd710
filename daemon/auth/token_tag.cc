// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/token_tag.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "highwayhash/highwayhash_target.h"
#include "highwayhash/instruction_sets.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define TOKEND_TAG_X86 1
#else
#define TOKEND_TAG_X86 0
#endif

namespace tokend::auth {

namespace {

using Tag128 = std::array<uint64_t, 2>;

#if TOKEND_TAG_X86
#define TOKEND_TARGET_PCLMUL __attribute__((target("sse4.1,pclmul,aes")))
#define TOKEND_TARGET_VPCLMUL \
  __attribute__((target("avx512f,avx512bw,vpclmulqdq,sse4.1,pclmul,aes")))

// Unreduced 256-bit carry-less products, summed: the low, middle (the two
// cross terms) and high 128 bits.
struct Products {
  __m128i lo = _mm_setzero_si128();
  __m128i mid = _mm_setzero_si128();
  __m128i hi = _mm_setzero_si128();
};

TOKEND_TARGET_PCLMUL inline void MulAdd(Products& s, __m128i x, __m128i h) {
  s.lo = _mm_xor_si128(s.lo, _mm_clmulepi64_si128(x, h, 0x00));
  s.hi = _mm_xor_si128(s.hi, _mm_clmulepi64_si128(x, h, 0x11));
  s.mid = _mm_xor_si128(
      s.mid, _mm_xor_si128(_mm_clmulepi64_si128(x, h, 0x01), _mm_clmulepi64_si128(x, h, 0x10)));
}

// POLYVAL's reduction: the sum of products times x^-128 mod
// x^128 + x^127 + x^126 + x^121 + 1 (RFC 8452 §3), by two folds with the
// constant 0xc2000000_00000000 (Gueron, Langley, Lindell, "AES-GCM-SIV",
// the reference implementation's gfmul).
TOKEND_TARGET_PCLMUL inline __m128i Reduce(const Products& s) {
  __m128i lo = _mm_xor_si128(s.lo, _mm_slli_si128(s.mid, 8));
  const __m128i hi = _mm_xor_si128(s.hi, _mm_srli_si128(s.mid, 8));
  const __m128i poly = _mm_setr_epi32(1, 0, 0, static_cast<int>(0xc2000000u));
  for (int fold = 0; fold < 2; ++fold) {
    lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), _mm_clmulepi64_si128(lo, poly, 0x10));
  }
  return _mm_xor_si128(hi, lo);
}

// dot(a, b) of RFC 8452 §3.
TOKEND_TARGET_PCLMUL __m128i Dot(__m128i a, __m128i b) {
  Products s;
  MulAdd(s, a, b);
  return Reduce(s);
}

TOKEND_TARGET_PCLMUL inline __m128i ExpandStep(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

// The AES-128 key schedule (FIPS 197 §5.2); the round constant must be an
// immediate, hence the macro.
TOKEND_TARGET_PCLMUL void ExpandAes128(const uint8_t* key, uint8_t (*rk)[16]) {
  __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  _mm_store_si128(reinterpret_cast<__m128i*>(rk[0]), k);
#define TOKEND_AES_ROUND_KEY(i, rcon)                    \
  k = ExpandStep(k, _mm_aeskeygenassist_si128(k, rcon)); \
  _mm_store_si128(reinterpret_cast<__m128i*>(rk[i]), k)
  TOKEND_AES_ROUND_KEY(1, 0x01);
  TOKEND_AES_ROUND_KEY(2, 0x02);
  TOKEND_AES_ROUND_KEY(3, 0x04);
  TOKEND_AES_ROUND_KEY(4, 0x08);
  TOKEND_AES_ROUND_KEY(5, 0x10);
  TOKEND_AES_ROUND_KEY(6, 0x20);
  TOKEND_AES_ROUND_KEY(7, 0x40);
  TOKEND_AES_ROUND_KEY(8, 0x80);
  TOKEND_AES_ROUND_KEY(9, 0x1b);
  TOKEND_AES_ROUND_KEY(10, 0x36);
#undef TOKEND_AES_ROUND_KEY
}

TOKEND_TARGET_PCLMUL inline Tag128 EncryptToTag(__m128i block, const uint8_t (*rk)[16]) {
  const auto key = [&](int i) { return _mm_load_si128(reinterpret_cast<const __m128i*>(rk[i])); };
  block = _mm_xor_si128(block, key(0));
  for (int i = 1; i < 10; ++i) block = _mm_aesenc_si128(block, key(i));
  block = _mm_aesenclast_si128(block, key(10));
  return {static_cast<uint64_t>(_mm_cvtsi128_si64(block)),
          static_cast<uint64_t>(_mm_extract_epi64(block, 1))};
}

TOKEND_TARGET_PCLMUL inline __m128i LengthBlock(size_t size) {
  return _mm_set_epi64x(0, static_cast<int64_t>(static_cast<uint64_t>(size) * 8));
}

TOKEND_TARGET_PCLMUL inline __m128i LoadPower(const uint8_t (*powers)[16], size_t i) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(powers[i]));
}

// The message is cut into chunks of at most kChunkBlocks blocks. Within a
// chunk of k blocks, block j (from 0) is multiplied by H^(top - j), where
// top is k, or k + 1 in the last chunk, whose sum also takes L times H^1;
// the running value is added into the chunk's first block. That is Horner's
// rule of RFC 8452 §3 regrouped: one reduction per chunk.
struct Chunk {
  size_t first_block;  // of the message
  size_t blocks;
  bool last;
  size_t top;
};

inline Chunk NextChunk(size_t done, size_t total_blocks) {
  const size_t k = std::min(TokenTagger::kChunkBlocks, total_blocks - done);
  const bool last = done + k == total_blocks;
  return {done, k, last, k + (last ? 1 : 0)};
}

TOKEND_TARGET_PCLMUL Tag128 TagPclmul(const uint8_t (*powers)[16], size_t num_powers,
                                      const uint8_t (*rk)[16], const char* p, size_t size) {
  const size_t total = (size + 15) / 16;
  __m128i acc = _mm_setzero_si128();
  size_t done = 0;
  Chunk c;
  do {
    c = NextChunk(done, total);
    const size_t base = num_powers - c.top;  // powers[base + j] = H^(top - j)
    Products s;
    for (size_t j = 0; j < c.blocks; ++j) {
      const size_t off = (c.first_block + j) * 16;
      __m128i x;
      if (off + 16 <= size) {
        x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + off));
      } else {
        alignas(16) uint8_t tail[16] = {};
        std::memcpy(tail, p + off, size - off);
        x = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      }
      if (j == 0) x = _mm_xor_si128(x, acc);
      MulAdd(s, x, LoadPower(powers, base + j));
    }
    if (c.last) MulAdd(s, LengthBlock(size), LoadPower(powers, num_powers - 1));
    acc = Reduce(s);
    done += c.blocks;
  } while (!c.last);
  return EncryptToTag(acc, rk);
}

// The four 128-bit lanes XORed. (The zero-masking extracts: GCC 12's
// unmasked ones pass an undefined vector that -Wuninitialized reports.)
TOKEND_TARGET_VPCLMUL inline __m128i Fold4(__m512i v) {
  return _mm_xor_si128(_mm_xor_si128(_mm512_maskz_extracti32x4_epi32(0xf, v, 0),
                                     _mm512_maskz_extracti32x4_epi32(0xf, v, 1)),
                       _mm_xor_si128(_mm512_maskz_extracti32x4_epi32(0xf, v, 2),
                                     _mm512_maskz_extracti32x4_epi32(0xf, v, 3)));
}

TOKEND_TARGET_VPCLMUL Tag128 TagVpclmul(const uint8_t (*powers)[16], size_t num_powers,
                                        const uint8_t (*rk)[16], const char* p, size_t size) {
  const size_t total = (size + 15) / 16;
  __m128i acc = _mm_setzero_si128();
  size_t done = 0;
  Chunk c;
  do {
    c = NextChunk(done, total);
    const uint8_t* pw = powers[num_powers - c.top];
    __m512i lo = _mm512_setzero_si512();
    __m512i mid = _mm512_setzero_si512();
    __m512i hi = _mm512_setzero_si512();
    for (size_t v = 0; v * 4 < c.blocks; ++v) {
      const size_t off = c.first_block * 16 + v * 64;
      const size_t left = size - off;  // > 0: the chunk has a block here
      // A masked load reads no byte past the token (masked-off bytes do
      // not fault) and zero-pads the last block.
      const __m512i x0 = left >= 64 ? _mm512_loadu_si512(p + off)
                                    : _mm512_maskz_loadu_epi8((uint64_t{1} << left) - 1, p + off);
      const __m512i x = v == 0 ? _mm512_xor_si512(x0, _mm512_zextsi128_si512(acc)) : x0;
      // Lanes past the chunk's blocks hold zero message bytes (the last
      // chunk) and powers from the zero padding or smaller powers: their
      // products are zero.
      const __m512i h = _mm512_loadu_si512(pw + v * 64);
      lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, h, 0x00));
      hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, h, 0x11));
      mid = _mm512_xor_si512(mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(x, h, 0x01),
                                                   _mm512_clmulepi64_epi128(x, h, 0x10)));
    }
    Products s{Fold4(lo), Fold4(mid), Fold4(hi)};
    if (c.last) MulAdd(s, LengthBlock(size), LoadPower(powers, num_powers - 1));
    acc = Reduce(s);
    done += c.blocks;
  } while (!c.last);
  return EncryptToTag(acc, rk);
}

TOKEND_TARGET_PCLMUL void PreparePowers(const uint8_t* h_bytes, uint8_t (*powers)[16],
                                        size_t num_powers) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h_bytes));
  __m128i power = h;
  for (size_t k = 1; k <= num_powers; ++k) {
    _mm_store_si128(reinterpret_cast<__m128i*>(powers[num_powers - k]), power);
    power = Dot(power, h);
  }
}
#endif  // TOKEND_TAG_X86

template <highwayhash::TargetBits kTarget>
Tag128 TagHighwayWith(const uint8_t* key, std::string_view bytes) {
  highwayhash::HHKey hh_key;
  std::memcpy(hh_key, key, sizeof(hh_key));
  highwayhash::HHResult128 out;
  highwayhash::HighwayHash<kTarget>()(hh_key, bytes.data(), bytes.size(), &out);
  return {out[0], out[1]};
}

Tag128 TagHighway(const uint8_t* key, std::string_view bytes) {
#if HH_ARCH_X64
  static const highwayhash::TargetBits supported = highwayhash::InstructionSets::Supported();
  if (supported & HH_TARGET_AVX2) return TagHighwayWith<HH_TARGET_AVX2>(key, bytes);
  if (supported & HH_TARGET_SSE41) return TagHighwayWith<HH_TARGET_SSE41>(key, bytes);
#endif
  return TagHighwayWith<HH_TARGET_Portable>(key, bytes);
}

}  // namespace

bool TokenTagger::Supported(Impl impl) {
  switch (impl) {
    case Impl::kHighway:
      return true;
#if TOKEND_TAG_X86
    case Impl::kPclmul:
      return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("aes") &&
             __builtin_cpu_supports("sse4.1");
    case Impl::kVpclmul:
      return Supported(Impl::kPclmul) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("vpclmulqdq");
#else
    case Impl::kPclmul:
    case Impl::kVpclmul:
      return false;
#endif
  }
  return false;
}

TokenTagger::Impl TokenTagger::Best() {
  static const Impl best = [] {
    for (Impl impl : {Impl::kVpclmul, Impl::kPclmul}) {
      if (Supported(impl)) return impl;
    }
    return Impl::kHighway;
  }();
  return best;
}

const char* TokenTagger::Name(Impl impl) {
  switch (impl) {
    case Impl::kVpclmul:
      return "polyval-aes/vpclmulqdq";
    case Impl::kPclmul:
      return "polyval-aes/pclmulqdq";
    case Impl::kHighway:
      return "highwayhash";
  }
  return "?";
}

TokenTagger::TokenTagger(std::span<const uint8_t, kKeyBytes> key) : TokenTagger(key, Best()) {}

TokenTagger::TokenTagger(std::span<const uint8_t, kKeyBytes> key, Impl impl) : impl_(impl) {
  std::memset(powers_, 0, sizeof(powers_));
  std::memset(round_keys_, 0, sizeof(round_keys_));
  std::memcpy(key_, key.data(), kKeyBytes);
#if TOKEND_TAG_X86
  if (impl_ != Impl::kHighway) {
    PreparePowers(key.data(), powers_, kPowers);
    ExpandAes128(key.data() + 16, round_keys_);
  }
#endif
}

TokenTagger::~TokenTagger() {
  OPENSSL_cleanse(powers_, sizeof(powers_));
  OPENSSL_cleanse(round_keys_, sizeof(round_keys_));
  OPENSSL_cleanse(key_, sizeof(key_));
}

std::array<uint64_t, 2> TokenTagger::Tag(std::string_view bytes) const {
  switch (impl_) {
#if TOKEND_TAG_X86
    case Impl::kVpclmul:
      return TagVpclmul(powers_, kPowers, round_keys_, bytes.data(), bytes.size());
    case Impl::kPclmul:
      return TagPclmul(powers_, kPowers, round_keys_, bytes.data(), bytes.size());
#else
    case Impl::kVpclmul:
    case Impl::kPclmul:
#endif
    case Impl::kHighway:
      break;
  }
  return TagHighway(key_, bytes);
}

}  // namespace tokend::auth

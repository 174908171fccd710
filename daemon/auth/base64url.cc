// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/base64url.h"

#include <array>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tokend::auth {
namespace {

constexpr uint8_t kInvalid = 0xFF;

// Character -> 6-bit value, kInvalid outside the alphabet. A single 256-byte
// table: decoding ORs the four looked-up values of each quantum into an error
// accumulator and tests bit 7 once at the end, so the loop has no branch per
// character.
constexpr std::array<uint8_t, 256> MakeDecodeTable(bool url) {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<uint8_t>(i);
    t['a' + i] = static_cast<uint8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<uint8_t>(52 + i);
  t[url ? '-' : '+'] = 62;
  t[url ? '_' : '/'] = 63;
  return t;
}

constexpr std::array<uint8_t, 256> kUrlDecode = MakeDecodeTable(true);
constexpr std::array<uint8_t, 256> kStdDecode = MakeDecodeTable(false);
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Decodes `len` characters of unpadded base64 with `table`; `out` has room for
// Base64UrlDecodedSize(len) bytes. Trailing bits must be zero.
inline bool DecodeWith(const std::array<uint8_t, 256>& table, const uint8_t* in, size_t len,
                       uint8_t* out, size_t* out_len) {
  const size_t rem = len % 4;
  if (rem == 1) return false;
  const uint8_t* const full_end = in + (len - rem);
  uint8_t* o = out;
  uint32_t err = 0;
  // Two quanta per iteration: halves the loop overhead on typical segments.
  while (full_end - in >= 8) {
    const uint32_t a0 = table[in[0]], a1 = table[in[1]], a2 = table[in[2]], a3 = table[in[3]];
    const uint32_t b0 = table[in[4]], b1 = table[in[5]], b2 = table[in[6]], b3 = table[in[7]];
    err |= a0 | a1 | a2 | a3 | b0 | b1 | b2 | b3;
    const uint32_t a = (a0 << 18) | (a1 << 12) | (a2 << 6) | a3;
    const uint32_t b = (b0 << 18) | (b1 << 12) | (b2 << 6) | b3;
    o[0] = static_cast<uint8_t>(a >> 16);
    o[1] = static_cast<uint8_t>(a >> 8);
    o[2] = static_cast<uint8_t>(a);
    o[3] = static_cast<uint8_t>(b >> 16);
    o[4] = static_cast<uint8_t>(b >> 8);
    o[5] = static_cast<uint8_t>(b);
    in += 8;
    o += 6;
  }
  if (in != full_end) {
    const uint32_t a0 = table[in[0]], a1 = table[in[1]], a2 = table[in[2]], a3 = table[in[3]];
    err |= a0 | a1 | a2 | a3;
    const uint32_t a = (a0 << 18) | (a1 << 12) | (a2 << 6) | a3;
    o[0] = static_cast<uint8_t>(a >> 16);
    o[1] = static_cast<uint8_t>(a >> 8);
    o[2] = static_cast<uint8_t>(a);
    in += 4;
    o += 3;
  }
  if (rem == 2) {
    const uint32_t a0 = table[in[0]], a1 = table[in[1]];
    err |= a0 | a1;
    if ((a1 & 0x0F) != 0) return false;  // 4 trailing bits must be zero
    *o++ = static_cast<uint8_t>((a0 << 2) | (a1 >> 4));
  } else if (rem == 3) {
    const uint32_t a0 = table[in[0]], a1 = table[in[1]], a2 = table[in[2]];
    err |= a0 | a1 | a2;
    if ((a2 & 0x03) != 0) return false;  // 2 trailing bits must be zero
    const uint32_t a = (a0 << 12) | (a1 << 6) | a2;
    *o++ = static_cast<uint8_t>(a >> 10);
    *o++ = static_cast<uint8_t>(a >> 2);
  }
  if ((err & 0x80) != 0) return false;
  *out_len = static_cast<size_t>(o - out);
  return true;
}

#if defined(__x86_64__)

// AVX2: 32 characters -> 24 bytes per step, as in Muła and Lemire, "Faster
// Base64 Encoding and Decoding Using AVX2 Instructions" (2018), with the
// lookup tables redone for the URL alphabet.
//
// Validation: each high nibble h is a class with one bit (kAvx2HiClass[h]);
// kAvx2LoInvalid[l] holds the bits of the classes in which low nibble l is
// not in the alphabet. A character is invalid iff the two lookups share a
// bit. Classes: 0x01 h=2 ('-' only), 0x02 h=3 (digits), 0x04 h=4 and h=6
// (letters from 1), 0x08 h=5 ('P'-'Z', '_'), 0x10 h=7 ('p'-'z'), 0x20 every
// other h, bytes >= 0x80 included.
//
// Translation: add kAvx2Roll[h] (-65 for A-Z, -71 for a-z, +4 for digits, +17
// for '-'), and 33 more for '_', the one character of class h=5 that is not
// an upper-case letter.
__attribute__((target("avx2"))) size_t DecodeBlocksAvx2(const uint8_t* in, size_t len, uint8_t* out,
                                                        bool* ok) {
  const __m256i lo_invalid =
      _mm256_setr_epi8(0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x23, 0x3B, 0x3B,
                       0x3A, 0x3B, 0x33, 0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21,
                       0x23, 0x3B, 0x3B, 0x3A, 0x3B, 0x33);
  const __m256i hi_class =
      _mm256_setr_epi8(0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20, 0x20, 0x20, 0x20,
                       0x20, 0x20, 0x20, 0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20,
                       0x20, 0x20, 0x20, 0x20, 0x20, 0x20);
  const __m256i roll = _mm256_setr_epi8(0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i underscore = _mm256_set1_epi8('_');
  const __m256i underscore_fix = _mm256_set1_epi8(33);
  const __m256i merge_pairs = _mm256_set1_epi32(0x01400140);
  const __m256i merge_quads = _mm256_set1_epi32(0x00011000);
  const __m256i big_endian =
      _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10,
                       9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i pack_lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
  size_t i = 0;
  uint8_t* o = out;
  for (; len - i >= 32; i += 32, o += 24) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i lo = _mm256_and_si256(c, nibble);
    const __m256i bad =
        _mm256_and_si256(_mm256_shuffle_epi8(lo_invalid, lo), _mm256_shuffle_epi8(hi_class, hi));
    if (!_mm256_testz_si256(bad, bad)) {
      *ok = false;
      return i;
    }
    const __m256i fix = _mm256_and_si256(_mm256_cmpeq_epi8(c, underscore), underscore_fix);
    const __m256i values = _mm256_add_epi8(c, _mm256_add_epi8(_mm256_shuffle_epi8(roll, hi), fix));
    // [00aaaaaa 00bbbbbb 00cccccc 00dddddd] -> aaaaaabbbbbbccccccdddddd per dword.
    const __m256i quads = _mm256_madd_epi16(_mm256_maddubs_epi16(values, merge_pairs), merge_quads);
    const __m256i packed =
        _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, big_endian), pack_lanes);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(packed));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 16), _mm256_extracti128_si256(packed, 1));
  }
  *ok = true;
  return i;
}

// AVX-512 VBMI: 64 characters -> 48 bytes per step. One two-table byte
// permute maps the low 7 bits of each character to its value or to 0x80;
// OR-ing the character back in flags bytes >= 0x80 too. The last partial
// block of whole quanta is loaded and stored under masks, so only the 2 or 3
// characters of a final partial quantum are left to the scalar code.
alignas(64) constexpr std::array<uint8_t, 128> kVbmiLookup = [] {
  std::array<uint8_t, 128> t{};
  for (size_t c = 0; c < 128; ++c) t[c] = kUrlDecode[c] == kInvalid ? 0x80 : kUrlDecode[c];
  return t;
}();
alignas(64) constexpr std::array<uint8_t, 64> kVbmiPack = [] {
  std::array<uint8_t, 64> t{};
  for (size_t k = 0; k < 48; ++k) t[k] = static_cast<uint8_t>(4 * (k / 3) + 2 - k % 3);
  return t;
}();

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) size_t DecodeBlocksAvx512(const uint8_t* in,
                                                                                 size_t len,
                                                                                 uint8_t* out,
                                                                                 bool* ok) {
  const __m512i lut_lo = _mm512_load_si512(kVbmiLookup.data());
  const __m512i lut_hi = _mm512_load_si512(kVbmiLookup.data() + 64);
  const __m512i pack = _mm512_load_si512(kVbmiPack.data());
  const __m512i merge_pairs = _mm512_set1_epi32(0x01400140);
  const __m512i merge_quads = _mm512_set1_epi32(0x00011000);
  const size_t whole = len & ~size_t{3};
  size_t i = 0;
  uint8_t* o = out;
  while (i < whole) {
    const size_t n = whole - i < 64 ? whole - i : 64;
    const __mmask64 in_mask = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i c = _mm512_maskz_loadu_epi8(in_mask, in + i);
    const __m512i values = _mm512_permutex2var_epi8(lut_lo, c, lut_hi);
    if ((_mm512_movepi8_mask(_mm512_or_si512(values, c)) & in_mask) != 0) {
      *ok = false;
      return i;
    }
    const __m512i quads = _mm512_madd_epi16(_mm512_maddubs_epi16(values, merge_pairs), merge_quads);
    const __m512i packed = _mm512_maskz_permutexvar_epi8(~__mmask64{0}, pack, quads);
    _mm512_mask_storeu_epi8(o, (__mmask64{1} << (n / 4 * 3)) - 1, packed);
    i += n;
    o += n / 4 * 3;
  }
  *ok = true;
  return i;
}

// Records the dots of one block: the first two positions, then a count.
inline void NoteDots(uint64_t dots, size_t base, size_t* positions, size_t* count) {
  while (dots != 0 && *count < 2) {
    positions[(*count)++] = base + static_cast<size_t>(__builtin_ctzll(dots));
    dots &= dots - 1;
  }
  *count += static_cast<size_t>(__builtin_popcountll(dots));
}

// The classification of DecodeBlocksAvx2 (see there), without the decoding;
// '.' (class 0x01, low nibble E) counts as invalid there and is let through
// by its own compare.
__attribute__((target("avx2"))) bool FindDotsAvx2(const uint8_t* in, size_t len, size_t* positions,
                                                  size_t* count) {
  const __m256i lo_invalid =
      _mm256_setr_epi8(0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x23, 0x3B, 0x3B,
                       0x3A, 0x3B, 0x33, 0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21,
                       0x23, 0x3B, 0x3B, 0x3A, 0x3B, 0x33);
  const __m256i hi_class =
      _mm256_setr_epi8(0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20, 0x20, 0x20, 0x20,
                       0x20, 0x20, 0x20, 0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20,
                       0x20, 0x20, 0x20, 0x20, 0x20, 0x20);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i dot = _mm256_set1_epi8('.');
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; len - i >= 32; i += 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i lo = _mm256_and_si256(c, nibble);
    const __m256i bad =
        _mm256_and_si256(_mm256_shuffle_epi8(lo_invalid, lo), _mm256_shuffle_epi8(hi_class, hi));
    const uint32_t bad_mask =
        ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bad, zero)));
    const uint32_t dots = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, dot)));
    if ((bad_mask & ~dots) != 0) return false;
    NoteDots(dots, i, positions, count);
  }
  for (; i < len; ++i) {
    if (in[i] == '.') {
      NoteDots(1, i, positions, count);
    } else if (kUrlDecode[in[i]] == kInvalid) {
      return false;
    }
  }
  return true;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) bool FindDotsAvx512(const uint8_t* in,
                                                                           size_t len,
                                                                           size_t* positions,
                                                                           size_t* count) {
  const __m512i lut_lo = _mm512_load_si512(kVbmiLookup.data());
  const __m512i lut_hi = _mm512_load_si512(kVbmiLookup.data() + 64);
  const __m512i dot = _mm512_set1_epi8('.');
  for (size_t i = 0; i < len; i += 64) {
    const size_t n = len - i < 64 ? len - i : 64;
    const __mmask64 in_mask = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i c = _mm512_maskz_loadu_epi8(in_mask, in + i);
    const __m512i values = _mm512_permutex2var_epi8(lut_lo, c, lut_hi);
    const uint64_t bad = _mm512_movepi8_mask(_mm512_or_si512(values, c)) & in_mask;
    const uint64_t dots = _mm512_mask_cmpeq_epi8_mask(in_mask, c, dot);
    if ((bad & ~dots) != 0) return false;
    NoteDots(dots, i, positions, count);
  }
  return true;
}

#endif  // __x86_64__

bool FindDotsScalar(const uint8_t* in, size_t len, size_t* positions, size_t* count) {
  for (size_t i = 0; i < len; ++i) {
    if (in[i] == '.') {
      if (*count < 2) positions[*count] = i;
      ++*count;
    } else if (kUrlDecode[in[i]] == kInvalid) {
      return false;
    }
  }
  return true;
}

using FindDotsFn = bool (*)(const uint8_t*, size_t, size_t*, size_t*);

FindDotsFn FindDotsFor(base64_internal::Impl impl) {
  switch (impl) {
#if defined(__x86_64__)
    case base64_internal::Impl::kAvx2:
      return FindDotsAvx2;
    case base64_internal::Impl::kAvx512Vbmi:
      return FindDotsAvx512;
#else
    case base64_internal::Impl::kAvx2:
    case base64_internal::Impl::kAvx512Vbmi:
      break;
#endif
    case base64_internal::Impl::kScalar:
      break;
  }
  return FindDotsScalar;
}

using BlockDecoder = size_t (*)(const uint8_t*, size_t, uint8_t*, bool*);

size_t NoBlocks(const uint8_t*, size_t, uint8_t*, bool* ok) {
  *ok = true;
  return 0;
}

BlockDecoder BlockDecoderFor(base64_internal::Impl impl) {
  switch (impl) {
#if defined(__x86_64__)
    case base64_internal::Impl::kAvx2:
      return DecodeBlocksAvx2;
    case base64_internal::Impl::kAvx512Vbmi:
      return DecodeBlocksAvx512;
#else
    case base64_internal::Impl::kAvx2:
    case base64_internal::Impl::kAvx512Vbmi:
      break;
#endif
    case base64_internal::Impl::kScalar:
      break;
  }
  return NoBlocks;
}

base64_internal::Impl BestImpl() {
  using base64_internal::Impl;
#if defined(__x86_64__)
  __builtin_cpu_init();  // may run before libgcc's own initializer
#endif
  for (Impl impl : {Impl::kAvx512Vbmi, Impl::kAvx2}) {
    if (base64_internal::Supported(impl)) return impl;
  }
  return Impl::kScalar;
}

// Chosen once, on first use: the CPU does not change under a running process.
base64_internal::Impl BestImplCached() {
  static const base64_internal::Impl best = BestImpl();
  return best;
}

// The vector code takes whole blocks (quanta for AVX-512), the scalar code
// the rest, final partial quantum included.
inline bool DecodeUrl(BlockDecoder blocks, std::string_view in, uint8_t* out, size_t* out_len) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  bool ok = true;
  const size_t in_done = in.size() >= 8 ? blocks(p, in.size(), out, &ok) : 0;
  if (!ok) return false;
  const size_t out_done = in_done / 4 * 3;
  size_t tail_len = 0;
  if (!DecodeWith(kUrlDecode, p + in_done, in.size() - in_done, out + out_done, &tail_len)) {
    return false;
  }
  *out_len = out_done + tail_len;
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

bool Base64UrlDecodeTo(std::string_view in, uint8_t* out, size_t* out_len) {
  static const BlockDecoder best = BlockDecoderFor(BestImplCached());
  return DecodeUrl(best, in, out, out_len);
}

bool Base64UrlFindDots(std::string_view in, size_t positions[2], size_t* count) {
  static const FindDotsFn best = FindDotsFor(BestImplCached());
  *count = 0;
  return best(reinterpret_cast<const uint8_t*>(in.data()), in.size(), positions, count);
}

bool Base64UrlDecode(std::string_view in, std::string& out) {
  out.resize(Base64UrlDecodedSize(in.size()));
  size_t n = 0;
  if (!Base64UrlDecodeTo(in, reinterpret_cast<uint8_t*>(out.data()), &n)) return false;
  out.resize(n);
  return true;
}

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.resize((in.size() / 3) * 4 + (in.size() % 3 == 0 ? 0 : in.size() % 3 + 1));
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0, o = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out[o++] = kUrlAlphabet[(v >> 18) & 63];
    out[o++] = kUrlAlphabet[(v >> 12) & 63];
    out[o++] = kUrlAlphabet[(v >> 6) & 63];
    out[o++] = kUrlAlphabet[v & 63];
  }
  const size_t rem = in.size() - i;
  if (rem == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out[o++] = kUrlAlphabet[(v >> 18) & 63];
    out[o++] = kUrlAlphabet[(v >> 12) & 63];
  } else if (rem == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out[o++] = kUrlAlphabet[(v >> 18) & 63];
    out[o++] = kUrlAlphabet[(v >> 12) & 63];
    out[o++] = kUrlAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Base64DecodeLenient(std::string_view in, std::string& out) {
  // Surrounding whitespace (a final newline, typically) is not part of the key.
  while (!in.empty() && IsSpace(in.front())) in.remove_prefix(1);
  while (!in.empty() && IsSpace(in.back())) in.remove_suffix(1);
  // Padding: optional, but when present it completes the last quantum exactly.
  size_t pad = 0;
  while (pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    if (pad > 2 || in.size() % 4 != 0) return false;
    in.remove_suffix(pad);
    if (in.size() % 4 != (pad == 2 ? 2u : 3u)) return false;
  }
  // One alphabet for the whole text.
  bool has_std = false, has_url = false;
  for (char c : in) {
    has_std |= (c == '+' || c == '/');
    has_url |= (c == '-' || c == '_');
  }
  if (has_std && has_url) return false;
  const auto& table = has_std ? kStdDecode : kUrlDecode;
  out.resize(Base64UrlDecodedSize(in.size()));
  size_t n = 0;
  if (!DecodeWith(table, reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                  reinterpret_cast<uint8_t*>(out.data()), &n)) {
    return false;
  }
  out.resize(n);
  return true;
}

namespace base64_internal {

bool Supported(Impl impl) {
  switch (impl) {
    case Impl::kScalar:
      return true;
#if defined(__x86_64__)
    case Impl::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Impl::kAvx512Vbmi:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vbmi");
#else
    case Impl::kAvx2:
    case Impl::kAvx512Vbmi:
      return false;
#endif
  }
  return false;
}

Impl Best() { return BestImplCached(); }

bool DecodeUrlWith(Impl impl, std::string_view in, uint8_t* out, size_t* out_len) {
  return DecodeUrl(BlockDecoderFor(impl), in, out, out_len);
}

bool FindDotsWith(Impl impl, std::string_view in, size_t positions[2], size_t* count) {
  *count = 0;
  return FindDotsFor(impl)(reinterpret_cast<const uint8_t*>(in.data()), in.size(), positions,
                           count);
}

}  // namespace base64_internal
}  // namespace tokend::auth

#include "daemon/auth/base64url.h"

#include <array>

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

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

bool Base64UrlDecodeTo(std::string_view in, uint8_t* out, size_t* out_len) {
  return DecodeWith(kUrlDecode, reinterpret_cast<const uint8_t*>(in.data()), in.size(), out,
                    out_len);
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

}  // namespace tokend::auth

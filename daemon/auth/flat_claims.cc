// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/flat_claims.h"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tokend::auth {
namespace {

// One scan over [p, end). Every helper returns false to decline; none ever
// reads a byte at or past `end` as part of the document.
class Scanner {
 public:
  Scanner(const char* begin, const char* end) : p_(begin), end_(end) {}

  bool AtEnd() const { return p_ == end_; }

  void SkipSpace() {
    // Tokens rarely hold whitespace: one compare settles the usual case.
    if (p_ != end_ && static_cast<uint8_t>(*p_) > ' ') return;
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // Consumes `c` (after optional whitespace).
  bool Take(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // The next significant byte, not consumed; 0 at the end.
  char Peek() {
    SkipSpace();
    return p_ == end_ ? '\0' : *p_;
  }

  // A string whose opening quote is next: its contents, which must be bytes
  // 0x20..0x7f other than '"' and '\\' (so no escape to undo and nothing for
  // UTF-8 validation to refuse).
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const char* const start = p_;
    const char* q = p_;
    for (;;) {
      const int stop = FirstSpecial(q);
      if (stop < 0) {
        q += kChunk;
        if (q >= end_) return false;
        continue;
      }
      q += stop;
      if (q >= end_ || *q != '"') return false;
      *out = std::string_view(start, static_cast<size_t>(q - start));
      p_ = q + 1;
      return true;
    }
  }

  // The commonest member start, `"xyz":` with no whitespace (every
  // registered claim name has three bytes), taken without the string scan:
  // the name in *name. False, consuming nothing, for anything else.
  bool ShortName(std::string_view* name) {
    if (end_ - p_ < 6 || p_[0] != '"' || p_[4] != '"' || p_[5] != ':') return false;
    for (int i = 1; i <= 3; ++i) {
      const auto b = static_cast<uint8_t>(p_[i]);
      if (b < 0x20 || b > 0x7f || b == '"' || b == '\\') return false;
    }
    *name = std::string_view(p_ + 1, 3);
    p_ += 6;
    return true;
  }

  // A JSON integer of at most 18 digits (so it fits int64 whatever its
  // digits), without fraction or exponent. Anything else declines, even
  // when valid JSON: the DOM path types and range-checks it.
  bool Integer(int64_t* out) {
    SkipSpace();
    const bool negative = p_ != end_ && *p_ == '-';
    const char* q = p_ + (negative ? 1 : 0);
    const char* const digits = q;
    uint64_t value = 0;
    // NumericDates have ten digits: take eight at once when they are there.
    if (std::endian::native == std::endian::little && end_ - q >= 8) {
      uint64_t eight;
      std::memcpy(&eight, q, 8);
      if (AllDigits(eight)) {
        value = EightDigits(eight);
        q += 8;
      }
    }
    while (q != end_ && *q >= '0' && *q <= '9') {
      value = value * 10 + static_cast<uint64_t>(*q - '0');
      ++q;
    }
    const auto n = q - digits;
    if (n == 0 || n > 18 || (*digits == '0' && n > 1)) return false;
    // A fraction or exponent makes it a double; let the DOM path round it.
    if (q != end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    *out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    p_ = q;
    return true;
  }

  // true, false or null. The byte after it is checked by the caller, which
  // needs ',', '}', ']' or whitespace there.
  bool Literal() {
    SkipSpace();
    for (std::string_view word :
         {std::string_view("true"), std::string_view("false"), std::string_view("null")}) {
      if (static_cast<size_t>(end_ - p_) >= word.size() &&
          std::memcmp(p_, word.data(), word.size()) == 0) {
        p_ += word.size();
        return true;
      }
    }
    return false;
  }

  // Any scalar: string, integer or literal; its string contents in *text
  // when it is a string.
  bool Scalar(std::string_view* text, bool* is_string) {
    const char c = Peek();
    *is_string = c == '"';
    if (c == '"') return String(text);
    int64_t ignored = 0;
    if (c == '-' || (c >= '0' && c <= '9')) return Integer(&ignored);
    return Literal();
  }

 private:
  static constexpr int kChunk = 16;

  // Eight ASCII digits in a little-endian word, first digit lowest (the
  // SWAR tests and conversion simdjson and fast_float use).
  static bool AllDigits(uint64_t v) {
    return (((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) ==
            0x3333333333333333);
  }
  static uint64_t EightDigits(uint64_t v) {
    v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;
    v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16;
    return (v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32;
  }

  // Index of the first byte in q[0, 16) that is '"', '\\', below 0x20 or
  // above 0x7f, or -1. May look past end_ (padding is readable); the caller
  // ignores what it finds there.
  static int FirstSpecial(const char* q) {
#if defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    // Signed compare: bytes 0x80..0xff are negative, so one compare catches
    // control characters and every non-ASCII byte.
    const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, backslash)));
    return mask == 0 ? -1 : __builtin_ctz(static_cast<unsigned>(mask));
#else
    for (int i = 0; i < kChunk; ++i) {
      const auto b = static_cast<uint8_t>(q[i]);
      if (b < 0x20 || b > 0x7f || b == '"' || b == '\\') return i;
    }
    return -1;
#endif
  }

  const char* p_;
  const char* const end_;
};

// The value of `aud`: a string, or an array of strings (possibly empty).
bool Audiences(Scanner& s, std::vector<std::string_view>& audiences) {
  std::string_view text;
  if (s.Peek() == '"') {
    if (!s.String(&text)) return false;
    audiences.push_back(text);
    return true;
  }
  if (!s.Take('[')) return false;
  if (s.Peek() == ']') return s.Take(']');
  do {
    if (s.Peek() != '"' || !s.String(&text)) return false;
    audiences.push_back(text);
  } while (s.Take(','));
  return s.Take(']');
}

// The value of a member tokend does not read: a scalar, or an array of
// scalars. Nested objects and arrays decline (their members would need the
// duplicate check the DOM path does).
bool OtherValue(Scanner& s) {
  std::string_view text;
  bool is_string = false;
  if (s.Peek() != '[') return s.Scalar(&text, &is_string);
  s.Take('[');
  if (s.Peek() == ']') return s.Take(']');
  do {
    const char c = s.Peek();
    if (c == '[' || c == '{' || !s.Scalar(&text, &is_string)) return false;
  } while (s.Take(','));
  return s.Take(']');
}

}  // namespace

FlatScan ScanFlatClaims(std::string_view json, DuplicateMemberChecker& dups,
                        std::vector<std::string_view>& audiences, ClaimsView* out) {
  Scanner s(json.data(), json.data() + json.size());
  if (!s.Take('{')) return FlatScan::kDeclined;
  const size_t mark = dups.BeginObject();
  uint32_t seen = 0;
  if (s.Peek() == '}') {
    s.Take('}');
  } else {
    do {
      std::string_view name;
      if (!s.ShortName(&name) && !(s.String(&name) && s.Take(':'))) return FlatScan::kDeclined;
      const uint32_t bit = RegisteredClaim(name);
      bool ok = true;
      switch (bit) {
        case kClaimExp:
          ok = s.Integer(&out->exp);
          break;
        case kClaimNbf:
          ok = s.Integer(&out->nbf);
          break;
        case kClaimIat:
          ok = s.Integer(&out->iat);
          break;
        case kClaimIss:
          ok = s.Peek() == '"' && s.String(&out->iss);
          break;
        case kClaimSub:
          ok = s.Peek() == '"' && s.String(&out->sub);
          break;
        case kClaimJti:
          ok = s.Peek() == '"' && s.String(&out->jti);
          break;
        case kClaimAud:
          ok = Audiences(s, audiences);
          break;
        default:
          ok = dups.AddName(mark, name) && OtherValue(s);
          break;
      }
      // A duplicate registered claim shows as its bit already set.
      if (!ok || (seen & bit) != 0) return FlatScan::kDeclined;
      seen |= bit;
    } while (s.Take(','));
    if (!s.Take('}')) return FlatScan::kDeclined;
  }
  s.SkipSpace();
  if (!s.AtEnd() || !dups.EndObject(mark)) return FlatScan::kDeclined;
  out->present = seen;
  out->aud = std::span<const std::string_view>(audiences.data(), audiences.size());
  return FlatScan::kScanned;
}

}  // namespace tokend::auth

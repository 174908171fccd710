// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/base64url.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tokend::auth {
namespace {

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Decode(std::string_view in, bool* ok) {
  std::string out;
  *ok = Base64UrlDecode(in, out);
  return out;
}

TEST(Base64UrlTest, Rfc4648Vectors) {
  // RFC 4648 §10, unpadded, and the same in the URL alphabet.
  const std::pair<std::string_view, std::string_view> kVectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(plain), enc);
    bool ok = false;
    EXPECT_EQ(Decode(enc, &ok), plain);
    EXPECT_TRUE(ok) << enc;
  }
}

TEST(Base64UrlTest, UsesUrlAlphabet) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  bool ok = false;
  EXPECT_EQ(Decode("-_-_", &ok), bytes);
  EXPECT_TRUE(ok);
  Decode("+/+/", &ok);
  EXPECT_FALSE(ok);
}

TEST(Base64UrlTest, RejectsPadding) {
  bool ok = true;
  Decode("Zg==", &ok);
  EXPECT_FALSE(ok);
  Decode("Zm8=", &ok);
  EXPECT_FALSE(ok);
  Decode("Zg=", &ok);
  EXPECT_FALSE(ok);
}

TEST(Base64UrlTest, RejectsLengthOneModFour) {
  bool ok = true;
  for (std::string_view s : {"A", "Zm9vA", "Zm9vYmFyA"}) {
    Decode(s, &ok);
    EXPECT_FALSE(ok) << s;
  }
}

TEST(Base64UrlTest, RejectsEveryCharacterOutsideAlphabetAtEveryPosition) {
  for (int c = 0; c < 256; ++c) {
    if (kUrlAlphabet.find(static_cast<char>(c)) != std::string_view::npos) continue;
    // Positions across a two-quantum step, a single quantum and the tail.
    for (size_t len : {2u, 3u, 4u, 8u, 11u, 12u, 14u}) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string s(len, 'A');
        s[pos] = static_cast<char>(c);
        bool ok = true;
        Decode(s, &ok);
        EXPECT_FALSE(ok) << "char " << c << " len " << len << " pos " << pos;
      }
    }
  }
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  bool ok = true;
  Decode("Zh", &ok);  // 'h' = 33: low 4 bits set
  EXPECT_FALSE(ok);
  Decode("Zm9", &ok);  // '9' = 61: low 2 bits set
  EXPECT_FALSE(ok);
  Decode("Zm8", &ok);
  EXPECT_TRUE(ok);
}

TEST(Base64UrlTest, RoundTripRandomBytes) {
  std::mt19937 rng(12345);
  std::vector<uint8_t> buf;
  for (int iter = 0; iter < 2000; ++iter) {
    const size_t len = rng() % 300;
    std::string bytes(len, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    const std::string enc = Base64UrlEncode(bytes);
    ASSERT_EQ(enc.find_first_not_of(kUrlAlphabet), std::string::npos);
    ASSERT_EQ(enc.find('='), std::string::npos);
    bool ok = false;
    ASSERT_EQ(Decode(enc, &ok), bytes);
    ASSERT_TRUE(ok);
    // The no-allocation variant writes exactly Base64UrlDecodedSize bytes.
    buf.assign(Base64UrlDecodedSize(enc.size()) + 1, 0xAA);
    size_t n = 0;
    ASSERT_TRUE(Base64UrlDecodeTo(enc, buf.data(), &n));
    ASSERT_EQ(n, len);
    ASSERT_EQ(n, Base64UrlDecodedSize(enc.size()));
    ASSERT_EQ(std::string(reinterpret_cast<char*>(buf.data()), n), bytes);
    ASSERT_EQ(buf[n], 0xAA);
  }
}

// Every other spelling of the same bytes is rejected: changing any one
// character of a canonical encoding to any other alphabet character either
// decodes to different bytes or fails; and appending padding fails.
TEST(Base64UrlTest, EveryNonCanonicalVariantRejected) {
  std::mt19937 rng(777);
  for (int iter = 0; iter < 200; ++iter) {
    const size_t len = 1 + rng() % 20;
    std::string bytes(len, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    const std::string enc = Base64UrlEncode(bytes);
    for (size_t pos = 0; pos < enc.size(); ++pos) {
      for (char c : kUrlAlphabet) {
        if (c == enc[pos]) continue;
        std::string variant = enc;
        variant[pos] = c;
        bool ok = false;
        const std::string dec = Decode(variant, &ok);
        if (ok) {
          ASSERT_NE(dec, bytes) << variant;
          ASSERT_EQ(Base64UrlEncode(dec), variant);  // it is canonical for other bytes
        }
      }
    }
    bool ok = true;
    Decode(enc + "=", &ok);
    EXPECT_FALSE(ok);
    Decode(enc + "==", &ok);
    EXPECT_FALSE(ok);
    Decode(enc + "A", &ok);
    if (ok) {
      EXPECT_NE(enc.size() % 4, 0u);
    }
  }
}

// Exhaustive over all 2- and 3-character strings: accepted exactly when the
// string is the encoding of what it decodes to.
TEST(Base64UrlTest, ExhaustiveShortStringsAcceptedIffCanonical) {
  for (char a : kUrlAlphabet) {
    for (char b : kUrlAlphabet) {
      std::string s2{a, b};
      bool ok = false;
      std::string d = Decode(s2, &ok);
      const std::string byte(
          1, static_cast<char>((kUrlAlphabet.find(a) << 2) | (kUrlAlphabet.find(b) >> 4)));
      EXPECT_EQ(ok, Base64UrlEncode(byte) == s2) << s2;
      if (ok) {
        EXPECT_EQ(d, byte);
      }
      for (char c : kUrlAlphabet) {
        std::string s3{a, b, c};
        d = Decode(s3, &ok);
        const uint32_t v =
            (kUrlAlphabet.find(a) << 12) | (kUrlAlphabet.find(b) << 6) | kUrlAlphabet.find(c);
        const std::string bytes{static_cast<char>(v >> 10), static_cast<char>((v >> 2) & 0xFF)};
        EXPECT_EQ(ok, Base64UrlEncode(bytes) == s3) << s3;
        if (ok) {
          EXPECT_EQ(d, bytes);
        }
      }
    }
  }
}

// A plain reference decoder, bit by bit, for the vector implementations.
bool ReferenceDecode(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const size_t v = kUrlAlphabet.find(c);
    if (v == std::string_view::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;  // leftover bits must be zero
}

using base64_internal::Impl;

std::vector<Impl> SupportedImpls() {
  std::vector<Impl> impls;
  for (Impl impl : {Impl::kScalar, Impl::kAvx2, Impl::kAvx512Vbmi}) {
    if (base64_internal::Supported(impl)) impls.push_back(impl);
  }
  return impls;
}

bool DecodeWithImpl(Impl impl, std::string_view in, std::string* out) {
  // Exactly Base64UrlDecodedSize bytes, so ASan sees any overrun.
  auto buf = std::make_unique<uint8_t[]>(Base64UrlDecodedSize(in.size()) + 1);
  size_t n = 0;
  if (!base64_internal::DecodeUrlWith(impl, in, buf.get() + 1, &n)) return false;
  out->assign(reinterpret_cast<char*>(buf.get() + 1), n);
  return true;
}

TEST(Base64UrlTest, BestImplIsSupported) {
  EXPECT_TRUE(base64_internal::Supported(base64_internal::Best()));
  EXPECT_TRUE(base64_internal::Supported(Impl::kScalar));
}

// Every implementation agrees with the reference on random strings over the
// alphabet, with and without one foreign byte at a random place, at every
// length across the vector block sizes.
TEST(Base64UrlTest, EveryImplementationMatchesReference) {
  std::mt19937 rng(4242);
  for (Impl impl : SupportedImpls()) {
    for (size_t len = 0; len <= 200; ++len) {
      for (int iter = 0; iter < 20; ++iter) {
        std::string s(len, 'A');
        for (auto& c : s) c = kUrlAlphabet[rng() % 64];
        if (iter % 2 == 1 && len > 0) s[rng() % len] = static_cast<char>(rng() % 256);
        std::string want, got;
        const bool want_ok = ReferenceDecode(s, &want);
        const bool got_ok = DecodeWithImpl(impl, s, &got);
        ASSERT_EQ(got_ok, want_ok) << "impl " << static_cast<int>(impl) << " input " << s;
        if (want_ok) {
          ASSERT_EQ(got, want) << "impl " << static_cast<int>(impl) << " input " << s;
        }
      }
    }
  }
}

// Every byte value at every position of a 64- and a 100-character string, so
// each lane of each vector step sees each foreign byte.
TEST(Base64UrlTest, EveryImplementationRejectsEveryForeignByteInEveryLane) {
  for (Impl impl : SupportedImpls()) {
    for (size_t len : {32u, 64u, 100u}) {
      std::string base(len, 'A');
      for (size_t i = 0; i < len; ++i) base[i] = kUrlAlphabet[(i * 7) % 64];
      for (size_t pos = 0; pos < len; ++pos) {
        for (int c = 0; c < 256; ++c) {
          std::string s = base;
          s[pos] = static_cast<char>(c);
          std::string want, got;
          const bool want_ok = ReferenceDecode(s, &want);
          const bool got_ok = DecodeWithImpl(impl, s, &got);
          ASSERT_EQ(got_ok, want_ok) << "impl " << static_cast<int>(impl) << " char " << c
                                     << " pos " << pos << " len " << len;
          if (want_ok) {
            ASSERT_EQ(got, want);
          }
        }
      }
    }
  }
}

struct Dots {
  bool ok = false;
  size_t count = 0;
  std::vector<size_t> first;  // up to two positions
  bool operator==(const Dots&) const = default;
};

Dots ReferenceFindDots(std::string_view in) {
  Dots d;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '.') {
      if (d.first.size() < 2) d.first.push_back(i);
      ++d.count;
    } else if (kUrlAlphabet.find(in[i]) == std::string_view::npos) {
      return Dots{};
    }
  }
  d.ok = true;
  return d;
}

Dots FindDotsWithImpl(Impl impl, std::string_view in) {
  size_t positions[2] = {999, 999};
  Dots d;
  d.ok = base64_internal::FindDotsWith(impl, in, positions, &d.count);
  if (!d.ok) return Dots{};
  d.first.assign(positions, positions + std::min<size_t>(d.count, 2));
  return d;
}

// Random strings over the alphabet with a few dots, and every foreign byte
// at spread positions, at every length across the vector block sizes.
TEST(Base64UrlTest, FindDotsMatchesReferenceInEveryImplementation) {
  std::mt19937 rng(99);
  for (Impl impl : SupportedImpls()) {
    for (size_t len = 0; len <= 150; ++len) {
      for (int dots = 0; dots <= 4; ++dots) {
        std::string s(len, 'A');
        for (auto& c : s) c = kUrlAlphabet[rng() % 64];
        for (int k = 0; k < dots && len > 0; ++k) s[rng() % len] = '.';
        ASSERT_EQ(FindDotsWithImpl(impl, s), ReferenceFindDots(s))
            << "impl " << static_cast<int>(impl) << " input " << s;
        for (size_t pos = 0; pos < len; pos += 1 + len / 8) {
          for (int c = 0; c < 256; ++c) {
            if (c == '.' || kUrlAlphabet.find(static_cast<char>(c)) != std::string_view::npos) {
              continue;
            }
            std::string t = s;
            t[pos] = static_cast<char>(c);
            ASSERT_FALSE(FindDotsWithImpl(impl, t).ok)
                << "impl " << static_cast<int>(impl) << " char " << c << " pos " << pos;
          }
        }
      }
    }
  }
}

TEST(Base64UrlTest, FindDotsReportsFirstTwoAndCountsTheRest) {
  size_t pos[2] = {0, 0};
  size_t count = 0;
  ASSERT_TRUE(Base64UrlFindDots("ab.cd.ef", pos, &count));
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(pos[0], 2u);
  EXPECT_EQ(pos[1], 5u);
  ASSERT_TRUE(Base64UrlFindDots("....", pos, &count));
  EXPECT_EQ(count, 4u);
  EXPECT_EQ(pos[0], 0u);
  EXPECT_EQ(pos[1], 1u);
  ASSERT_TRUE(Base64UrlFindDots("", pos, &count));
  EXPECT_EQ(count, 0u);
  const std::string long_token = std::string(100, 'a') + "." + std::string(100, 'b') + "." +
                                 std::string(100, 'c') + "." + std::string(70, 'd') + ".";
  ASSERT_TRUE(Base64UrlFindDots(long_token, pos, &count));
  EXPECT_EQ(count, 4u);
  EXPECT_EQ(pos[0], 100u);
  EXPECT_EQ(pos[1], 201u);
  EXPECT_FALSE(Base64UrlFindDots("ab.c=", pos, &count));
  EXPECT_FALSE(Base64UrlFindDots("ab c", pos, &count));
}

TEST(Base64UrlTest, DecodedSize) {
  EXPECT_EQ(Base64UrlDecodedSize(0), 0u);
  EXPECT_EQ(Base64UrlDecodedSize(2), 1u);
  EXPECT_EQ(Base64UrlDecodedSize(3), 2u);
  EXPECT_EQ(Base64UrlDecodedSize(4), 3u);
  EXPECT_EQ(Base64UrlDecodedSize(43), 32u);
  EXPECT_EQ(Base64UrlDecodedSize(86), 64u);
}

std::string Lenient(std::string_view in, bool* ok) {
  std::string out;
  *ok = Base64DecodeLenient(in, out);
  return out;
}

TEST(Base64LenientTest, AcceptsBothAlphabetsPaddedOrNot) {
  const std::string bytes("\xfb\xff\xbf\x01", 4);
  bool ok = false;
  for (std::string_view s :
       {"+/+/AQ==", "+/+/AQ", "-_-_AQ==", "-_-_AQ", "+/+/AQ==\n", "  -_-_AQ\r\n"}) {
    EXPECT_EQ(Lenient(s, &ok), bytes) << s;
    EXPECT_TRUE(ok) << s;
  }
  EXPECT_EQ(Lenient("Zm9vYg==", &ok), "foob");
  EXPECT_TRUE(ok);
  EXPECT_EQ(Lenient("Zm9vYmE=", &ok), "fooba");
  EXPECT_TRUE(ok);
  EXPECT_EQ(Lenient("Zm9vYmFy", &ok), "foobar");
  EXPECT_TRUE(ok);
  EXPECT_EQ(Lenient("", &ok), "");
  EXPECT_TRUE(ok);
}

TEST(Base64LenientTest, Rejects) {
  bool ok = true;
  for (std::string_view s : {
           "+/-_",        // mixed alphabets
           "Zm9v YmFy",   // whitespace inside
           "Zm9v\nYmFy",  // newline inside
           "Zm9vYg=",     // short padding
           "Zm9vYmE==",   // too much padding
           "Zm9vYmFy====",
           "Zg===",
           "=",
           "==",
           "Zm9vYmFy=",  // padding after a full quantum
           "Zm=9",       // padding in the middle
           "Zm9vY",      // length 1 mod 4
           "Zh==",       // non-zero trailing bits
           "Zm9vYg!=",
       }) {
    Lenient(s, &ok);
    EXPECT_FALSE(ok) << s;
  }
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// TokenTagger against independent oracles: a bit-serial POLYVAL written
// from RFC 8452 §3 (itself checked against the RFC's Appendix A example)
// and OpenSSL's AES-128, for every implementation this CPU supports and
// every length class (empty, partial block, whole blocks, chunk edges,
// several chunks).
#include "daemon/auth/token_tag.h"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::auth {
namespace {

using Block = std::array<uint8_t, 16>;

// GF(2^128) elements in POLYVAL's order: bit i of byte j is the
// coefficient of x^(8j + i).
struct Gf {
  uint64_t lo = 0, hi = 0;
  static Gf From(const Block& b) {
    Gf g;
    std::memcpy(&g.lo, b.data(), 8);
    std::memcpy(&g.hi, b.data() + 8, 8);
    return g;
  }
  Block ToBlock() const {
    Block b;
    std::memcpy(b.data(), &lo, 8);
    std::memcpy(b.data() + 8, &hi, 8);
    return b;
  }
  bool Bit(int i) const { return ((i < 64 ? lo >> i : hi >> (i - 64)) & 1) != 0; }
};

// x^128 = x^127 + x^126 + x^121 + 1 (mod the field polynomial).
constexpr uint64_t kLowTermsLo = 1;
constexpr uint64_t kLowTermsHi = (uint64_t{1} << 63) | (uint64_t{1} << 62) | (uint64_t{1} << 57);

Gf TimesX(Gf a) {
  const bool carry = a.Bit(127);
  a.hi = (a.hi << 1) | (a.lo >> 63);
  a.lo <<= 1;
  if (carry) {
    a.lo ^= kLowTermsLo;
    a.hi ^= kLowTermsHi;
  }
  return a;
}

Gf DivX(Gf a) {
  // a / x: when the constant term is set, add the field polynomial first
  // (its x^128 term becomes bit 127 after the shift).
  const bool odd = a.Bit(0);
  if (odd) {
    a.lo ^= kLowTermsLo;
    a.hi ^= kLowTermsHi;
  }
  a.lo = (a.lo >> 1) | (a.hi << 63);
  a.hi >>= 1;
  if (odd) a.hi |= uint64_t{1} << 63;
  return a;
}

// dot(a, b) = a * b * x^-128, bit by bit.
Gf Dot(Gf a, Gf b) {
  Gf r;
  for (int i = 127; i >= 0; --i) {
    r = TimesX(r);
    if (b.Bit(i)) {
      r.lo ^= a.lo;
      r.hi ^= a.hi;
    }
  }
  for (int i = 0; i < 128; ++i) r = DivX(r);
  return r;
}

Gf Polyval(const Gf& h, const std::vector<Block>& blocks) {
  Gf s;
  for (const Block& x : blocks) {
    Gf g = Gf::From(x);
    s.lo ^= g.lo;
    s.hi ^= g.hi;
    s = Dot(s, h);
  }
  return s;
}

Block FromHex(const char* hex) {
  Block b{};
  for (size_t i = 0; i < 16; ++i) {
    b[i] = static_cast<uint8_t>(std::stoi(std::string(hex + 2 * i, 2), nullptr, 16));
  }
  return b;
}

TEST(TokenTagOracle, BitSerialPolyvalMatchesRfc8452AppendixA) {
  const Gf h = Gf::From(FromHex("25629347589242761d31f826ba4b757b"));
  const Block got = Polyval(h, {FromHex("4f4f95668c83dfb6401762bb2d01a262"),
                                FromHex("d1a24ddd2721d006bbe45f20d3c9f362")})
                        .ToBlock();
  EXPECT_EQ(got, FromHex("f7a3b47b846119fae5b7866cf5e5b77e"));
}

Block Aes128(const uint8_t* key, const Block& in) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Block out{};
  int len = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key, nullptr), 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), 16), 1);
  EXPECT_EQ(len, 16);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

// tag(m) = AES-128_K(POLYVAL_H(m || 0^pad || L)), as token_tag.h defines it.
Block OracleTag(const std::array<uint8_t, 32>& key, const std::string& m) {
  std::vector<Block> blocks;
  for (size_t off = 0; off < m.size(); off += 16) {
    Block b{};
    std::memcpy(b.data(), m.data() + off, std::min<size_t>(16, m.size() - off));
    blocks.push_back(b);
  }
  Block length{};
  const uint64_t bits = static_cast<uint64_t>(m.size()) * 8;
  std::memcpy(length.data(), &bits, 8);
  blocks.push_back(length);
  Block h;
  std::memcpy(h.data(), key.data(), 16);
  return Aes128(key.data() + 16, Polyval(Gf::From(h), blocks).ToBlock());
}

Block AsBlock(const std::array<uint64_t, 2>& tag) {
  Block b;
  std::memcpy(b.data(), tag.data(), 16);
  return b;
}

std::vector<TokenTagger::Impl> PolyvalImpls() {
  std::vector<TokenTagger::Impl> impls;
  for (auto impl : {TokenTagger::Impl::kVpclmul, TokenTagger::Impl::kPclmul}) {
    if (TokenTagger::Supported(impl)) impls.push_back(impl);
  }
  return impls;
}

std::vector<size_t> Lengths() {
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 80; ++n) sizes.push_back(n);
  const size_t chunk = TokenTagger::kChunkBlocks * 16;
  for (size_t base : {chunk, 2 * chunk, 3 * chunk}) {
    for (size_t d : {base - 17, base - 16, base - 15, base - 1, base, base + 1, base + 15,
                     base + 16, base + 17, base + 63, base + 64, base + 65}) {
      sizes.push_back(d);
    }
  }
  sizes.push_back(200);   // an HS256 token
  sizes.push_back(620);   // an RS256 token
  sizes.push_back(8191);  // past several chunks
  return sizes;
}

TEST(TokenTagger, MatchesTheOracleForEveryLengthClass) {
  const std::vector<TokenTagger::Impl> impls = PolyvalImpls();
  if (impls.empty()) GTEST_SKIP() << "no PCLMULQDQ + AES-NI on this CPU: the HighwayHash tagger";
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 3; ++round) {
    std::array<uint8_t, 32> key;
    for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
    for (TokenTagger::Impl impl : impls) {
      TokenTagger tagger(key, impl);
      for (size_t n : Lengths()) {
        std::string m(n, '\0');
        for (char& c : m) c = static_cast<char>(rng());
        EXPECT_EQ(AsBlock(tagger.Tag(m)), OracleTag(key, m))
            << TokenTagger::Name(impl) << ", " << n << " bytes";
      }
    }
  }
}

// A token of one chunk and one that ends in a zero byte: the length block
// keeps m and m || 0 apart, and a read past the end would be caught by the
// tag of a token placed at the end of a page in the ASan build.
TEST(TokenTagger, LengthAndEveryByteCount) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  for (TokenTagger::Impl impl :
       {TokenTagger::Impl::kVpclmul, TokenTagger::Impl::kPclmul, TokenTagger::Impl::kHighway}) {
    if (!TokenTagger::Supported(impl)) continue;
    TokenTagger tagger(key, impl);
    const std::string m = "eyJhbGciOiJIUzI1NiJ9.e30.sig";
    EXPECT_NE(tagger.Tag(m), tagger.Tag(m + std::string(1, '\0'))) << TokenTagger::Name(impl);
    EXPECT_NE(tagger.Tag(""), tagger.Tag(std::string(1, '\0'))) << TokenTagger::Name(impl);
    for (size_t i = 0; i < m.size(); ++i) {
      std::string changed = m;
      changed[i] ^= 1;
      EXPECT_NE(tagger.Tag(m), tagger.Tag(changed)) << TokenTagger::Name(impl) << " byte " << i;
    }
    // The same bytes at another address give the same tag.
    std::vector<char> heap(m.begin(), m.end());
    EXPECT_EQ(tagger.Tag(m), tagger.Tag(std::string_view(heap.data(), heap.size())));
  }
}

TEST(TokenTagger, KeysAreIndependent) {
  std::array<uint8_t, 32> a{}, b{};
  a[0] = 1;
  b[0] = 1;
  b[31] = 1;  // only the AES key differs
  TokenTagger ta(a), tb(b);
  EXPECT_NE(ta.Tag("a.b.c"), tb.Tag("a.b.c"));
  b[31] = 0;
  b[1] = 1;  // only H differs
  TokenTagger tc(b);
  EXPECT_NE(ta.Tag("a.b.c"), tc.Tag("a.b.c"));
}

TEST(TokenTagger, BestIsSupported) {
  EXPECT_TRUE(TokenTagger::Supported(TokenTagger::Best()));
  EXPECT_TRUE(TokenTagger::Supported(TokenTagger::Impl::kHighway));
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// Tests for HmacKey / HmacComputer: every Wycheproof HMAC-SHA2 vector, and
// agreement with OpenSSL's one-shot HMAC() for random keys and messages,
// including keys longer than the digest's block.
#include "daemon/auth/hmac.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "simdjson.h"

namespace tokend::auth {
namespace {

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  EXPECT_EQ(hex.size() % 2, 0u) << hex;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    EXPECT_GE(hi, 0);
    EXPECT_GE(lo, 0);
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::string_view AsText(const std::vector<uint8_t>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

const EVP_MD* Md(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return EVP_sha256();
    case Alg::kHS384:
      return EVP_sha384();
    case Alg::kHS512:
      return EVP_sha512();
    default:
      break;
  }
  return nullptr;
}

std::vector<uint8_t> OneShot(Alg alg, const std::vector<uint8_t>& key, std::string_view msg) {
  std::vector<uint8_t> mac(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  static const uint8_t kEmpty = 0;
  EXPECT_NE(HMAC(Md(alg), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), mac.data(), &len),
            nullptr);
  mac.resize(len);
  return mac;
}

std::unique_ptr<HmacKey> MakeKey(Alg alg, const std::vector<uint8_t>& secret) {
  auto key = HmacKey::Create(alg, secret);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *std::move(key) : nullptr;
}

struct WycheproofCase {
  const char* file;
  Alg alg;
};

class WycheproofHmacTest : public testing::TestWithParam<WycheproofCase> {};

TEST_P(WycheproofHmacTest, EveryVectorVerifiesExactlyWhenValidAndFullLength) {
  const WycheproofCase& c = GetParam();
  const std::string path = std::string(TOKEND_SOURCE_DIR) + "/tests/testdata/wycheproof/" + c.file;
  simdjson::padded_string json;
  ASSERT_EQ(simdjson::padded_string::load(path).get(json), simdjson::SUCCESS) << path;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);

  const size_t full_bits = AlgHashSize(c.alg) * 8;
  int64_t expected_tests = 0;
  ASSERT_EQ(root["numberOfTests"].get_int64().get(expected_tests), simdjson::SUCCESS);
  int64_t seen = 0, full_valid = 0, truncated = 0, invalid = 0;
  HmacComputer computer;
  for (simdjson::dom::element group : root["testGroups"].get_array()) {
    const auto tag_bits = static_cast<size_t>(group["tagSize"].get_int64().value());
    for (simdjson::dom::element t : group["tests"].get_array()) {
      ++seen;
      const int64_t id = t["tcId"].get_int64().value();
      const std::vector<uint8_t> key = FromHex(t["key"].get_string().value());
      const std::vector<uint8_t> msg = FromHex(t["msg"].get_string().value());
      const std::vector<uint8_t> tag = FromHex(t["tag"].get_string().value());
      const bool valid = t["result"].get_string().value() == "valid";
      SCOPED_TRACE(testing::Message() << c.file << " tcId " << id);

      std::unique_ptr<HmacKey> hk = MakeKey(c.alg, key);
      ASSERT_NE(hk, nullptr);
      ASSERT_EQ(hk->mac_size(), full_bits / 8);
      uint8_t mac[kMaxMacSize];
      ASSERT_TRUE(computer.Compute(*hk, AsText(msg), mac));
      const bool prefix_matches =
          tag.size() <= hk->mac_size() && std::equal(tag.begin(), tag.end(), mac);
      // The computed MAC agrees with the vector whatever the tag size...
      EXPECT_EQ(prefix_matches, valid);

      // ...but only a full-length tag can verify: a JWS verifier refuses
      // truncated MACs.
      const bool verified = computer.Verify(*hk, AsText(msg), tag);
      if (tag_bits == full_bits) {
        EXPECT_EQ(verified, valid);
        if (valid) ++full_valid;
      } else {
        EXPECT_FALSE(verified);
        ++truncated;
      }
      if (!valid) ++invalid;
    }
  }
  EXPECT_EQ(seen, expected_tests);
  EXPECT_GT(full_valid, 30);
  EXPECT_GT(truncated, 50);
  EXPECT_GT(invalid, 10);
}

INSTANTIATE_TEST_SUITE_P(AllSha2, WycheproofHmacTest,
                         testing::Values(WycheproofCase{"hmac_sha256_test.json", Alg::kHS256},
                                         WycheproofCase{"hmac_sha384_test.json", Alg::kHS384},
                                         WycheproofCase{"hmac_sha512_test.json", Alg::kHS512}),
                         [](const testing::TestParamInfo<WycheproofCase>& p) {
                           return std::string(AlgName(p.param.alg));
                         });

std::vector<uint8_t> RandomBytes(size_t n) {
  std::vector<uint8_t> v(n);
  if (n > 0) {
    EXPECT_EQ(RAND_bytes(v.data(), static_cast<int>(n)), 1);
  }
  return v;
}

TEST(HmacTest, ComputeMatchesOneShotHmacForEveryKeyLength) {
  // Around both block sizes (64 for SHA-256, 128 for SHA-384/512), and long.
  const size_t key_lengths[] = {0,   1,   31,  32,  33,  47,  48,  63,   64,  65,
                                100, 127, 128, 129, 200, 255, 256, 1000, 4096};
  const size_t msg_lengths[] = {0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 252, 5000};
  HmacComputer computer;
  for (Alg alg : {Alg::kHS256, Alg::kHS384, Alg::kHS512}) {
    for (size_t kl : key_lengths) {
      const std::vector<uint8_t> secret = RandomBytes(kl);
      std::unique_ptr<HmacKey> key = MakeKey(alg, secret);
      ASSERT_NE(key, nullptr);
      EXPECT_EQ(key->alg(), alg);
      for (size_t ml : msg_lengths) {
        const std::vector<uint8_t> msg = RandomBytes(ml);
        const std::vector<uint8_t> want = OneShot(alg, secret, AsText(msg));
        uint8_t got[kMaxMacSize];
        ASSERT_TRUE(computer.Compute(*key, AsText(msg), got));
        EXPECT_EQ(std::vector<uint8_t>(got, got + key->mac_size()), want)
            << AlgName(alg) << " key " << kl << " msg " << ml;
        EXPECT_TRUE(computer.Verify(*key, AsText(msg), want));
      }
    }
  }
}

TEST(HmacTest, RepeatedAndInterleavedUseGivesTheSameMacs) {
  // A key's states must come out of Compute unchanged, and one computer
  // must serve any mix of keys and algorithms.
  const std::vector<uint8_t> s1 = RandomBytes(32), s2 = RandomBytes(150);
  std::unique_ptr<HmacKey> k256 = MakeKey(Alg::kHS256, s1);
  std::unique_ptr<HmacKey> k512 = MakeKey(Alg::kHS512, s2);
  std::unique_ptr<HmacKey> k384 = MakeKey(Alg::kHS384, s2);
  const std::string msg = "header.payload";
  HmacComputer computer;
  for (int round = 0; round < 5; ++round) {
    for (const HmacKey* k : {k256.get(), k512.get(), k384.get(), k256.get()}) {
      uint8_t mac[kMaxMacSize];
      ASSERT_TRUE(computer.Compute(*k, msg, mac));
      const std::vector<uint8_t>& secret = k == k256.get() ? s1 : s2;
      EXPECT_EQ(std::vector<uint8_t>(mac, mac + k->mac_size()), OneShot(k->alg(), secret, msg));
    }
  }
}

TEST(HmacTest, VerifyRefusesWrongLengthAndEveryFlippedBit) {
  const std::vector<uint8_t> secret = RandomBytes(64);
  const std::string msg = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ4In0";
  HmacComputer computer;
  for (Alg alg : {Alg::kHS256, Alg::kHS384, Alg::kHS512}) {
    std::unique_ptr<HmacKey> key = MakeKey(alg, secret);
    std::vector<uint8_t> tag = OneShot(alg, secret, msg);
    ASSERT_TRUE(computer.Verify(*key, msg, tag));
    EXPECT_FALSE(computer.Verify(*key, msg, {}));
    EXPECT_FALSE(computer.Verify(*key, msg, std::span(tag).first(tag.size() - 1)));
    EXPECT_FALSE(computer.Verify(*key, msg, std::span(tag).first(16)));
    std::vector<uint8_t> longer = tag;
    longer.push_back(0);
    EXPECT_FALSE(computer.Verify(*key, msg, longer));
    for (size_t i = 0; i < tag.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        tag[i] ^= static_cast<uint8_t>(1 << bit);
        EXPECT_FALSE(computer.Verify(*key, msg, tag)) << i << ":" << bit;
        tag[i] ^= static_cast<uint8_t>(1 << bit);
      }
    }
    EXPECT_FALSE(computer.Verify(*key, msg + "x", tag));
    EXPECT_TRUE(computer.Verify(*key, msg, tag));
  }
}

TEST(HmacTest, DifferentKeysGiveDifferentMacs) {
  std::vector<uint8_t> secret = RandomBytes(32);
  std::unique_ptr<HmacKey> a = MakeKey(Alg::kHS256, secret);
  secret[31] ^= 1;
  std::unique_ptr<HmacKey> b = MakeKey(Alg::kHS256, secret);
  HmacComputer computer;
  uint8_t ma[kMaxMacSize], mb[kMaxMacSize];
  ASSERT_TRUE(computer.Compute(*a, "m", ma));
  ASSERT_TRUE(computer.Compute(*b, "m", mb));
  EXPECT_NE(std::string_view(reinterpret_cast<char*>(ma), 32),
            std::string_view(reinterpret_cast<char*>(mb), 32));
}

TEST(HmacTest, CreateRefusesAnUnknownAlgorithm) {
  const std::vector<uint8_t> secret(32, 7);
  EXPECT_FALSE(HmacKey::Create(Alg::kUnknown, secret).ok());
  EXPECT_FALSE(HmacKey::Create(static_cast<Alg>(9), secret).ok());
}

TEST(HmacTest, MacSizeFollowsTheAlgorithm) {
  const std::vector<uint8_t> secret(64, 1);
  EXPECT_EQ(MakeKey(Alg::kHS256, secret)->mac_size(), 32u);
  EXPECT_EQ(MakeKey(Alg::kHS384, secret)->mac_size(), 48u);
  EXPECT_EQ(MakeKey(Alg::kHS512, secret)->mac_size(), 64u);
}

}  // namespace
}  // namespace tokend::auth

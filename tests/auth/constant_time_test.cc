// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/constant_time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tokend::auth {
namespace {

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
  return v;
}

// Every length around the 16-byte pieces, including the MAC sizes 32, 48
// and 64, with a difference in every position: the last piece and a short
// tail must be compared as surely as the first.
TEST(ConstantTimeEqualTest, FindsADifferenceInEveryPositionOfEveryLength) {
  for (size_t n = 0; n <= 70; ++n) {
    const std::vector<uint8_t> a = Pattern(n);
    ASSERT_TRUE(ConstantTimeEqual(a, Pattern(n))) << "length " << n;
    for (size_t i = 0; i < n; ++i) {
      for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
        std::vector<uint8_t> b = a;
        b[i] ^= bit;
        EXPECT_FALSE(ConstantTimeEqual(a, b)) << "length " << n << ", byte " << i;
      }
    }
  }
}

TEST(ConstantTimeEqualTest, DifferentLengthsAreNeverEqual) {
  const std::vector<uint8_t> a = Pattern(32);
  const std::vector<uint8_t> prefix(a.begin(), a.begin() + 16);
  EXPECT_FALSE(ConstantTimeEqual(a, prefix));
  EXPECT_FALSE(ConstantTimeEqual(prefix, a));
  EXPECT_FALSE(ConstantTimeEqual(a, {}));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
}

}  // namespace
}  // namespace tokend::auth

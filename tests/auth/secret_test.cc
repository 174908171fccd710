// SPDX-License-Identifier: Apache-2.0
// Tests for SecretBytes: contents, constant-time equality, and that no copy
// of the bytes survives destruction, moving from, or overwriting, in the
// object's own storage (where a short string lives).
#include "daemon/auth/secret.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace tokend::auth {
namespace {

// Raw storage for one SecretBytes, so the test can look at its bytes after
// the object is gone or moved from.
struct Storage {
  alignas(SecretBytes) unsigned char bytes[sizeof(SecretBytes)];

  SecretBytes* Make(std::string_view s) { return new (bytes) SecretBytes(s); }
  bool Holds(std::string_view needle) const {
    std::string_view hay(reinterpret_cast<const char*>(bytes), sizeof bytes);
    return hay.find(needle) != std::string_view::npos;
  }
};

// Short enough to live inline in std::string (no heap buffer).
constexpr std::string_view kShort = "k3y-shrt";

TEST(SecretBytesTest, HoldsExactlyTheBytesGiven) {
  const std::string bytes("a\0b\nc\xff", 6);
  SecretBytes s(bytes);
  EXPECT_EQ(s.view(), bytes);
  EXPECT_EQ(s.size(), 6u);
  EXPECT_FALSE(s.empty());
  ASSERT_EQ(s.span().size(), 6u);
  EXPECT_EQ(s.span()[5], 0xff);
  EXPECT_TRUE(SecretBytes().empty());
}

TEST(SecretBytesTest, EqualsComparesContentsAndLength) {
  SecretBytes a("0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(a.Equals(SecretBytes("0123456789abcdef0123456789abcdef")));
  EXPECT_FALSE(a.Equals(SecretBytes("0123456789abcdef0123456789abcdeF")));
  EXPECT_FALSE(a.Equals(SecretBytes("Z123456789abcdef0123456789abcdef")));
  EXPECT_FALSE(a.Equals(SecretBytes("0123456789abcdef0123456789abcde")));
  EXPECT_FALSE(a.Equals(SecretBytes()));
  EXPECT_TRUE(SecretBytes().Equals(SecretBytes()));
}

TEST(SecretBytesTest, CloneIsEqualAndIndependent) {
  SecretBytes a("clone me please, I am a secret!!");
  SecretBytes b = a.Clone();
  EXPECT_TRUE(a.Equals(b));
  EXPECT_NE(a.view().data(), b.view().data());
}

TEST(SecretBytesTest, DestructionWipesInlineBytes) {
  Storage st;
  SecretBytes* s = st.Make(kShort);
  ASSERT_TRUE(st.Holds(kShort));  // the test can see an inline secret
  s->~SecretBytes();
  EXPECT_FALSE(st.Holds(kShort));
}

TEST(SecretBytesTest, MoveConstructionWipesTheSource) {
  Storage st;
  SecretBytes* s = st.Make(kShort);
  SecretBytes moved(std::move(*s));
  EXPECT_EQ(moved.view(), kShort);
  EXPECT_TRUE(s->empty());
  EXPECT_FALSE(st.Holds(kShort));
  s->~SecretBytes();
}

TEST(SecretBytesTest, MoveConstructionOfLongSecretKeepsBytes) {
  const std::string long_secret(100, 'q');
  SecretBytes a(long_secret);
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.view(), long_secret);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract says so
}

TEST(SecretBytesTest, MoveAssignmentWipesSourceAndOldContents) {
  Storage target_st, source_st;
  SecretBytes* target = target_st.Make("old-k3y");
  SecretBytes* source = source_st.Make(kShort);
  *target = std::move(*source);
  EXPECT_EQ(target->view(), kShort);
  EXPECT_FALSE(target_st.Holds("old-k3y"));
  EXPECT_FALSE(source_st.Holds(kShort));
  EXPECT_TRUE(source->empty());
  target->~SecretBytes();
  source->~SecretBytes();
  EXPECT_FALSE(target_st.Holds(kShort));
}

TEST(SecretBytesTest, MoveAssignmentBetweenLongSecrets) {
  SecretBytes a(std::string(64, 'a'));
  SecretBytes b(std::string(80, 'b'));
  a = std::move(b);
  EXPECT_EQ(a.view(), std::string(80, 'b'));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytesTest, SelfMoveAssignmentKeepsContents) {
  SecretBytes a("self-assigned secret value......");
  SecretBytes& ref = a;
  a = std::move(ref);
  EXPECT_EQ(a.view(), "self-assigned secret value......");
}

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/revocation.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <string>
#include <vector>

namespace tokend::auth {
namespace {

constexpr std::string_view kToken = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln";

TEST(RevocationListTest, EmptyRevokesNothing) {
  const auto list = RevocationList::Empty();
  ASSERT_NE(list, nullptr);
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(list->size(), 0u);
  EXPECT_FALSE(list->IsRevoked(kToken, "jti-1"));
  EXPECT_FALSE(list->IsRevoked("", ""));
  EXPECT_EQ(RevocationList::Empty(), RevocationList::Empty());
}

TEST(RevocationListTest, LinesWithTwoDotsAreTokensOthersAreJtis) {
  const auto list = RevocationList::Parse(
      "# revoked on 2024-01-01\n"
      "\n"
      "  jti-1  \n"
      "\tjti.with.three.dots\r\n"
      "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln\n"
      "a.b\n"
      "   # indented comment\n"
      "last-without-newline");
  EXPECT_EQ(list->size(), 5u);
  EXPECT_TRUE(list->IsRevoked(kToken, ""));
  EXPECT_TRUE(list->IsRevoked("other.token.x", "jti-1"));
  EXPECT_TRUE(list->IsRevoked("other.token.x", "jti.with.three.dots"));
  EXPECT_TRUE(list->IsRevoked("other.token.x", "a.b"));
  EXPECT_TRUE(list->IsRevoked("other.token.x", "last-without-newline"));
  // A jti line is not a token (a two-dot line is both: see below).
  EXPECT_FALSE(list->IsRevoked("jti-1", ""));
  // Comments and whitespace are not entries.
  EXPECT_FALSE(list->IsRevoked("x.y.z", "# revoked on 2024-01-01"));
  EXPECT_FALSE(list->IsRevoked("x.y.z", ""));
  EXPECT_FALSE(list->IsRevoked("x.y.z", " jti-1"));
}

// "2024.06.x" may be a jti: a line with exactly two dots revokes both the
// token with that text and every token whose jti is that text.
TEST(RevocationListTest, TwoDotLineIsFiledUnderBothReadings) {
  const auto list = RevocationList::Parse("2024.06.x\n" + std::string(kToken) + "\n");
  EXPECT_EQ(list->size(), 2u);  // one entry per line, whatever its readings
  EXPECT_TRUE(list->IsRevoked("h.p.s", "2024.06.x"));
  EXPECT_TRUE(list->IsRevoked("2024.06.x", ""));
  EXPECT_TRUE(list->IsRevoked(kToken, ""));
  EXPECT_TRUE(list->IsRevoked("h.p.s", kToken));
  EXPECT_FALSE(list->IsRevoked("h.p.s", "2024.06.y"));
  EXPECT_FALSE(list->IsRevoked("h.p.s", "2024.06"));
  EXPECT_FALSE(list->IsRevoked("h.p.s", "2024.06.x.1"));
  // The same line twice, or a jti line beside it, still counts once each.
  EXPECT_EQ(RevocationList::Parse("2024.06.x\n2024.06.x\n2024.06\n")->size(), 2u);
}

TEST(RevocationListTest, MatchesExactlyNotByPrefixOrCase) {
  const auto list = RevocationList::Parse("abc\nx.y.z\n");
  EXPECT_TRUE(list->IsRevoked("", "abc"));
  EXPECT_FALSE(list->IsRevoked("", "ab"));
  EXPECT_FALSE(list->IsRevoked("", "abcd"));
  EXPECT_FALSE(list->IsRevoked("", "ABC"));
  EXPECT_TRUE(list->IsRevoked("x.y.z", ""));
  EXPECT_FALSE(list->IsRevoked("x.y.zz", ""));
  EXPECT_FALSE(list->IsRevoked("x.y.", ""));
}

TEST(RevocationListTest, EqualityComparesContents) {
  EXPECT_EQ(*RevocationList::Parse("a\nb\nx.y.z"), *RevocationList::Parse("# c\nb\n\nx.y.z\na\n"));
  EXPECT_FALSE(*RevocationList::Parse("a") == *RevocationList::Parse("b"));
  EXPECT_EQ(*RevocationList::Parse("\n# only comments\n  \n"), *RevocationList::Empty());
}

TEST(RevocationListTest, DuplicateLinesCountOnce) {
  EXPECT_EQ(RevocationList::Parse("a\na\n a \nx.y.z\nx.y.z")->size(), 2u);
}

// The pre-filter must never hide an entry: every listed jti and token of
// every length is found, among thousands, and near misses are not.
TEST(RevocationListTest, EveryEntryIsFoundWhateverItsLength) {
  std::string text;
  std::vector<std::string> jtis, tokens;
  for (int i = 0; i < 3000; ++i) {
    jtis.push_back(std::string(static_cast<size_t>(1 + i % 40), static_cast<char>('a' + i % 26)) +
                   std::to_string(i));
    tokens.push_back("h" + std::to_string(i) + ".p." + std::to_string(i * 7919));
    text += jtis.back() + "\n" + tokens.back() + "\n";
  }
  const auto list = RevocationList::Parse(text);
  ASSERT_EQ(list->size(), 6000u);
  for (size_t i = 0; i < jtis.size(); ++i) {
    ASSERT_TRUE(list->IsRevoked("x.y.z", jtis[i])) << jtis[i];
    ASSERT_TRUE(list->IsRevoked(tokens[i], "")) << tokens[i];
    ASSERT_FALSE(list->IsRevoked("x.y.z", jtis[i] + "x")) << jtis[i];
    ASSERT_FALSE(list->IsRevoked(tokens[i] + "x", "")) << tokens[i];
  }
  const auto short_ones = RevocationList::Parse("a\nb.c.d\n..\n");
  EXPECT_TRUE(short_ones->IsRevoked("", "a"));
  EXPECT_TRUE(short_ones->IsRevoked("b.c.d", ""));
  EXPECT_TRUE(short_ones->IsRevoked("..", ""));
  EXPECT_FALSE(short_ones->IsRevoked("", "b"));
  EXPECT_FALSE(short_ones->IsRevoked(".", ""));
  EXPECT_FALSE(short_ones->IsRevoked(std::string_view(), std::string_view()));
}

class RevocationFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tokend-revocation-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/revoked").c_str());
    std::remove((dir_ + "/fifo").c_str());
    std::remove((dir_ + "/huge").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(RevocationFileTest, LoadsAFile) {
  const std::string path = dir_ + "/revoked";
  std::ofstream(path) << "jti-9\n" << kToken << "\n";
  const auto list = RevocationList::Load(path);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ((*list)->size(), 2u);
  EXPECT_TRUE((*list)->IsRevoked(kToken, ""));
  EXPECT_TRUE((*list)->IsRevoked("", "jti-9"));
}

TEST_F(RevocationFileTest, MissingFileFailsNamingIt) {
  const std::string path = dir_ + "/does-not-exist";
  const auto list = RevocationList::Load(path);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(list.status().message().find(path), std::string::npos);
}

TEST_F(RevocationFileTest, DirectoryFailsToLoad) {
  const auto list = RevocationList::Load(dir_);
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find(dir_), std::string::npos);
}

// A FIFO would block open(2) until a writer came: Load() must refuse it at
// once. Should it block, the test opens the write end itself so that the
// stuck Load() returns and the test fails instead of hanging.
TEST_F(RevocationFileTest, FifoIsRefusedWithoutBlocking) {
  const std::string path = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return RevocationList::Load(path); });
  if (pending.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "Load() blocked on a FIFO";
    const int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w >= 0) ::close(w);
  }
  const auto list = pending.get();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(list.status().message().find(path), std::string::npos) << list.status();
  EXPECT_NE(list.status().message().find("FIFO"), std::string::npos) << list.status();
}

// A device is no list (/dev/zero would be read forever); /dev/null shows
// the refusal without risking that.
TEST_F(RevocationFileTest, DeviceIsRefused) {
  const auto list = RevocationList::Load("/dev/null");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("/dev/null"), std::string::npos) << list.status();
  EXPECT_NE(list.status().message().find("character device"), std::string::npos) << list.status();
}

TEST_F(RevocationFileTest, OversizedFileIsRefusedBeforeReading) {
  const std::string path = dir_ + "/huge";
  { std::ofstream(path) << "jti-1\n"; }
  // Sparse: the size is what counts, and nothing is read.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(RevocationList::kMaxFileBytes) + 1), 0);
  const auto list = RevocationList::Load(path);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(list.status().message().find("larger than"), std::string::npos) << list.status();
  // At the cap exactly, it loads.
  ASSERT_EQ(::truncate(path.c_str(), 6), 0);
  EXPECT_TRUE(RevocationList::Load(path, 6).ok());
  EXPECT_FALSE(RevocationList::Load(path, 5).ok());
}

}  // namespace
}  // namespace tokend::auth

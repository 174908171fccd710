// SPDX-License-Identifier: Apache-2.0
// tokenctl apikey, run as a process: `new` prints a fresh 32-byte token once
// and appends its SHA-256 line to a 0600 .apikeys file; `hash` turns a token
// on stdin into the same line. Digests are checked here with OpenSSL.

#include <openssl/sha.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/auth/base64url.h"
#include "gtest/gtest.h"
#include "tests/client/client_test_util.h"
#include "tests/client/subprocess.h"

namespace tokend::testing {
namespace {

ProcessResult Tokenctl(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), TOKENCTL_PATH);
  return RunProcess(args, input, {}, {"TOKEND_SOCKET"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "sha256:" and the base64url SHA-256 of `token`, as computed here.
std::string DigestField(const std::string& token) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d);
  return "sha256:" + auth::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

TEST(TokenctlApiKeyTest, NewPrintsA32ByteTokenOnceAndAppendsItsDigestLine) {
  TempDir dir;
  const std::string file = dir.File("dapr.apikeys");
  const ProcessResult a = Tokenctl({"apikey", "new", "--sub", "orders", file});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(a.out.size(), 44u) << a.out;  // 43 base64url characters and a newline
  const std::string token = a.out.substr(0, 43);
  std::string raw;
  ASSERT_TRUE(auth::Base64UrlDecode(token, raw));
  EXPECT_EQ(raw.size(), 32u);
  EXPECT_EQ(a.err.find(token), std::string::npos);

  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string first_line = DigestField(token) + " orders\n";
  EXPECT_EQ(ReadFile(file), first_line);

  const ProcessResult b =
      Tokenctl({"apikey", "new", "--sub=billing", "--expires", "2027-01-31T00:00:00Z", file});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string token2 = b.out.substr(0, 43);
  EXPECT_NE(token2, token);
  EXPECT_EQ(ReadFile(file),
            first_line + DigestField(token2) + " billing expires=2027-01-31T00:00:00Z\n");
  EXPECT_EQ(ReadFile(file).find(token), std::string::npos);  // never the token itself
}

TEST(TokenctlApiKeyTest, NewAppendsAfterALastLineWithoutNewline) {
  TempDir dir;
  const std::string file = dir.File("k.apikeys");
  std::ofstream(file) << "# hand-edited";
  const ProcessResult r = Tokenctl({"apikey", "new", "--sub", "a", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(file), "# hand-edited\n" + DigestField(r.out.substr(0, 43)) + " a\n");
}

TEST(TokenctlApiKeyTest, NewRefusesWhatTheDaemonWouldMisreadAndWritesNothing) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string why;
  } cases[] = {
      {{"apikey", "new", "--sub", "a", dir.File("plain")}, "must end in .apikeys"},
      {{"apikey", "new", dir.File("k.apikeys")}, "--sub"},
      {{"apikey", "new", "--sub", "a b", dir.File("k.apikeys")}, "visible ASCII"},
      {{"apikey", "new", "--sub", "a", "--expires", "soon", dir.File("k.apikeys")}, "RFC 3339"},
      {{"apikey", "new", "--sub", "a"}, "missing FILE"},
      {{"apikey", "rotate"}, "unknown apikey command"},
  };
  for (const Case& c : cases) {
    const ProcessResult r = Tokenctl(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.why;
    EXPECT_EQ(r.out, "") << c.why;
    EXPECT_NE(r.err.find(c.why), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::ifstream(dir.File("plain")).good());
  EXPECT_FALSE(std::ifstream(dir.File("k.apikeys")).good());
}

TEST(TokenctlApiKeyTest, HashTurnsATokenOnStdinIntoItsLine) {
  const std::string token = "my-dapr-app-api-token-from-openssl-rand";
  const ProcessResult r = Tokenctl({"apikey", "hash", "--sub", "checkout"}, token + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, DigestField(token) + " checkout\n");
  const ProcessResult exact = Tokenctl({"apikey", "hash", "--sub", "checkout"}, token);
  EXPECT_EQ(exact.out, r.out);
  const ProcessResult expiring =
      Tokenctl({"apikey", "hash", "--sub", "c", "--expires", "2030-01-01T01:00:00+01:00"}, token);
  EXPECT_EQ(expiring.out, DigestField(token) + " c expires=2030-01-01T00:00:00Z\n");
}

TEST(TokenctlApiKeyTest, HashRefusesTokensTheDaemonWouldNeverAccept) {
  struct Case {
    std::string input;
    std::string why;
  } cases[] = {
      {"", "shorter than 16"},
      {"fifteen-bytes!!", "shorter than 16"},
      {"aaaaaaaa.bbbbbbbb.cccccccc", "two dots"},
      {"sixteen-bytes-ok\nsecond-line-here", "one line"},
  };
  for (const Case& c : cases) {
    const ProcessResult r = Tokenctl({"apikey", "hash", "--sub", "a"}, c.input);
    EXPECT_EQ(r.exit_code, 2) << c.why;
    EXPECT_EQ(r.out, "") << c.why;
    EXPECT_NE(r.err.find(c.why), std::string::npos) << r.err;
  }
  EXPECT_EQ(Tokenctl({"apikey", "hash", "--sub", "a"}, "sixteen-bytes-ok").exit_code, 0);
}

TEST(TokenctlApiKeyTest, HelpDescribesBothCommands) {
  const ProcessResult r = Tokenctl({"apikey", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("usage: tokenctl apikey new", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("tokenctl apikey hash"), std::string::npos);
  EXPECT_NE(Tokenctl({"--help"}).out.find("apikey"), std::string::npos);
}

}  // namespace
}  // namespace tokend::testing

// SPDX-License-Identifier: Apache-2.0
// Tests for the key loader: each file form and its rules, directory rules
// (dot files, subdirectories, symbolic links, the Kubernetes Secret volume
// layout), missing and empty paths, and that no message carries a secret.
#include "daemon/auth/key_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

namespace fs = std::filesystem;

// 40 random-looking bytes, and a 64-byte one, as tests' secrets.
const std::string kSecret = "q7Vn2xKc9LmZ0pWt4RbY8sHd3GfJ6uEa1NiOoQwX";
const std::string kSecret64 = "Zx8Kp3Lm0Qw7Rt2Yb5Nc9Vd4Hf6Js1Ga8Ue3Io0Pa7Sk2Dl5Fm9Gn4Hq6Jr1Kt3Lu";

std::string StdBase64(std::string_view bytes) {
  std::string s = Base64UrlEncode(bytes);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  return s;
}

std::string Jwks(std::string_view members) {
  return std::string(R"({"keys":[)") + std::string(members) + "]}";
}

std::string OctJwk(std::string_view kid, std::string_view secret, std::string_view alg = "") {
  std::string j =
      R"({"kty":"oct","kid":")" + std::string(kid) + R"(","k":")" + Base64UrlEncode(secret) + "\"";
  if (!alg.empty()) j += R"(,"alg":")" + std::string(alg) + "\"";
  return j + "}";
}

class KeyLoaderTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tokend-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Write(const std::string& rel, std::string_view bytes) {
    const fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    EXPECT_TRUE(out.good()) << p;
    // As keygen writes keys; a test of the mode check sets its own.
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p.string();
  }
  void Link(const std::string& target, const std::string& rel_link) {
    const fs::path link = fs::path(dir_) / rel_link;
    fs::create_directories(link.parent_path());
    fs::create_symlink(target, link);
  }

  LoadedKeys MustLoad(const std::string& path) {
    auto r = LoadKeyMaterial(path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : LoadedKeys{};
  }
  absl::Status LoadError(const std::string& path) {
    auto r = LoadKeyMaterial(path);
    EXPECT_FALSE(r.ok()) << path;
    return r.ok() ? absl::OkStatus() : r.status();
  }

  std::string dir_;
};

// The message names `mention` and carries `secret` in no form.
void ExpectSafe(const absl::Status& s, std::string_view secret, std::string_view mention) {
  ASSERT_FALSE(s.ok());
  const std::string msg(s.message());
  EXPECT_NE(msg.find(mention), std::string::npos) << msg;
  for (const std::string& form :
       {std::string(secret), Base64UrlEncode(secret), StdBase64(secret)}) {
    EXPECT_EQ(msg.find(form), std::string::npos) << msg;
  }
}

bool HasWarningWith(const std::vector<std::string>& w, std::string_view text) {
  for (const std::string& line : w) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

// --- Raw files ---------------------------------------------------------------

TEST_F(KeyLoaderTest, RawFileIsItsExactBytesNamedByTheFileName) {
  const std::string binary = kSecret + std::string("\0\xff\r", 3);
  Write("api-key", binary);
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "api-key");
  EXPECT_EQ(k.keys[0].secret.view(), binary);
  EXPECT_EQ(k.keys[0].bound_alg, Alg::kUnknown);
  EXPECT_EQ(k.keys[0].source, dir_ + "/api-key");
  EXPECT_TRUE(k.warnings.empty());
}

TEST_F(KeyLoaderTest, RawKeyEndingInNewlineIsLoadedWholeWithAWarning) {
  Write("echoed", kSecret + "\n");
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].secret.view(), kSecret + "\n");
  ASSERT_EQ(k.warnings.size(), 1u);
  EXPECT_TRUE(HasWarningWith(k.warnings, "echoed"));
  EXPECT_TRUE(HasWarningWith(k.warnings, "newline"));
  EXPECT_FALSE(HasWarningWith(k.warnings, kSecret));
}

TEST_F(KeyLoaderTest, EmptyKeyFileIsAnError) {
  for (const char* name : {"raw", "blank.b64", "spaces.b64"}) {
    SCOPED_TRACE(name);
    const std::string sub = dir_ + "/" + name + "-dir";
    Write(std::string(name) + "-dir/" + name,
          std::string_view(name) == "spaces.b64" ? " \n\t" : "");
    const absl::Status s = LoadError(sub);
    EXPECT_NE(s.message().find(name), std::string::npos) << s;
    EXPECT_NE(s.message().find("empty"), std::string::npos) << s;
  }
}

// --- .b64 files --------------------------------------------------------------

TEST_F(KeyLoaderTest, Base64FileAcceptsBothAlphabetsAndSurroundingSpace) {
  // A secret whose encodings differ between the alphabets.
  std::string secret = kSecret;
  secret[0] = '\xfb';
  secret[1] = '\xff';
  const std::string url = Base64UrlEncode(secret);
  const std::string std_padded = StdBase64(secret);
  ASSERT_NE(url, std_padded);
  Write("a.b64", std_padded);
  Write("b.b64", "\n  " + url + " \r\n");
  Write("c.b64", std_padded + "\n");
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 3u);
  EXPECT_EQ(k.keys[0].kid, "a");
  EXPECT_EQ(k.keys[1].kid, "b");
  EXPECT_EQ(k.keys[2].kid, "c");
  for (const KeyMaterial& m : k.keys) EXPECT_EQ(m.secret.view(), secret) << m.kid;
  EXPECT_TRUE(k.warnings.empty());
}

TEST_F(KeyLoaderTest, Base64FileThatDoesNotDecodeIsAnError) {
  const std::string enc = StdBase64(kSecret);
  ExpectSafe(LoadError(Write("bad.b64", enc.substr(0, 10) + "!" + enc.substr(10))), kSecret,
             "bad.b64");
  const absl::Status wrapped =
      LoadError(Write("wrapped.b64", enc.substr(0, 20) + "\n" + enc.substr(20)));
  ExpectSafe(wrapped, kSecret, "wrapped.b64");
  EXPECT_NE(wrapped.message().find("one line"), std::string::npos) << wrapped;
}

// --- JWK Sets ----------------------------------------------------------------

TEST_F(KeyLoaderTest, JwkSetLoadsOctKeysWithTheirBindings) {
  Write("set.json", Jwks(OctJwk("k1", kSecret) + "," + OctJwk("k2", kSecret64, "HS512") + "," +
                         OctJwk("k3", kSecret64, "HS384")));
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 3u);
  EXPECT_EQ(k.keys[0].kid, "k1");
  EXPECT_EQ(k.keys[0].bound_alg, Alg::kUnknown);
  EXPECT_EQ(k.keys[0].secret.view(), kSecret);
  EXPECT_EQ(k.keys[1].bound_alg, Alg::kHS512);
  EXPECT_EQ(k.keys[1].secret.view(), kSecret64);
  EXPECT_EQ(k.keys[2].bound_alg, Alg::kHS384);
  EXPECT_EQ(k.keys[0].source, dir_ + "/set.json");
}

TEST_F(KeyLoaderTest, JwksExtensionIsAJwkSetToo) {
  Write("set.jwks", Jwks(OctJwk("only", kSecret)));
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "only");
}

TEST_F(KeyLoaderTest, KeysNotForSignaturesAreSkippedWithAWarning) {
  // An encryption key (use), an X25519 key (no signatures), an unknown kty:
  // a JWK Set may carry them beside its signing keys.
  Write("mixed.json",
        Jwks(R"({"kty":"RSA","kid":"rsa1","use":"enc","n":"AQAB","e":"AQAB"},)" +
             OctJwk("hs", kSecret) + R"(,{"kty":"OKP","crv":"X25519","kid":"x","x":"AA"})" +
             R"(,{"kty":"XYZ","kid":"q"})"));
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "hs");
  EXPECT_EQ(k.warnings.size(), 3u);
  EXPECT_TRUE(HasWarningWith(k.warnings, "rsa1"));
  EXPECT_TRUE(HasWarningWith(k.warnings, "X25519"));
  EXPECT_TRUE(HasWarningWith(k.warnings, "\"XYZ\""));
}

TEST(ParseJwksTest, EveryMalformedSetIsRefusedWithoutLeakingTheKey) {
  const std::string k = Base64UrlEncode(kSecret);
  struct Case {
    const char* what;
    std::string json;
    const char* mention;
  } cases[] = {
      {"not JSON", "{\"keys\":[", "JSON"},
      {"trailing content", Jwks(OctJwk("a", kSecret)) + " {}", "JSON"},
      {"not an object", "[1,2]", "JWK Set"},
      {"no keys", R"({"kid":"a"})", "keys"},
      {"keys not an array", R"({"keys":{"kty":"oct"}})", "keys"},
      {"key not an object", R"({"keys":["x"]})", "keys[0]"},
      {"missing kid", R"({"keys":[{"kty":"oct","k":")" + k + "\"}]}", "kid"},
      {"empty kid", R"({"keys":[{"kty":"oct","kid":"","k":")" + k + "\"}]}", "kid"},
      {"numeric kid", R"({"keys":[{"kty":"oct","kid":7,"k":")" + k + "\"}]}", "kid"},
      {"missing kty", R"({"keys":[{"kid":"a","k":")" + k + "\"}]}", "kty"},
      {"missing k", R"({"keys":[{"kty":"oct","kid":"a"}]})", "\"k\""},
      {"numeric k", R"({"keys":[{"kty":"oct","kid":"a","k":12}]})", "\"k\""},
      {"empty k", R"({"keys":[{"kty":"oct","kid":"a","k":""}]})", "\"k\""},
      {"padded k", R"({"keys":[{"kty":"oct","kid":"a","k":")" + k + "=\"}]}", "base64url"},
      {"standard alphabet k", R"({"keys":[{"kty":"oct","kid":"a","k":"+/+/"}]})", "base64url"},
      {"non-zero trailing bits",
       R"({"keys":[{"kty":"oct","kid":"a","k":")" + k.substr(0, k.size() - 1) + "B\"}]}",
       "base64url"},
      {"alg RS256", Jwks(OctJwk("a", kSecret, "RS256")), "RS256"},
      {"alg none", Jwks(OctJwk("a", kSecret, "none")), "none"},
      {"alg lower case", Jwks(OctJwk("a", kSecret, "hs256")), "hs256"},
      {"alg not a string", R"({"keys":[{"kty":"oct","kid":"a","alg":256,"k":")" + k + "\"}]}",
       "alg"},
      {"use enc", R"({"keys":[{"kty":"oct","kid":"a","use":"enc","k":")" + k + "\"}]}", "use"},
      {"duplicate member in key",
       R"({"keys":[{"kty":"oct","kid":"a","k":")" + k + R"(","kid":"b"}]})", "duplicate"},
      {"duplicate keys member", R"({"keys":[],"keys":[)" + OctJwk("a", kSecret) + "]}",
       "duplicate"},
      {"duplicate deep member",
       Jwks(R"({"kty":"oct","kid":"a","x":{"y":1,"y":2},"k":")" + k + "\"}"), "duplicate"},
      {"invalid UTF-8", std::string(R"({"keys":[{"kty":"oct","kid":"\xff","k":")") + k + "\"}]}",
       "JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<std::string> warnings;
    auto r = ParseJwks(c.json, "/keys/set.json", &warnings);
    ASSERT_FALSE(r.ok());
    ExpectSafe(r.status(), kSecret, "/keys/set.json");
    EXPECT_NE(r.status().message().find(c.mention), std::string::npos) << r.status();
  }
}

TEST(ParseJwksTest, DeeplyNestedJsonIsRefused) {
  std::string deep = R"({"keys":[],"x":)";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}";
  EXPECT_FALSE(ParseJwks(deep, "deep.json", nullptr).ok());
}

TEST(ParseJwksTest, EmptySetAndUnknownMembersAreFine) {
  auto r = ParseJwks(R"({"keys":[]})", "e.json", nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  r = ParseJwks(R"({"keys":[{"kty":"oct","kid":"a","use":"sig","key_ops":["verify"],"k":")" +
                    Base64UrlEncode(kSecret) + R"("}],"extra":true})",
                "e.json", nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].secret.view(), kSecret);
}

// --- Directories -------------------------------------------------------------

TEST_F(KeyLoaderTest, DotFilesAndSubdirectoriesAreSkipped) {
  Write("good", kSecret);
  Write(".hidden", "x");            // would fail as an empty-ish short key
  Write(".swp.json", "{not json");  // would fail to parse
  Write("sub/bad.json", "{not json");
  Write("sub/k", "");
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "good");
}

// An editor's backup keeps an old secret alive and a README becomes a
// published key: such names are refused, each with a warning naming the file
// and why, and the rest of the set loads.
TEST_F(KeyLoaderTest, BackupAndDocumentFilesAreRefusedByNameWithAWarning) {
  Write("k1", kSecret);
  const std::vector<std::string> refused = {
      "k1~",    "k1.orig",   "k1.bak",      "K1.BAK",    "k1.swp",  "k1.tmp",     "k1.rej",
      "k1.old", "k1.save",   "k1.dpkg-old", "k1.rpmnew", "#k1#",    "README",     "README.md",
      "readme", "notes.txt", "k1.json.bak", "LICENSE",   "keys.md", "index.html",
  };
  // Each would load as a key of its own (or fail the set) if read.
  for (const std::string& name : refused) Write(name, kSecret64);
  Write("broken.b64.orig", "!!! not base64 !!!");
  Link("does-not-exist", "README.txt");  // dangling, yet not an error
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "k1");
  for (const std::string& name : refused) {
    const std::string want = dir_ + "/" + name + ": not loaded as a key: named like a";
    EXPECT_TRUE(HasWarningWith(k.warnings, want)) << name;
  }
  EXPECT_TRUE(HasWarningWith(k.warnings, "broken.b64.orig: not loaded as a key"));
  EXPECT_TRUE(HasWarningWith(k.warnings, "README.txt: not loaded as a key"));
  for (const std::string& w : k.warnings) {
    EXPECT_EQ(w.find(kSecret64), std::string::npos) << w;
  }
}

TEST(NotAKeyFileReasonTest, KeyNamesPassAndLookAlikesAreRefused) {
  for (const char* name :
       {"k1", "k1.b64", "k1.json", "k1.jwks", "backup", "bak", "tmp", "api-2024.v2", "k1.bakery",
        "md", "key.txt2", "my-readme-key", "k1#", "#k1"}) {
    EXPECT_EQ(NotAKeyFileReason(name), "") << name;
  }
  EXPECT_EQ(NotAKeyFileReason("k1~"), "named like a backup or temporary copy (ends in \"~\")");
  EXPECT_EQ(NotAKeyFileReason("k1.ORIG"),
            "named like a backup or temporary copy (ends in \".orig\")");
  EXPECT_EQ(NotAKeyFileReason("Readme.rst"), "named like a document (ends in \".rst\")");
  EXPECT_EQ(NotAKeyFileReason("ReadMe"), "named like a document (README...)");
  EXPECT_EQ(NotAKeyFileReason("#k1#"), "named like an editor's auto-save file (#...#)");
}

TEST_F(KeyLoaderTest, FileNamedByTheKeysPathIsReadWhateverItsName) {
  const std::string p = Write("one/k1.bak", kSecret);
  LoadedKeys k = MustLoad(p);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "k1.bak");
}

TEST_F(KeyLoaderTest, KeyReadableByEveryUserLoadsWithAWarning) {
  const std::string open_key = Write("open", kSecret);
  const std::string group_key = Write("group", kSecret64);
  ASSERT_EQ(::chmod(open_key.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(group_key.c_str(), 0640), 0);
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 2u);
  ASSERT_EQ(k.warnings.size(), 1u) << testing::PrintToString(k.warnings);
  EXPECT_EQ(k.warnings[0], open_key +
                               ": key file is readable by every user on this host (mode 0644);"
                               " chmod o-r it");
  // Through a symbolic link the key's own mode counts, and a single file
  // named by the keys path is checked too.
  Link(open_key, "sub/link");
  EXPECT_TRUE(HasWarningWith(MustLoad(dir_ + "/sub").warnings, "mode 0644"));
  EXPECT_TRUE(HasWarningWith(MustLoad(open_key).warnings, "readable by every user"));
  EXPECT_TRUE(MustLoad(group_key).warnings.empty());
}

TEST_F(KeyLoaderTest, FilesLoadInNameOrder) {
  Write("zeta", kSecret);
  Write("alpha.b64", Base64UrlEncode(kSecret64));
  Write("mid.json", Jwks(OctJwk("m1", kSecret) + "," + OctJwk("m2", kSecret)));
  LoadedKeys k = MustLoad(dir_);
  std::vector<std::string> kids;
  for (const KeyMaterial& m : k.keys) kids.push_back(m.kid);
  EXPECT_EQ(kids, (std::vector<std::string>{"alpha", "m1", "m2", "zeta"}));
}

TEST_F(KeyLoaderTest, SymbolicLinksAreFollowedUnderTheLinksName) {
  const std::string target = Write("elsewhere/real-file", kSecret);
  Link(target, "keys/linked");
  Write("elsewhere/real.b64", Base64UrlEncode(kSecret64));
  Link(dir_ + "/elsewhere/real.b64", "keys/other.b64");
  Link(dir_ + "/elsewhere", "keys/dirlink");  // a link to a directory is skipped
  LoadedKeys k = MustLoad(dir_ + "/keys");
  ASSERT_EQ(k.keys.size(), 2u);
  EXPECT_EQ(k.keys[0].kid, "linked");
  EXPECT_EQ(k.keys[0].secret.view(), kSecret);
  EXPECT_EQ(k.keys[1].kid, "other");
  EXPECT_EQ(k.keys[1].secret.view(), kSecret64);
}

TEST_F(KeyLoaderTest, KubernetesSecretVolumeLayoutLoadsAndSwaps) {
  // What the kubelet writes: a timestamped directory, ..data pointing at it,
  // and one link per key through ..data.
  Write("vol/..2026_11_23_10_00_00.123/api", kSecret);
  Write("vol/..2026_11_23_10_00_00.123/jwks.json", Jwks(OctJwk("j1", kSecret64, "HS512")));
  Link("..2026_11_23_10_00_00.123", "vol/..data");
  Link("..data/api", "vol/api");
  Link("..data/jwks.json", "vol/jwks.json");
  LoadedKeys k = MustLoad(dir_ + "/vol");
  ASSERT_EQ(k.keys.size(), 2u);
  EXPECT_EQ(k.keys[0].kid, "api");
  EXPECT_EQ(k.keys[0].secret.view(), kSecret);
  EXPECT_EQ(k.keys[1].kid, "j1");
  EXPECT_TRUE(k.warnings.empty());

  // The kubelet's update: a new timestamped directory, then ..data renamed
  // over in one step.
  Write("vol/..2026_11_23_11_00_00.456/api", kSecret64);
  Write("vol/..2026_11_23_11_00_00.456/jwks.json", Jwks(OctJwk("j2", kSecret64)));
  Link("..2026_11_23_11_00_00.456", "vol/..data_tmp");
  fs::rename(dir_ + "/vol/..data_tmp", dir_ + "/vol/..data");
  k = MustLoad(dir_ + "/vol");
  ASSERT_EQ(k.keys.size(), 2u);
  EXPECT_EQ(k.keys[0].secret.view(), kSecret64);
  EXPECT_EQ(k.keys[1].kid, "j2");
}

TEST_F(KeyLoaderTest, DanglingLinkIsAnErrorNamingIt) {
  Link(dir_ + "/nowhere", "keys/gone");
  const absl::Status s = LoadError(dir_ + "/keys");
  EXPECT_NE(s.message().find("gone"), std::string::npos) << s;
}

// A file removed between the directory's listing and its reading is as if
// never listed: the load is the set without it, not an error (a Secret
// update, an editor or an operator deleting a key while a reload runs; the
// watcher reloads again on the removal). A dangling link stays an error.
TEST_F(KeyLoaderTest, FileRemovedWhileTheDirectoryIsReadIsLeftOut) {
  Write("keys/k1", kSecret64);
  const std::string victim = dir_ + "/keys/k2";
  const std::string staging = dir_ + "/keys/.k2.tmp";  // dot files are not read
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop.load()) {
      {
        std::ofstream out(staging, std::ios::binary | std::ios::trunc);
        out << kSecret64;
      }
      ::chmod(staging.c_str(), 0600);
      ::rename(staging.c_str(), victim.c_str());  // whole, as tools write keys
      ::unlink(victim.c_str());
    }
  });
  int failures = 0;
  std::string first_error;
  for (int i = 0; i < 20000; ++i) {
    absl::StatusOr<LoadedKeys> r = LoadKeyMaterial(dir_ + "/keys");
    if (!r.ok() && failures++ == 0) first_error = std::string(r.status().message());
  }
  stop = true;
  churn.join();
  EXPECT_EQ(failures, 0) << first_error;
}

TEST_F(KeyLoaderTest, MissingPathOrEmptyDirectoryGivesNoKeysAndAWarning) {
  LoadedKeys missing = MustLoad(dir_ + "/does-not-exist");
  EXPECT_TRUE(missing.keys.empty());
  ASSERT_FALSE(missing.warnings.empty());
  EXPECT_TRUE(HasWarningWith(missing.warnings, "does-not-exist"));

  fs::create_directories(dir_ + "/empty");
  LoadedKeys empty = MustLoad(dir_ + "/empty");
  EXPECT_TRUE(empty.keys.empty());
  EXPECT_TRUE(HasWarningWith(empty.warnings, "empty"));

  std::vector<std::string> warnings;
  auto ring = LoadKeyring(dir_ + "/does-not-exist", &warnings);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_TRUE((*ring)->empty());
  EXPECT_FALSE(warnings.empty());
}

TEST_F(KeyLoaderTest, FifoIsSkippedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ + "/pipe").c_str(), 0600), 0);
  Write("good", kSecret);
  LoadedKeys k = MustLoad(dir_);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_TRUE(HasWarningWith(k.warnings, "pipe"));
  // Named directly, it is refused, still without blocking.
  EXPECT_FALSE(LoadKeyMaterial(dir_ + "/pipe").ok());
}

TEST_F(KeyLoaderTest, OversizedFileIsRefused) {
  Write("huge", std::string((1 << 20) + 1, 'h'));
  const absl::Status s = LoadError(dir_);
  EXPECT_NE(s.message().find("huge"), std::string::npos) << s;
}

TEST_F(KeyLoaderTest, UnreadableFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file; permissions cannot be tested";
  const std::string p = Write("locked", kSecret);
  ASSERT_EQ(::chmod(p.c_str(), 0), 0);
  ExpectSafe(LoadError(dir_), kSecret, "locked");
}

TEST_F(KeyLoaderTest, FirstBadFileFailsTheWholeLoad) {
  Write("a-good", kSecret);
  Write("b-bad.json", Jwks(OctJwk("x", kSecret, "RS256")));
  ExpectSafe(LoadError(dir_), kSecret, "b-bad.json");
}

TEST_F(KeyLoaderTest, SingleFilePathLoadsThatFile) {
  const std::string raw = Write("one/solo", kSecret);
  LoadedKeys k = MustLoad(raw);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "solo");
  const std::string json = Write("two/set.jwks", Jwks(OctJwk("s", kSecret)));
  k = MustLoad(json);
  ASSERT_EQ(k.keys.size(), 1u);
  EXPECT_EQ(k.keys[0].kid, "s");
}

// --- Whole key sets: keyring rules through files ----------------------------------

TEST_F(KeyLoaderTest, LoadKeyringBuildsTheWholeSet) {
  Write("a", kSecret);
  Write("b.json", Jwks(OctJwk("b", kSecret64, "HS512")));
  std::vector<std::string> warnings;
  auto ring = LoadKeyring(dir_, &warnings);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ((*ring)->size(), 2u);
  ASSERT_NE((*ring)->FindByKid("b"), nullptr);
  EXPECT_EQ((*ring)->FindByKid("b")->bound_alg, Alg::kHS512);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(KeyLoaderTest, DuplicateKidAcrossFilesIsAnError) {
  Write("k1", kSecret);
  Write("set.json", Jwks(OctJwk("k1", kSecret64)));
  auto ring = LoadKeyring(dir_, nullptr);
  ASSERT_FALSE(ring.ok());
  ExpectSafe(ring.status(), kSecret, "k1");
  ExpectSafe(ring.status(), kSecret64, "duplicate");
  ExpectSafe(ring.status(), kSecret64, "set.json");
}

TEST_F(KeyLoaderTest, ShortKeyInAnyFormIsAnError) {
  const std::string short_key = kSecret.substr(0, 31);
  for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
           {"raw", short_key},
           {"enc.b64", StdBase64(short_key)},
           {"set.json", Jwks(OctJwk("j", short_key))},
           {"bound.json", Jwks(OctJwk("b", kSecret, "HS384"))}}) {
    SCOPED_TRACE(name);
    const std::string sub = "short-" + name;
    Write(sub + "/" + name, body);
    auto ring = LoadKeyring(dir_ + "/" + sub, nullptr);
    ASSERT_FALSE(ring.ok());
    ExpectSafe(ring.status(), short_key, name);
    ExpectSafe(ring.status(), kSecret, "bytes");
  }
}

TEST_F(KeyLoaderTest, PublishedSecretsAreRefusedInEveryFileForm) {
  const std::string nacos = "SecretKey012345678901234567890123456789012345678901234567890123456789";
  const std::string nacos_b64 =
      "U2VjcmV0S2V5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODk=";
  std::string nacos_b64_bytes;
  ASSERT_TRUE(Base64DecodeLenient(nacos_b64, nacos_b64_bytes));
  const std::string supabase = "your-super-secret-jwt-token-with-at-least-32-characters-long";
  struct Case {
    std::string name, body, secret;
  } cases[] = {
      {"nacos-raw", nacos, nacos},
      {"nacos-echoed", nacos + "\n", nacos},
      {"nacos.b64", StdBase64(nacos), nacos},
      {"nacos-url.b64", Base64UrlEncode(nacos) + "\n", nacos},
      {"nacos.json", Jwks(OctJwk("nacos", nacos)), nacos},
      {"nacos-bound.jwks", Jwks(OctJwk("nacos", nacos, "HS256")), nacos},
      {"nacos-text-as-raw", nacos_b64, nacos_b64_bytes},  // its base64 text, as raw bytes
      {"nacos-decoded.b64", nacos_b64, nacos_b64_bytes},  // what that text decodes to
      {"nacos-decoded.json", Jwks(OctJwk("d", nacos_b64_bytes)), nacos_b64_bytes},
      {"nacos-decoded-raw", nacos_b64_bytes, nacos_b64_bytes},
      {"supabase", supabase, supabase},
      {"supabase.b64", StdBase64(supabase), supabase},
      {"supabase.json", Jwks(OctJwk("s", supabase)), supabase},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string sub = "deny-" + c.name;
    Write(sub + "/" + c.name, c.body);
    auto ring = LoadKeyring(dir_ + "/" + sub, nullptr);
    ASSERT_FALSE(ring.ok());
    ExpectSafe(ring.status(), c.secret, "published");
    ExpectSafe(ring.status(), nacos, c.name);
    ExpectSafe(ring.status(), nacos_b64, c.name);
  }
}

// --- ReadKeyFile ----------------------------------------------------------------

TEST_F(KeyLoaderTest, ReadKeyFileReadsEachForm) {
  auto raw = ReadKeyFile(Write("k-raw", kSecret), "");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->kid, "k-raw");
  EXPECT_EQ(raw->secret.view(), kSecret);

  auto b64 = ReadKeyFile(Write("k-b64.b64", StdBase64(kSecret) + "\n"), "");
  ASSERT_TRUE(b64.ok()) << b64.status();
  EXPECT_EQ(b64->kid, "k-b64");
  EXPECT_EQ(b64->secret.view(), kSecret);

  auto one = ReadKeyFile(Write("one.json", Jwks(OctJwk("only", kSecret64, "HS512"))), "");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->kid, "only");
  EXPECT_EQ(one->bound_alg, Alg::kHS512);
}

TEST_F(KeyLoaderTest, ReadKeyFileSelectsFromASetByKid) {
  const std::string set =
      Write("set.json", Jwks(OctJwk("a", kSecret) + "," + OctJwk("b", kSecret64)));
  auto b = ReadKeyFile(set, "b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->secret.view(), kSecret64);
  auto ambiguous = ReadKeyFile(set, "");
  ASSERT_FALSE(ambiguous.ok());
  ExpectSafe(ambiguous.status(), kSecret, "2");
  auto missing = ReadKeyFile(set, "zz");
  ASSERT_FALSE(missing.ok());
  ExpectSafe(missing.status(), kSecret, "zz");
  EXPECT_FALSE(ReadKeyFile(dir_ + "/nope", "").ok());
  EXPECT_FALSE(ReadKeyFile(dir_, "").ok());  // a directory is not a key file
}

}  // namespace
}  // namespace tokend::auth

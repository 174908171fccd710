// SPDX-License-Identifier: Apache-2.0
// Opaque API keys: the .apikeys parser, the digest table, the loader and
// watcher (all or nothing, reload and removal) and the Validator's answers.
#include "daemon/auth/api_keys.h"

#include <openssl/sha.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/key_watcher.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/validator.h"
#include "gtest/gtest.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'700'000'000;
// Two 43-byte tokens as `tokenctl apikey new` makes them.
constexpr std::string_view kToken = "n2h3Yv5rBvhxB1kQ5mYy0XnW1R4f8a6dPq2LmZsKc0E";
constexpr std::string_view kOtherToken = "Zq9fTqk4Wm0cL7y1b2VnE8sXr3Hd5Gj6Pa0Ku4Nt7Bw";

ApiKeyDigest Sha256(std::string_view s) {
  ApiKeyDigest d;
  ::SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

std::string Line(std::string_view token, std::string_view subject, int64_t exp = 0) {
  return ApiKeyLine(Sha256(token), subject, exp);
}

std::shared_ptr<const ApiKeyTable> Table(std::string_view text) {
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(text, "test.apikeys");
  EXPECT_TRUE(keys.ok()) << keys.status();
  if (!keys.ok()) return nullptr;
  absl::StatusOr<std::shared_ptr<const ApiKeyTable>> table = ApiKeyTable::Build(*std::move(keys));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : nullptr;
}

std::string ParseError(std::string_view text) {
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(text, "k.apikeys");
  return keys.ok() ? std::string("parsed") : std::string(keys.status().message());
}

// --- Parser -------------------------------------------------------------------

TEST(ApiKeysParseTest, ReadsDigestSubjectAndOptionalExpiry) {
  const std::string text = absl::StrCat("# Dapr sidecars\n\n", Line(kToken, "orders"), "\n", "  ",
                                        ApiKeyDigestText(Sha256(kOtherToken)),
                                        "\tbilling   expires=2027-01-31T00:00:00Z\r\n");
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(text, "k.apikeys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].digest, Sha256(kToken));
  EXPECT_EQ((*keys)[0].subject, "orders");
  EXPECT_EQ((*keys)[0].exp, 0);
  EXPECT_EQ((*keys)[0].source, "k.apikeys:3");
  EXPECT_EQ((*keys)[1].digest, Sha256(kOtherToken));
  EXPECT_EQ((*keys)[1].subject, "billing");
  EXPECT_EQ((*keys)[1].exp, 1801353600);
  EXPECT_EQ((*keys)[1].source, "k.apikeys:4");
}

TEST(ApiKeysParseTest, LineRoundTripsWithExpiry) {
  const std::string line = Line(kToken, "svc", 1801353600);
  EXPECT_EQ(line,
            absl::StrCat(ApiKeyDigestText(Sha256(kToken)), " svc expires=2027-01-31T00:00:00Z"));
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(line, "x");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)[0].exp, 1801353600);
}

TEST(ApiKeysParseTest, MalformedLineIsRefusedWithItsNumber) {
  const std::string good = Line(kToken, "a");
  const std::string digest = ApiKeyDigestText(Sha256(kOtherToken));
  struct Case {
    std::string line;
    std::string_view why;
  } cases[] = {
      {std::string(kOtherToken) + " svc", "sha256:"},                    // the token itself
      {"sha256: svc", "43 characters"},                                  // no digest
      {digest.substr(0, digest.size() - 1) + " svc", "43 characters"},   // short digest
      {digest + "A svc", "43 characters"},                               // long digest
      {"sha256:" + std::string(43, '+') + " svc", "43 characters"},      // not base64url
      {digest.substr(0, digest.size() - 1) + "B svc", "43 characters"},  // trailing bits
      {digest, "no subject"},
      {digest + " expires=2027-01-31T00:00:00Z", "no subject before"},
      {digest + " svc extra", "unknown field 3"},
      {digest + " svc expires=tomorrow", "RFC 3339"},
      {digest + " svc expires=2027-01-31", "RFC 3339"},
      {digest + " svc expires=1960-01-01T00:00:00Z", "after 1970"},
      {digest + " svc expires=10000-01-01T00:00:00Z", "before the year 10000"},
      {digest + " svc expires=9999999999999-01-01T00:00:00Z", "expires= "},
      {digest + " svc expires=2027-01-31T00:00:00Z expires=2028-01-31T00:00:00Z", "twice"},
      {digest + " " + std::string(256, 'a'), "visible ASCII"},
      {good, "same digest as line 2"},
  };
  for (const Case& c : cases) {
    const std::string text = absl::StrCat("# header\n", good, "\n", c.line, "\n", good, "\n");
    const std::string error = ParseError(text);
    EXPECT_NE(error.find("k.apikeys:3: "), std::string::npos) << c.line << " -> " << error;
    EXPECT_NE(error.find(c.why), std::string::npos) << c.line << " -> " << error;
  }
}

TEST(ApiKeysParseTest, SubjectWithOddBytesIsRefusedWithoutEchoingThem) {
  const std::string digest = ApiKeyDigestText(Sha256(kToken));
  // Each would end, fold or smuggle an HTTP header, or arrive changed.
  for (std::string_view odd :
       {std::string_view("a\rX-Auth-Subject:admin"), std::string_view("a\0b", 3),
        std::string_view("caf\xc3\xa9"), std::string_view("a\x7f"), std::string_view("a\x01"),
        std::string_view("\x1b[31m")}) {
    const std::string error = ParseError(digest + " " + std::string(odd) + "\n");
    EXPECT_NE(error.find("k.apikeys:1: "), std::string::npos) << error;
    EXPECT_NE(error.find("visible ASCII"), std::string::npos) << error;
    EXPECT_EQ(error.find(odd), std::string::npos) << error;
  }
  EXPECT_TRUE(ValidApiKeySubject("spiffe://cluster.local/ns/a/sa/orders"));
  EXPECT_FALSE(ValidApiKeySubject(""));
  EXPECT_FALSE(ValidApiKeySubject("a b"));
}

// --- Table --------------------------------------------------------------------

// FIPS 180-4 examples (one block, empty, two blocks), a 43-byte key, and
// every length around the block boundaries, against OpenSSL's one-shot.
TEST(ApiKeyDigestTest, IsTheSha256OfTheToken) {
  EXPECT_EQ(ApiKeyDigestText(ApiKeyDigestOf("abc")),
            "sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_EQ(ApiKeyDigestText(ApiKeyDigestOf("")),
            "sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
  EXPECT_EQ(
      ApiKeyDigestText(ApiKeyDigestOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "sha256:JI1qYdIGOLjlwCaTDD5gOaM85Flk_yFn9uzt1BnbBsE");
  std::string data;
  for (size_t n = 0; n <= 200; ++n) {
    EXPECT_EQ(ApiKeyDigestOf(data), Sha256(data)) << n << " bytes";
    data.push_back(static_cast<char>('a' + n % 26));
  }
  EXPECT_EQ(ApiKeyDigestOf(kToken), Sha256(kToken));
}

TEST(ApiKeyTableTest, FindsEveryKeyAmongManyAndNothingElse) {
  std::string text;
  for (int i = 0; i < 5000; ++i)
    absl::StrAppend(&text, Line(absl::StrCat("token-", i, "-padding"), absl::StrCat("s", i)), "\n");
  std::shared_ptr<const ApiKeyTable> table = Table(text);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const ApiKey* k = table->Find(Sha256(absl::StrCat("token-", i, "-padding")));
    ASSERT_NE(k, nullptr) << i;
    EXPECT_EQ(k->subject, absl::StrCat("s", i));
    EXPECT_EQ(table->Find(Sha256(absl::StrCat("token-", i, "-paddinh"))), nullptr) << i;
  }
}

TEST(ApiKeyTableTest, DigestsDifferingInOneByteAnywhereAreTwoKeys) {
  // Keys 9 to 32 share their first 8 bytes, so their lookups probe from the
  // same slot and compare in full.
  std::vector<ApiKey> keys(33);
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i].digest = Sha256(kToken);
    if (i > 0) keys[i].digest[i - 1] ^= 0x01;  // key i differs at byte i-1
    keys[i].subject = absl::StrCat("k", i);
  }
  const std::vector<ApiKey> copy = keys;
  absl::StatusOr<std::shared_ptr<const ApiKeyTable>> table = ApiKeyTable::Build(std::move(keys));
  ASSERT_TRUE(table.ok()) << table.status();
  for (const ApiKey& k : copy) {
    const ApiKey* found = (*table)->Find(k.digest);
    ASSERT_NE(found, nullptr) << k.subject;
    EXPECT_EQ(found->subject, k.subject);
  }
  ApiKeyDigest absent = Sha256(kToken);
  absent[31] ^= 0x80;
  EXPECT_EQ((*table)->Find(absent), nullptr);
}

TEST(ApiKeyTableTest, DuplicateDigestAcrossFilesIsRefusedNamingBoth) {
  absl::StatusOr<std::vector<ApiKey>> a = ParseApiKeys(Line(kToken, "a"), "a.apikeys");
  absl::StatusOr<std::vector<ApiKey>> b =
      ParseApiKeys(absl::StrCat(Line(kOtherToken, "x"), "\n", Line(kToken, "b")), "b.apikeys");
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<ApiKey> all = *std::move(a);
  for (ApiKey& k : *b) all.push_back(std::move(k));
  absl::StatusOr<std::shared_ptr<const ApiKeyTable>> table = ApiKeyTable::Build(std::move(all));
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("b.apikeys:2"), std::string::npos) << table.status();
  EXPECT_NE(table.status().message().find("a.apikeys:1"), std::string::npos) << table.status();
}

// --- Validator ----------------------------------------------------------------

class ApiKeyValidatorTest : public ::testing::Test {
 protected:
  void Use(std::string_view apikeys, std::string_view revoked = "") {
    publisher_.Publish(KeySet::Make(Keyring::Empty(), RevocationList::Parse(revoked),
                                    apikeys.empty() ? nullptr : Table(apikeys)));
  }
  ValidationResult Check(std::string_view token, int64_t now = kT0) {
    return validator_.Validate(token, "", /*want_claims=*/true, now);
  }

  Policy policy_;
  KeySetPublisher publisher_{KeySet::Make(Keyring::Empty(), RevocationList::Empty())};
  Validator validator_{policy_, publisher_, nullptr};
};

TEST_F(ApiKeyValidatorTest, RightTokenIsOkWithSubjectAndAlg64) {
  Use(Line(kToken, "orders"));
  ValidationResult r = Check(kToken);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(static_cast<int>(r.alg), 64);
  EXPECT_EQ(r.subject, "orders");
  EXPECT_EQ(r.exp, 0);
  EXPECT_EQ(r.claims_json, "");
}

TEST_F(ApiKeyValidatorTest, WrongTokenIsUnknownToken) {
  Use(Line(kToken, "orders"));
  ValidationResult r = Check(kOtherToken);
  EXPECT_EQ(r.status, Status::kUnknownToken);
  EXPECT_EQ(r.alg, Alg::kUnknown);
  EXPECT_EQ(r.subject, "");
}

TEST_F(ApiKeyValidatorTest, EveryOneByteChangeIsUnknownToken) {
  Use(Line(kToken, "orders"));
  for (size_t i = 0; i < kToken.size(); ++i) {
    for (int delta : {1, 0x20, 0x80}) {
      std::string t(kToken);
      t[i] = static_cast<char>(t[i] ^ delta);
      EXPECT_EQ(Check(t).status, Status::kUnknownToken) << i << " ^ " << delta;
    }
  }
  EXPECT_EQ(Check(std::string(kToken) + "A").status, Status::kUnknownToken);
  EXPECT_EQ(Check(kToken.substr(1)).status, Status::kUnknownToken);
  EXPECT_EQ(Check(kToken).status, Status::kOk);
}

TEST_F(ApiKeyValidatorTest, EmptyTokenIsUnknownTokenWithKeysAndMalformedWithout) {
  EXPECT_EQ(Check("").status, Status::kMalformed);
  Use(Line(kToken, "orders"));
  EXPECT_EQ(Check("").status, Status::kUnknownToken);
}

TEST_F(ApiKeyValidatorTest, TokensShorterThan16BytesAreNeverAccepted) {
  const std::string t15(15, 'k'), t16(16, 'k');
  Use(absl::StrCat(Line(t15, "short"), "\n", Line(t16, "sixteen")));
  EXPECT_EQ(Check(t15).status, Status::kUnknownToken);
  EXPECT_EQ(Check(t16).status, Status::kOk);
  EXPECT_EQ(Check(t16).subject, "sixteen");
}

TEST_F(ApiKeyValidatorTest, TokenWithTwoDotsIsNeverLookedUp) {
  // Its digest is loaded, yet it is a JWS by its shape: no HMAC key, so not OK.
  const std::string jws_shaped = "abcdefgh.ijklmnop.qrstuvwx";
  const std::string one_dot = "abcdefgh.ijklmnopqrstuvwx";
  const std::string three_dots = "abcdefgh.ijklmnop.qrstuvwx.yz";
  Use(absl::StrCat(Line(jws_shaped, "jws"), "\n", Line(one_dot, "one"), "\n",
                   Line(three_dots, "three")));
  ValidationResult r = Check(jws_shaped);
  EXPECT_NE(r.status, Status::kOk);
  EXPECT_NE(r.status, Status::kUnknownToken);
  EXPECT_NE(r.alg, Alg::kApiKey);
  EXPECT_EQ(Check(one_dot).status, Status::kOk);
  EXPECT_EQ(Check(three_dots).status, Status::kOk);
}

TEST_F(ApiKeyValidatorTest, DotsAreCountedWhereverTheyStand) {
  // Every placement of one and two dots in tokens of 24 and 27 bytes, over
  // a filler whose bytes differ from '.' in the high bit alone (0xae) or in
  // one low bit ('/'): only the two-dot tokens are kept from the lookup.
  std::vector<std::string> one, two;
  for (size_t len : {24u, 27u}) {
    for (char filler : {'\xae', '/'}) {
      for (size_t i = 0; i < len; ++i) {
        std::string t(len, filler);
        t[i] = '.';
        one.push_back(t);
        for (size_t j = i + 1; j < len; ++j) {
          std::string u = t;
          u[j] = '.';
          two.push_back(u);
        }
      }
    }
  }
  std::string text;
  for (const auto* list : {&one, &two}) {
    for (size_t k = 0; k < list->size(); ++k) {
      absl::StrAppend(&text, Line((*list)[k], absl::StrCat("s", text.size())), "\n");
    }
  }
  Use(text);
  for (const std::string& t : one) ASSERT_EQ(Check(t).status, Status::kOk) << t;
  for (const std::string& t : two) ASSERT_NE(Check(t).alg, Alg::kApiKey) << t;
}

TEST_F(ApiKeyValidatorTest, OpaqueTokenIsMalformedWhenNoApiKeyIsLoaded) {
  EXPECT_EQ(Check(kToken).status, Status::kMalformed);
  Use(Line(kToken, "orders"));
  EXPECT_EQ(Check(kToken).status, Status::kOk);
  Use("");
  EXPECT_EQ(Check(kToken).status, Status::kMalformed);
}

TEST_F(ApiKeyValidatorTest, ExpiredKeyIsExpiredAtItsExpiry) {
  Use(Line(kToken, "orders", kT0 + 10));
  EXPECT_EQ(Check(kToken, kT0 + 9).status, Status::kOk);
  EXPECT_EQ(Check(kToken, kT0 + 9).exp, kT0 + 10);
  ValidationResult r = Check(kToken, kT0 + 10);
  EXPECT_EQ(r.status, Status::kExpired);
  EXPECT_EQ(r.alg, Alg::kApiKey);
  EXPECT_EQ(r.subject, "");
}

TEST_F(ApiKeyValidatorTest, RevocationListAppliesByTokenAndByLine) {
  const std::string keys = absl::StrCat(Line(kToken, "orders"), "\n", Line(kOtherToken, "billing"));
  Use(keys, std::string(kToken));
  EXPECT_EQ(Check(kToken).status, Status::kRevoked);
  EXPECT_EQ(Check(kOtherToken).status, Status::kOk);
  Use(keys, absl::StrCat("# the whole line, as copied from the .apikeys file\n",
                         Line(kOtherToken, "billing"), "\n"));
  EXPECT_EQ(Check(kToken).status, Status::kOk);
  EXPECT_EQ(Check(kOtherToken).status, Status::kRevoked);
  Use(keys, ApiKeyDigestText(Sha256(kToken)));
  EXPECT_EQ(Check(kToken).status, Status::kRevoked);
}

TEST_F(ApiKeyValidatorTest, JwtStillVerifiesAlongsideApiKeys) {
  std::vector<KeyMaterial> material(1);
  material[0].kid = "k1";
  material[0].secret = SecretBytes(std::string(32, 's'));
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Keyring::Build(std::move(material));
  ASSERT_TRUE(ring.ok());
  publisher_.Publish(KeySet::Make(*ring, RevocationList::Empty(), Table(Line(kToken, "orders"))));
  const std::string secret(32, 's');
  const std::string jwt = MintToken(Alg::kHS256, R"({"alg":"HS256","kid":"k1"})",
                                    absl::StrCat(R"({"sub":"jwt-user","exp":)", kT0 + 60, "}"),
                                    std::string_view(secret));
  ValidationResult r = Check(jwt);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.subject, "jwt-user");
  EXPECT_EQ(Check(kToken).subject, "orders");
}

// --- Loading and reloading ----------------------------------------------------

class ApiKeyFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tokend-apikeys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    options_.keys_path = dir_.string();
    options_.use_inotify = false;
    options_.poll_interval = std::chrono::milliseconds(0);
    options_.log = [](LogLevel, std::string_view) {};
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, std::string_view text) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }

  fs::path dir_;
  KeyWatcherOptions options_;
};

TEST_F(ApiKeyFilesTest, ApiKeysFilesLoadBesideHmacKeys) {
  Write("hmac", "0123456789abcdefghijklmnopqrstuvwxyz");
  Write("a.apikeys", Line(kToken, "orders") + "\n");
  Write("b.apikeys", Line(kOtherToken, "billing") + "\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> set = LoadKeySet(options_, nullptr);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->keys->size(), 1u);  // the .apikeys files are not raw HMAC keys
  ASSERT_NE((*set)->api_keys, nullptr);
  EXPECT_EQ((*set)->api_keys->size(), 2u);
}

TEST_F(ApiKeyFilesTest, AnApiKeysFileIsNeverReadAsAnHmacKey) {
  Write("a.apikeys", Line(kToken, "orders") + "\n");
  absl::StatusOr<KeyMaterial> m = ReadKeyFile((dir_ / "a.apikeys").string(), "");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("API key digests"), std::string::npos) << m.status();
  options_.keys_path = (dir_ / "a.apikeys").string();  // --keys naming the file itself
  absl::StatusOr<std::shared_ptr<const KeySet>> set = LoadKeySet(options_, nullptr);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE((*set)->keys->empty());
  ASSERT_NE((*set)->api_keys, nullptr);
  EXPECT_EQ((*set)->api_keys->size(), 1u);
}

TEST_F(ApiKeyFilesTest, DuplicateDigestInTwoFilesRefusesTheSet) {
  Write("a.apikeys", Line(kToken, "orders") + "\n");
  Write("b.apikeys", Line(kToken, "billing") + "\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> set = LoadKeySet(options_, nullptr);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("b.apikeys:1"), std::string::npos) << set.status();
  EXPECT_NE(set.status().message().find("a.apikeys:1"), std::string::npos) << set.status();
}

TEST_F(ApiKeyFilesTest, ReloadAddsRemovesAndRefusesAllOrNothing) {
  Write("svc.apikeys", Line(kToken, "orders") + "\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> initial = LoadKeySet(options_, nullptr);
  ASSERT_TRUE(initial.ok()) << initial.status();
  KeySetPublisher publisher(*initial);
  absl::StatusOr<std::unique_ptr<KeyWatcher>> watcher = KeyWatcher::Create(options_, &publisher);
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  Policy policy;
  Validator v(policy, publisher, nullptr);
  auto status = [&](std::string_view t) { return v.Validate(t, "", false, kT0).status; };
  EXPECT_EQ(status(kToken), Status::kOk);
  EXPECT_EQ(status(kOtherToken), Status::kUnknownToken);

  // Rotation: the new line joins, both work.
  Write("svc.apikeys", absl::StrCat(Line(kToken, "orders"), "\n", Line(kOtherToken, "orders")));
  ASSERT_TRUE((*watcher)->ReloadAndWait().ok());
  EXPECT_EQ(status(kToken), Status::kOk);
  EXPECT_EQ(status(kOtherToken), Status::kOk);

  // A bad line anywhere keeps the whole current set, old and new keys alike.
  Write("zz.apikeys", "not a digest line\n");
  absl::Status bad = (*watcher)->ReloadAndWait();
  EXPECT_NE(bad.message().find("zz.apikeys:1"), std::string::npos) << bad;
  EXPECT_EQ(status(kToken), Status::kOk);
  fs::remove(dir_ / "zz.apikeys");

  // The old line goes: the old token fails.
  Write("svc.apikeys", Line(kOtherToken, "orders") + "\n");
  ASSERT_TRUE((*watcher)->ReloadAndWait().ok());
  EXPECT_EQ(status(kToken), Status::kUnknownToken);
  EXPECT_EQ(status(kOtherToken), Status::kOk);

  // The file goes: no API key is loaded, an opaque token is malformed again.
  fs::remove(dir_ / "svc.apikeys");
  ASSERT_TRUE((*watcher)->ReloadAndWait().ok());
  EXPECT_EQ(publisher.Current()->api_keys, nullptr);
  EXPECT_EQ(status(kOtherToken), Status::kMalformed);
}

TEST_F(ApiKeyFilesTest, ChangedSubjectOrExpiryIsANewSet) {
  Write("svc.apikeys", Line(kToken, "orders") + "\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> a = LoadKeySet(options_, nullptr);
  Write("svc.apikeys", Line(kToken, "orders", kT0) + "\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> b = LoadKeySet(options_, nullptr);
  Write("svc.apikeys", Line(kToken, "orders") + "\n# comment\n");
  absl::StatusOr<std::shared_ptr<const KeySet>> c = LoadKeySet(options_, nullptr);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(SameKeySet(**a, **b));
  EXPECT_TRUE(SameKeySet(**a, **c));
}

}  // namespace
}  // namespace tokend::auth

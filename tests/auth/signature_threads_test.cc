// SPDX-License-Identifier: Apache-2.0
// Many threads verifying asymmetric tokens against one shared Keyring (its
// PublicKeys and their EVP_PKEYs are shared; each thread has its own
// Verifier and so its own prepared contexts). Run under ThreadSanitizer by
// the concurrency label.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/verifier.h"
#include "gtest/gtest.h"
#include "tools/minter/signer.h"

namespace tokend::auth {
namespace {

TEST(SignatureThreadsTest, SharedPublicKeysVerifyFromManyThreads) {
  struct Signer {
    Alg alg;
    std::string kid;
    PkeyPtr key;
  };
  std::vector<Signer> signers;
  signers.push_back({Alg::kRS256, "rsa", *GenerateKey("RSA", 2048)});
  signers.push_back({Alg::kPS256, "rsa", nullptr});
  signers.push_back({Alg::kES256, "ec", *GenerateKey("P-256")});
  signers.push_back({Alg::kEdDSA, "ed", *GenerateKey("Ed25519")});
  std::string jwks = R"({"keys":[)";
  for (const Signer& s : signers) {
    if (s.key == nullptr) continue;
    absl::StrAppend(&jwks, jwks.back() == '[' ? "" : ",", *PublicJwk(s.key.get(), s.kid, {}));
  }
  jwks += "]}";
  auto material = ParseJwks(jwks, "threads.jwks", nullptr);
  ASSERT_TRUE(material.ok()) << material.status();
  auto ring = Keyring::Build(*std::move(material));
  ASSERT_TRUE(ring.ok());
  const auto keys = KeySet::Make(*ring, RevocationList::Parse(""));

  const std::string payload = R"({"sub":"t","exp":4102444800})";
  std::vector<std::string> good, bad;
  for (const Signer& s : signers) {
    EVP_PKEY* key = s.key != nullptr ? s.key.get() : signers[0].key.get();
    const std::string header =
        absl::StrCat(R"({"alg":")", std::string(AlgName(s.alg)), R"(","kid":")", s.kid, "\"}");
    good.push_back(*SignJws(s.alg, header, payload, key));
    std::string b = good.back();
    b[b.size() - 4] = b[b.size() - 4] == 'A' ? 'B' : 'A';
    bad.push_back(b);
  }

  Policy policy;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Verifier verifier(policy);
      VerifyResult out;
      for (int i = 0; i < 60; ++i) {
        const size_t j = static_cast<size_t>(i + t) % good.size();
        verifier.Verify(good[j], "", *keys, 1'800'000'000, &out);
        if (out.status != Status::kOk) ++wrong;
        verifier.Verify(bad[j], "", *keys, 1'800'000'000, &out);
        if (out.status != Status::kBadSignature) ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace tokend::auth

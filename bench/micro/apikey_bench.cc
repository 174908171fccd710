// SPDX-License-Identifier: Apache-2.0
// Opaque API keys: the cost of a lookup against its floor, one SHA-256 of the
// token. Both use a 43-byte token as `tokenctl apikey new` makes them.
//   BM_Sha256Floor         SHA-256 of the token as ApiKeyDigestOf() computes it
//                          (auth::Sha256: a SHA256_CTX on the stack)
//   BM_Sha256Evp           the same through EVP with a pre-fetched EVP_MD and a
//                          reused EVP_MD_CTX (the cheapest EVP route, which
//                          the lookup used before; OpenSSL 3.0 allocates on
//                          every EVP_DigestInit_ex2)
//   BM_ApiKeyLookup        Validator::Validate() of that token with 10,000 API
//                          keys loaded, the token's among them (answer OK)
//   BM_ApiKeyLookupMiss    the same with a token that matches no key
//                          (answer UNKNOWN_TOKEN)
// The bound: BM_ApiKeyLookup within 1.5x of BM_Sha256Floor.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/api_keys.h"
#include "daemon/auth/hmac.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/validator.h"

namespace {

namespace auth = tokend::auth;

constexpr std::string_view kToken = "n2h3Yv5rBvhxB1kQ5mYy0XnW1R4f8a6dPq2LmZsKc0E";
constexpr std::string_view kMissToken = "Zq9fTqk4Wm0cL7y1b2VnE8sXr3Hd5Gj6Pa0Ku4Nt7Bw";
constexpr int kKeys = 10000;
constexpr int64_t kNow = 1'700'000'000;

void BM_Sha256Floor(benchmark::State& state) {
  auth::ApiKeyDigest digest;
  for (auto _ : state) {
    auth::Sha256(kToken, digest);
    benchmark::DoNotOptimize(digest);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kToken.size()));
}
BENCHMARK(BM_Sha256Floor);

void BM_Sha256Evp(benchmark::State& state) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, kToken.data(), kToken.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &len) != 1) {
      state.SkipWithError("SHA-256 failed");
      break;
    }
    benchmark::DoNotOptimize(digest);
    benchmark::ClobberMemory();
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kToken.size()));
}
BENCHMARK(BM_Sha256Evp);

// 10,000 keys, one of them kToken's, the others digests of other tokens.
std::shared_ptr<const auth::KeySet> TenThousandKeys() {
  std::vector<auth::ApiKey> keys(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    const std::string token =
        i == kKeys / 2 ? std::string(kToken) : absl::StrCat("bench-token-", i, "-0123456789");
    keys[i].digest = auth::ApiKeyDigestOf(token);
    keys[i].subject = absl::StrCat("service-", i);
    keys[i].source = "bench";
  }
  absl::StatusOr<std::shared_ptr<const auth::ApiKeyTable>> table =
      auth::ApiKeyTable::Build(std::move(keys));
  if (!table.ok()) return nullptr;
  return auth::KeySet::Make(auth::Keyring::Empty(), auth::RevocationList::Empty(), *table);
}

void LookupBench(benchmark::State& state, std::string_view token, auth::Status want) {
  std::shared_ptr<const auth::KeySet> set = TenThousandKeys();
  if (set == nullptr) {
    state.SkipWithError("could not build the keys");
    return;
  }
  auth::KeySetPublisher publisher(set);
  auth::Policy policy;
  auth::Validator validator(policy, publisher, nullptr);
  if (validator.Validate(token, "", false, kNow).status != want) {
    state.SkipWithError("unexpected answer");
    return;
  }
  for (auto _ : state) {
    auth::ValidationResult r = validator.Validate(token, "", false, kNow);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(token.size()));
}

void BM_ApiKeyLookup(benchmark::State& state) { LookupBench(state, kToken, auth::Status::kOk); }
BENCHMARK(BM_ApiKeyLookup);

void BM_ApiKeyLookupMiss(benchmark::State& state) {
  LookupBench(state, kMissToken, auth::Status::kUnknownToken);
}
BENCHMARK(BM_ApiKeyLookupMiss);

}  // namespace

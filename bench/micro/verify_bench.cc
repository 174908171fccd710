// SPDX-License-Identifier: Apache-2.0
// verify_bench.cc
//
// The cost of verifying the shared benchmark token (bench_token.h) once,
// with nothing cached but the header memo:
//   BM_VerifyUncached   Verifier::Verify, kid "bench", default policy
// to compare with BM_HmacFloor (hmac_bench.cc), the one HMAC-SHA256 over
// the same signing input that no verifier can go below; and, to show where
// the difference goes, the stages of Verify() that parse_bench.cc does not
// time (BM_VerifyStage*): the JWS layer alone, the kid lookup, the
// signature decode and the MAC check.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/micro/bench_token.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/claims.h"
#include "daemon/auth/hmac.h"
#include "daemon/auth/jws.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/secret.h"
#include "daemon/auth/verifier.h"

namespace tokend::auth {
namespace {

using bench::kBenchKey;
using bench::kBenchKid;
using bench::kBenchNow;
using bench::kBenchToken;

std::string_view SigningInput() { return kBenchToken.substr(0, kBenchToken.rfind('.')); }

std::shared_ptr<const KeySet> BenchKeySet() {
  std::vector<KeyMaterial> material(1);
  material[0].kid = std::string(kBenchKid);
  material[0].secret = SecretBytes(kBenchKey);
  material[0].source = "bench";
  absl::StatusOr<std::shared_ptr<const Keyring>> ring = Keyring::Build(std::move(material));
  if (!ring.ok()) std::abort();
  return KeySet::Make(*ring, RevocationList::Empty());
}

void BM_VerifyUncached(benchmark::State& state) {
  const auto keys = BenchKeySet();
  const Policy policy;
  Verifier verifier(policy);
  VerifyResult out;
  verifier.Verify(kBenchToken, "", *keys, kBenchNow, &out);
  if (out.status != Status::kOk) {
    state.SkipWithError("the bench token does not verify");
    return;
  }
  for (auto _ : state) {
    verifier.Verify(kBenchToken, "", *keys, kBenchNow, &out);
    benchmark::DoNotOptimize(out.status);
  }
}
BENCHMARK(BM_VerifyUncached);

// The JWS layer only: split, header memo, kid lookup, MAC, payload decode.
void BM_VerifyStageJwsLayer(benchmark::State& state) {
  const auto keys = BenchKeySet();
  const Policy policy;
  Verifier verifier(policy);
  VerifyResult out;
  for (auto _ : state) {
    Status s = verifier.VerifySignature(kBenchToken, *keys->keys, &out);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_VerifyStageJwsLayer);

void BM_VerifyStageKidLookup(benchmark::State& state) {
  const auto keys = BenchKeySet();
  std::string kid(kBenchKid);
  for (auto _ : state) {
    benchmark::DoNotOptimize(kid);
    const Key* key = keys->keys->FindByKid(kid);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_VerifyStageKidLookup);

void BM_VerifyStageSignatureDecode(benchmark::State& state) {
  const std::string_view sig = kBenchToken.substr(kBenchToken.rfind('.') + 1);
  uint8_t out[kMaxMacSize + 4];
  for (auto _ : state) {
    size_t len = 0;
    bool ok = Base64UrlDecodeTo(sig, out, &len);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_VerifyStageSignatureDecode);

void BM_VerifyStageHmacVerify(benchmark::State& state) {
  auto key = HmacKey::Create(
      Alg::kHS256, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kBenchKey.data()),
                                            kBenchKey.size()));
  if (!key.ok()) std::abort();
  std::string tag;
  if (!Base64UrlDecode(kBenchToken.substr(kBenchToken.rfind('.') + 1), tag)) std::abort();
  const std::span<const uint8_t> tag_span(reinterpret_cast<const uint8_t*>(tag.data()), tag.size());
  HmacComputer hmac;
  const std::string_view input = SigningInput();
  for (auto _ : state) {
    bool ok = hmac.Verify(**key, input, tag_span);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_VerifyStageHmacVerify);

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// asym_bench.cc
//
// Asymmetric JWS verification against OpenSSL's own floor, on the payload of
// the shared benchmark token (bench_token.h) signed with a fresh key:
//   BM_RsaFloor / BM_EcdsaFloor / BM_Ed25519Floor
//       EVP_DigestVerifyInit_ex + EVP_DigestVerify of the signing input with
//       a prepared EVP_PKEY and a reused EVP_MD_CTX (ECDSA: the signature
//       already in DER): what OpenSSL costs, no JWT work at all;
//   BM_VerifyUncachedRs256 / Es256 / EdDSA
//       Verifier::Verify of the whole token (split, header memo, kid,
//       base64url, signature, payload, claims, policy), nothing cached;
//   BM_CacheHitRs256 / BM_CacheHitHs256
//       Validator::Validate answered from the cache;
//   BM_CacheHitKubernetes
//       the same for an RS256 ServiceAccount token as a cluster issues it
//       (iss, sub, jti and two aud values fill most of a cache entry).
#include <benchmark/benchmark.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/micro/bench_token.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/public_key.h"
#include "daemon/auth/revocation.h"
#include "daemon/auth/token_cache.h"
#include "daemon/auth/validator.h"
#include "daemon/auth/verifier.h"
#include "tools/minter/signer.h"

namespace tokend::auth {
namespace {

using bench::kBenchKid;
using bench::kBenchNow;
using bench::kBenchPayloadJson;

struct Fixture {
  PkeyPtr private_key;
  std::string token;
  std::shared_ptr<const KeySet> keys;
  const PublicKey* public_key = nullptr;
  std::string signing_input;
  std::string evp_sig;  // the signature as EVP_DigestVerify takes it
  const char* digest = nullptr;
};

const Fixture& Get(Alg alg) {
  static Fixture fixtures[kAlgCount];
  Fixture& f = fixtures[static_cast<size_t>(alg)];
  if (f.private_key != nullptr) return f;
  const std::string_view kind = FamilyOf(alg) == AlgFamily::kRsa     ? "RSA"
                                : FamilyOf(alg) == AlgFamily::kEdDSA ? "Ed25519"
                                                                     : "P-256";
  f.private_key = *GenerateKey(kind, 2048);
  const std::string header = std::string(R"({"alg":")") + std::string(AlgName(alg)) +
                             R"(","kid":")" + std::string(kBenchKid) + "\"}";
  f.token = *SignJws(alg, header, kBenchPayloadJson, f.private_key.get());
  absl::StatusOr<KeyMaterial> m =
      ParsePublicPem(*PublicKeyPem(f.private_key.get()), std::string(kBenchKid), "bench");
  if (!m.ok()) std::abort();
  std::vector<KeyMaterial> material;
  material.push_back(*std::move(m));
  auto ring = Keyring::Build(std::move(material));
  if (!ring.ok()) std::abort();
  f.keys = KeySet::Make(*ring, RevocationList::Empty());
  f.public_key = (*ring)->FindByKid(kBenchKid)->public_key.get();
  f.signing_input = f.token.substr(0, f.token.rfind('.'));
  std::string raw;
  if (!Base64UrlDecode(std::string_view(f.token).substr(f.token.rfind('.') + 1), raw)) {
    std::abort();
  }
  f.evp_sig = raw;
  if (FamilyOf(alg) == AlgFamily::kEcdsa) {
    ECDSA_SIG* es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(es, &der);
    f.evp_sig.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
  }
  f.digest = alg == Alg::kEdDSA ? nullptr : "SHA256";
  return f;
}

void Floor(benchmark::State& state, Alg alg) {
  const Fixture& f = Get(alg);
  EVP_PKEY* pkey = f.public_key->pkey();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const auto* sig = reinterpret_cast<const unsigned char*>(f.evp_sig.data());
  const auto* tbs = reinterpret_cast<const unsigned char*>(f.signing_input.data());
  for (auto _ : state) {
    int ok = EVP_DigestVerifyInit_ex(ctx, nullptr, f.digest, nullptr, nullptr, pkey, nullptr);
    ok &= EVP_DigestVerify(ctx, sig, f.evp_sig.size(), tbs, f.signing_input.size());
    if (ok != 1) {
      state.SkipWithError("the floor does not verify");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  EVP_MD_CTX_free(ctx);
}

void Full(benchmark::State& state, Alg alg) {
  const Fixture& f = Get(alg);
  const Policy policy;
  Verifier verifier(policy);
  VerifyResult out;
  for (auto _ : state) {
    verifier.Verify(f.token, "", *f.keys, kBenchNow, &out);
    if (out.status != Status::kOk) {
      state.SkipWithError("the token does not verify");
      break;
    }
    benchmark::DoNotOptimize(out.status);
  }
}

void BM_RsaFloor(benchmark::State& state) { Floor(state, Alg::kRS256); }
void BM_EcdsaFloor(benchmark::State& state) { Floor(state, Alg::kES256); }
void BM_Ed25519Floor(benchmark::State& state) { Floor(state, Alg::kEdDSA); }
void BM_VerifyUncachedRs256(benchmark::State& state) { Full(state, Alg::kRS256); }
void BM_VerifyUncachedEs256(benchmark::State& state) { Full(state, Alg::kES256); }
void BM_VerifyUncachedEdDSA(benchmark::State& state) { Full(state, Alg::kEdDSA); }
BENCHMARK(BM_RsaFloor);
BENCHMARK(BM_VerifyUncachedRs256);
BENCHMARK(BM_EcdsaFloor);
BENCHMARK(BM_VerifyUncachedEs256);
BENCHMARK(BM_Ed25519Floor);
BENCHMARK(BM_VerifyUncachedEdDSA);

void CacheHit(benchmark::State& state, std::string_view token, std::shared_ptr<const KeySet> keys) {
  const Policy policy;
  KeySetPublisher publisher(std::move(keys));
  TokenCache::Options options;
  options.max_entries = 1024;
  auto cache = TokenCache::Create(options);
  if (!cache.ok()) std::abort();
  Validator validator(policy, publisher, cache->get());
  if (validator.Validate(token, "", false, kBenchNow).status != Status::kOk) {
    state.SkipWithError("the token does not verify");
    return;
  }
  for (auto _ : state) {
    ValidationResult r = validator.Validate(token, "", false, kBenchNow);
    if (!r.cache_hit) {
      state.SkipWithError("not a cache hit");
      break;
    }
    benchmark::DoNotOptimize(r.status);
  }
}

void BM_CacheHitRs256(benchmark::State& state) {
  const Fixture& f = Get(Alg::kRS256);
  CacheHit(state, f.token, f.keys);
}
void BM_CacheHitHs256(benchmark::State& state) {
  std::vector<KeyMaterial> material(1);
  material[0].kid = std::string(kBenchKid);
  material[0].secret = SecretBytes(bench::kBenchKey);
  auto ring = Keyring::Build(std::move(material));
  if (!ring.ok()) std::abort();
  CacheHit(state, bench::kBenchToken, KeySet::Make(*ring, RevocationList::Empty()));
}
void BM_CacheHitKubernetes(benchmark::State& state) {
  const Fixture& f = Get(Alg::kRS256);
  static const std::string* token = [&f] {
    const std::string header =
        std::string(R"({"alg":"RS256","kid":")") + std::string(kBenchKid) + "\"}";
    const std::string payload =
        R"({"aud":["https://kubernetes.default.svc.cluster.local","vault"],"exp":4102444800,)"
        R"("iat":1700000000,"iss":"https://kubernetes.default.svc.cluster.local",)"
        R"("jti":"4f9c0a1e-2d3b-4c5d-8e6f-7a8b9c0d1e2f","kubernetes.io":{"namespace":"shop",)"
        R"("node":{"name":"node-1","uid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"},"pod":)"
        R"({"name":"checkout-7d9f8b6c5-x2x4q","uid":"a1b2c3d4-e5f6-7081-92a3-b4c5d6e7f809"},)"
        R"("serviceaccount":{"name":"checkout","uid":"11223344-5566-7788-99aa-bbccddeeff00"},)"
        R"("warnafter":1700003000},"nbf":1700000000,"sub":"system:serviceaccount:shop:checkout"})";
    return new std::string(*SignJws(Alg::kRS256, header, payload, f.private_key.get()));
  }();
  CacheHit(state, *token, f.keys);
}
BENCHMARK(BM_CacheHitHs256);
BENCHMARK(BM_CacheHitRs256);
BENCHMARK(BM_CacheHitKubernetes);

}  // namespace
}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// The HMAC floor of a verification: HMAC-SHA256 over the signing input
// (header.payload) of the shared benchmark token, computed the way the
// verifier does (HmacComputer over precomputed inner/outer digest states),
// beside the OpenSSL alternatives it was chosen over:
//   BM_HmacEvpCopy              the same precomputed states held in EVP_MD_CTXs,
//                               copied per call with EVP_MD_CTX_copy_ex (which
//                               allocates), as HmacComputer did before
//   BM_HmacOneShot              HMAC(): keys a fresh context per call
//   BM_HmacEvpMacCtxDup         EVP_MAC_CTX_dup of a keyed context per call
//   BM_HmacEvpMacReinitNullKey  one keyed EVP_MAC_CTX restarted with a NULL key
//                               (correct only on OpenSSL >= 3.0.3)
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bench/micro/bench_token.h"
#include "daemon/auth/hmac.h"

namespace {

using tokend::bench::kBenchKey;
using tokend::bench::kBenchToken;

std::string_view SigningInput() { return kBenchToken.substr(0, kBenchToken.rfind('.')); }

const uint8_t* KeyBytes() { return reinterpret_cast<const uint8_t*>(kBenchKey.data()); }
const uint8_t* InputBytes() { return reinterpret_cast<const uint8_t*>(SigningInput().data()); }

void BM_HmacFloor(benchmark::State& state) {
  auto key = tokend::auth::HmacKey::Create(tokend::auth::Alg::kHS256,
                                           std::span(KeyBytes(), kBenchKey.size()));
  if (!key.ok()) {
    state.SkipWithError("HmacKey::Create failed");
    return;
  }
  tokend::auth::HmacComputer computer;
  const std::string_view input = SigningInput();
  uint8_t mac[tokend::auth::kMaxMacSize];
  uint8_t want[EVP_MAX_MD_SIZE];
  unsigned int want_len = 0;
  if (!computer.Compute(**key, input, mac) ||
      HMAC(EVP_sha256(), kBenchKey.data(), static_cast<int>(kBenchKey.size()), InputBytes(),
           input.size(), want, &want_len) == nullptr ||
      want_len != 32 || std::memcmp(mac, want, 32) != 0) {
    state.SkipWithError("HmacComputer disagrees with HMAC()");
    return;
  }
  for (auto _ : state) {
    if (!computer.Compute(**key, input, mac)) state.SkipWithError("Compute failed");
    benchmark::DoNotOptimize(mac);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_HmacFloor);

void BM_HmacOneShot(benchmark::State& state) {
  const std::string_view input = SigningInput();
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    if (HMAC(EVP_sha256(), kBenchKey.data(), static_cast<int>(kBenchKey.size()), InputBytes(),
             input.size(), mac, &len) == nullptr) {
      state.SkipWithError("HMAC failed");
    }
    benchmark::DoNotOptimize(mac);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_HmacOneShot);

// A keyed HMAC-SHA256 EVP_MAC_CTX, or null.
EVP_MAC_CTX* KeyedMacContext(EVP_MAC* mac) {
  EVP_MAC_CTX* ctx = mac == nullptr ? nullptr : EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (ctx != nullptr && EVP_MAC_init(ctx, KeyBytes(), kBenchKey.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    ctx = nullptr;
  }
  return ctx;
}

void BM_HmacEvpMacCtxDup(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = KeyedMacContext(mac);
  if (keyed == nullptr) {
    state.SkipWithError("EVP_MAC setup failed");
    EVP_MAC_free(mac);
    return;
  }
  const std::string_view input = SigningInput();
  uint8_t out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    if (ctx == nullptr || EVP_MAC_update(ctx, InputBytes(), input.size()) != 1 ||
        EVP_MAC_final(ctx, out, &len, sizeof out) != 1) {
      state.SkipWithError("EVP_MAC failed");
    }
    EVP_MAC_CTX_free(ctx);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(mac);
}
BENCHMARK(BM_HmacEvpMacCtxDup);

void BM_HmacEvpMacReinitNullKey(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = KeyedMacContext(mac);
  if (ctx == nullptr) {
    state.SkipWithError("EVP_MAC setup failed");
    EVP_MAC_free(mac);
    return;
  }
  const std::string_view input = SigningInput();
  uint8_t out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  for (auto _ : state) {
    if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx, InputBytes(), input.size()) != 1 ||
        EVP_MAC_final(ctx, out, &len, sizeof out) != 1) {
      state.SkipWithError("EVP_MAC failed");
    }
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}
BENCHMARK(BM_HmacEvpMacReinitNullKey);

// An EVP_MD_CTX that has absorbed kBenchKey, zero-padded, XOR `pad`; or null.
EVP_MD_CTX* PaddedEvpState(uint8_t pad) {
  uint8_t block[64] = {};
  std::memcpy(block, KeyBytes(), kBenchKey.size());
  for (uint8_t& b : block) b ^= pad;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx != nullptr && (EVP_DigestInit_ex2(ctx, EVP_sha256(), nullptr) != 1 ||
                         EVP_DigestUpdate(ctx, block, sizeof block) != 1)) {
    EVP_MD_CTX_free(ctx);
    ctx = nullptr;
  }
  return ctx;
}

void BM_HmacEvpCopy(benchmark::State& state) {
  EVP_MD_CTX* inner = PaddedEvpState(0x36);
  EVP_MD_CTX* outer = PaddedEvpState(0x5c);
  EVP_MD_CTX* work = EVP_MD_CTX_new();
  const std::string_view input = SigningInput();
  uint8_t inner_hash[32], mac[32], want[EVP_MAX_MD_SIZE];
  unsigned int len = 0, want_len = 0;
  const auto compute = [&] {
    return EVP_MD_CTX_copy_ex(work, inner) == 1 &&
           EVP_DigestUpdate(work, InputBytes(), input.size()) == 1 &&
           EVP_DigestFinal_ex(work, inner_hash, &len) == 1 &&
           EVP_MD_CTX_copy_ex(work, outer) == 1 &&
           EVP_DigestUpdate(work, inner_hash, sizeof inner_hash) == 1 &&
           EVP_DigestFinal_ex(work, mac, &len) == 1;
  };
  if (inner == nullptr || outer == nullptr || work == nullptr || !compute() ||
      HMAC(EVP_sha256(), kBenchKey.data(), static_cast<int>(kBenchKey.size()), InputBytes(),
           input.size(), want, &want_len) == nullptr ||
      std::memcmp(mac, want, sizeof mac) != 0) {
    state.SkipWithError("the EVP_MD_CTX HMAC disagrees with HMAC()");
  } else {
    for (auto _ : state) {
      if (!compute()) state.SkipWithError("EVP digest failed");
      benchmark::DoNotOptimize(mac);
      benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
  }
  EVP_MD_CTX_free(work);
  EVP_MD_CTX_free(inner);
  EVP_MD_CTX_free(outer);
}
BENCHMARK(BM_HmacEvpCopy);

}  // namespace

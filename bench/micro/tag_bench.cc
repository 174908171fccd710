// SPDX-License-Identifier: Apache-2.0
// The token cache's keyed tag (token_tag.h) alone, per implementation and
// token length: 200 bytes is an HS256 token, 620 an RS256 one, 1100 a
// Kubernetes ServiceAccount token.
//
//   BM_TokenTag/<impl>/<bytes>   impl 0 vpclmulqdq, 1 pclmulqdq, 2 highwayhash
//   BM_TokenTagThroughput/<impl>/<bytes>   eight independent tokens per
//                                iteration (the tags' latencies overlap, as
//                                for the frames of one read)
//   BM_EvpSiphash128/<bytes>     OpenSSL's SipHash-2-4 (128-bit output)
//                                through EVP_MAC with a reused context: the
//                                library alternative token_tag.h compares with
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <string>

#include "benchmark/benchmark.h"
#include "daemon/auth/token_tag.h"

namespace tokend::bench {
namespace {

using auth::TokenTagger;

std::array<uint8_t, TokenTagger::kKeyBytes> BenchKey() {
  std::array<uint8_t, TokenTagger::kKeyBytes> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0x5a ^ (i * 29));
  return key;
}

std::string TokenOf(size_t bytes, char salt) {
  std::string token(bytes, 'A');
  for (size_t i = 0; i < bytes; ++i) token[i] = static_cast<char>('A' + (i * 7 + salt) % 26);
  return token;
}

bool Prepare(benchmark::State& state, TokenTagger::Impl impl) {
  state.SetLabel(TokenTagger::Name(impl));
  if (!TokenTagger::Supported(impl)) {
    state.SkipWithError("not supported on this CPU");
    return false;
  }
  return true;
}

void BM_TokenTag(benchmark::State& state) {
  const auto impl = static_cast<TokenTagger::Impl>(state.range(0));
  if (!Prepare(state, impl)) return;
  TokenTagger tagger(BenchKey(), impl);
  const std::string token = TokenOf(static_cast<size_t>(state.range(1)), 0);
  for (auto _ : state) {
    std::array<uint64_t, 2> tag = tagger.Tag(token);
    benchmark::DoNotOptimize(tag);
  }
}

void BM_TokenTagThroughput(benchmark::State& state) {
  const auto impl = static_cast<TokenTagger::Impl>(state.range(0));
  if (!Prepare(state, impl)) return;
  TokenTagger tagger(BenchKey(), impl);
  std::array<std::string, 8> tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = TokenOf(static_cast<size_t>(state.range(1)), static_cast<char>(i));
  }
  for (auto _ : state) {
    for (const std::string& token : tokens) {
      std::array<uint64_t, 2> tag = tagger.Tag(token);
      benchmark::DoNotOptimize(tag);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * tokens.size()));
}

void BM_EvpSiphash128(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  const std::array<uint8_t, TokenTagger::kKeyBytes> key = BenchKey();
  unsigned int size = 16;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
                         OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx, key.data(), 16, params) != 1) {
    state.SkipWithError("no SipHash in this OpenSSL");
  } else {
    const std::string token = TokenOf(static_cast<size_t>(state.range(0)), 0);
    std::array<unsigned char, 16> tag;
    size_t out = 0;
    for (auto _ : state) {
      EVP_MAC_init(ctx, nullptr, 0, nullptr);
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(token.data()), token.size());
      EVP_MAC_final(ctx, tag.data(), &out, tag.size());
      benchmark::DoNotOptimize(tag);
    }
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}
BENCHMARK(BM_EvpSiphash128)->Arg(200)->Arg(620);

void Shapes(benchmark::internal::Benchmark* b) {
  for (int64_t impl : {0, 1, 2}) {
    for (int64_t bytes : {200, 620, 1100}) b->Args({impl, bytes});
  }
}
BENCHMARK(BM_TokenTag)->Apply(Shapes);
BENCHMARK(BM_TokenTagThroughput)->Apply(Shapes);

}  // namespace
}  // namespace tokend::bench

// SPDX-License-Identifier: Apache-2.0
// The parsing half of a verification on the shared benchmark token: base64url
// decoding, the JWS split, the header (memo hit and cold), the claims JSON
// and the policy checks. Each figure is a part of one full verification.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/micro/bench_token.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/claims.h"
#include "daemon/auth/jws.h"
#include "daemon/auth/policy.h"

namespace tokend::bench {
namespace {

using auth::AlgSet;
using auth::Base64UrlDecodedSize;
using auth::ClaimsParser;
using auth::ClaimsView;
using auth::JwsSegments;
using auth::kJsonPadding;
using auth::Status;

JwsSegments BenchSegments() {
  JwsSegments seg;
  if (auth::SplitCompact(kBenchToken, &seg) != Status::kOk) std::abort();
  return seg;
}

// The payload segment (164 characters -> 123 bytes), as the verifier decodes it.
void BM_Base64UrlDecode(benchmark::State& state) {
  const std::string_view payload = BenchSegments().payload;
  std::vector<uint8_t> out(Base64UrlDecodedSize(payload.size()) + kJsonPadding);
  for (auto _ : state) {
    size_t n = 0;
    benchmark::DoNotOptimize(payload.data());
    if (!auth::Base64UrlDecodeTo(payload, out.data(), &n)) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_Base64UrlDecode);

// The same segment with each implementation this CPU can run.
void BM_Base64UrlDecodeImpl(benchmark::State& state) {
  const auto impl = static_cast<auth::base64_internal::Impl>(state.range(0));
  if (!auth::base64_internal::Supported(impl)) {
    state.SkipWithError("not supported on this CPU");
    return;
  }
  const std::string_view payload = BenchSegments().payload;
  std::vector<uint8_t> out(Base64UrlDecodedSize(payload.size()));
  for (auto _ : state) {
    size_t n = 0;
    benchmark::DoNotOptimize(payload.data());
    if (!auth::base64_internal::DecodeUrlWith(impl, payload, out.data(), &n)) {
      state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Base64UrlDecodeImpl)->ArgName("scalar0_avx2_1_avx512_2")->DenseRange(0, 2);

void BM_SplitCompact(benchmark::State& state) {
  JwsSegments seg;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kBenchToken.data());
    if (auth::SplitCompact(kBenchToken, &seg) != Status::kOk) state.SkipWithError("split");
    benchmark::DoNotOptimize(seg);
  }
}
BENCHMARK(BM_SplitCompact);

// The steady state: every token of an issuer repeats the header bytes.
void BM_ParseHeaderMemoHit(benchmark::State& state) {
  const std::string_view header = BenchSegments().header;
  auth::HeaderParser parser;
  const auth::JoseHeader* h = nullptr;
  for (auto _ : state) {
    if (parser.Parse(header, AlgSet::AllHmac(), &h) != Status::kOk) state.SkipWithError("header");
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseHeaderMemoHit);

// A header never seen: base64url and JSON every time (a fresh parser would
// also measure its allocation, so two headers alternate past the memo).
void BM_ParseHeaderCold(benchmark::State& state) {
  std::vector<std::string> headers;
  for (int i = 0; i < 8; ++i) {
    headers.push_back(
        auth::Base64UrlEncode(R"({"alg":"HS256","kid":"bench)" + std::to_string(i) + "\"}"));
  }
  auth::HeaderParser parser;
  const auth::JoseHeader* h = nullptr;
  size_t i = 0;
  for (auto _ : state) {
    if (parser.Parse(headers[i], AlgSet::AllHmac(), &h) != Status::kOk) {
      state.SkipWithError("header");
    }
    i = (i + 1) % headers.size();  // 8 headers through a 4-entry memo: always a miss
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseHeaderCold);

// kBenchPayloadJson from a buffer with kJsonPadding bytes after it, as the
// verifier leaves the decoded payload.
void ParseClaimsWith(benchmark::State& state, ClaimsParser::Path path) {
  std::string buf(kBenchPayloadJson);
  buf.append(kJsonPadding, '\0');
  const std::string_view json(buf.data(), kBenchPayloadJson.size());
  ClaimsParser parser(path);
  ClaimsView view;
  for (auto _ : state) {
    benchmark::DoNotOptimize(json.data());
    if (parser.Parse(json, &view) != Status::kOk) state.SkipWithError("claims");
    benchmark::DoNotOptimize(view);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}

// As the verifier parses: the flat scan (flat_claims.h), which takes this
// payload whole.
void BM_ParseClaims(benchmark::State& state) {
  ParseClaimsWith(state, ClaimsParser::Path::kFlatFirst);
}
BENCHMARK(BM_ParseClaims);

// The same payload through simdjson's DOM parser alone, the path every
// document outside the flat shape takes.
void BM_ParseClaimsDom(benchmark::State& state) {
  ParseClaimsWith(state, ClaimsParser::Path::kDomOnly);
}
BENCHMARK(BM_ParseClaimsDom);

// Payload decoding and claims parsing together: the part of a verification
// after the MAC.
void BM_DecodeAndParseClaims(benchmark::State& state) {
  const std::string_view payload = BenchSegments().payload;
  std::vector<uint8_t> buf(Base64UrlDecodedSize(payload.size()) + kJsonPadding);
  ClaimsParser parser;
  ClaimsView view;
  for (auto _ : state) {
    size_t n = 0;
    if (!auth::Base64UrlDecodeTo(payload, buf.data(), &n)) state.SkipWithError("decode");
    if (parser.Parse(std::string_view(reinterpret_cast<const char*>(buf.data()), n), &view) !=
        Status::kOk) {
      state.SkipWithError("claims");
    }
    benchmark::DoNotOptimize(view);
  }
}
BENCHMARK(BM_DecodeAndParseClaims);

void BM_CheckClaims(benchmark::State& state) {
  std::string buf(kBenchPayloadJson);
  buf.append(kJsonPadding, '\0');
  ClaimsParser parser;
  ClaimsView view;
  if (parser.Parse(std::string_view(buf.data(), kBenchPayloadJson.size()), &view) != Status::kOk) {
    std::abort();
  }
  auth::Policy policy;
  policy.audiences = {"other.example", "api.example"};
  policy.issuers = {"https://idp.example"};
  const auto revoked = auth::RevocationList::Parse("some-jti\n");
  for (auto _ : state) {
    benchmark::DoNotOptimize(view);
    const Status s = auth::CheckClaims(policy, view, kBenchToken, "", revoked.get(), kBenchNow);
    if (s != Status::kOk) state.SkipWithError("policy");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CheckClaims);

}  // namespace
}  // namespace tokend::bench

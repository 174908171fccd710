// SPDX-License-Identifier: Apache-2.0
// bench_token.h
//
// The one token every micro benchmark uses, so their figures compare: an
// HS256 JWT of 252 bytes with six claims, signed with kBenchKey.
//   header:  {"alg":"HS256","kid":"bench"}
//   payload:
//   {"iss":"https://idp.example","sub":"user-1234567890","aud":"api.example","iat":1700000000,"exp":4102444800,"jti":"a1b2c3d4e5"}
#ifndef TOKEND_BENCH_MICRO_BENCH_TOKEN_H_
#define TOKEND_BENCH_MICRO_BENCH_TOKEN_H_

#include <string_view>

namespace tokend::bench {

inline constexpr std::string_view kBenchKey = "tokend-bench-key-0123456789abcdef-32+";
inline constexpr std::string_view kBenchKid = "bench";
inline constexpr std::string_view kBenchHeaderJson = R"({"alg":"HS256","kid":"bench"})";
inline constexpr std::string_view kBenchPayloadJson =
    R"({"iss":"https://idp.example","sub":"user-1234567890","aud":"api.example","iat":1700000000,"exp":4102444800,"jti":"a1b2c3d4e5"})";
inline constexpr std::string_view kBenchToken =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJlbmNoIn0."
    "eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoidXNlci0xMjM0NTY3ODkwIiwiYXVkIjoiYXBpLmV4YW1wbG"
    "UiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMCwianRpIjoiYTFiMmMzZDRlNSJ9."
    "XlrLDrwl21MjTnZ5DrmuCyoO0hjiRJjPcieDlZEAFSY";
// The token is valid from iat until exp (2100-01-01); benchmarks pass this as now.
inline constexpr long long kBenchNow = 1800000000;

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_MICRO_BENCH_TOKEN_H_

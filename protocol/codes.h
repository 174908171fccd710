// SPDX-License-Identifier: Apache-2.0
// codes.h
//
// The one table of the wire protocol's status codes and algorithm codes
// and their names (docs/protocol.md, "VALIDATE response" and "Status
// codes"). The daemon, its HTTP front, /metrics, the client library,
// tokenctl and the benchmarks all take names from here.
//
// Adding a status or an algorithm is one line in kStatuses or kAlgs; a
// static_assert below keeps kStatuses in code order. Names are string
// literals: data() is NUL-terminated and lives for the program.
//
// Thread-safety: constants and pure functions.
#ifndef TOKEND_PROTOCOL_CODES_H_
#define TOKEND_PROTOCOL_CODES_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace tokend::protocol {

struct CodeName {
  uint8_t code;
  std::string_view name;
};

// Status codes: every code from 0 up, in order, with no gap (a status's
// code is its index; counters are arrays of kStatusCount).
inline constexpr CodeName kStatuses[] = {
    {0, "OK"},
    {1, "MALFORMED"},
    {2, "BAD_SIGNATURE"},
    {3, "UNKNOWN_KEY"},
    {4, "ALG_NOT_ALLOWED"},
    {5, "EXPIRED"},
    {6, "NOT_YET_VALID"},
    {7, "AUDIENCE_MISMATCH"},
    {8, "ISSUER_MISMATCH"},
    {9, "REVOKED"},
    {10, "TOO_LARGE"},
    {11, "MISSING_CLAIM"},
    {12, "UNSUPPORTED_HEADER"},
    {13, "UNKNOWN_TOKEN"},
};

// Algorithm codes of the response's `alg` byte, named as in a JWS header's
// "alg". Code 0 (unknown) is not listed: AlgName() answers "unknown" for
// it and for any code not listed. Codes need not be contiguous.
inline constexpr CodeName kAlgs[] = {
    {1, "HS256"},  {2, "HS384"},  {3, "HS512"},  {4, "RS256"},   {5, "RS384"},
    {6, "RS512"},  {7, "PS256"},  {8, "PS384"},  {9, "PS512"},   {10, "ES256"},
    {11, "ES384"}, {12, "ES512"}, {13, "EdDSA"}, {64, "apikey"},
};

inline constexpr size_t kStatusCount = std::size(kStatuses);

inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusMalformed = 1;
inline constexpr uint8_t kStatusAudienceMismatch = 7;
inline constexpr uint8_t kAlgUnknown = 0;

// The name given to a status code outside kStatuses.
inline constexpr std::string_view kUnknownStatusName = "UNKNOWN";
// The name of alg 0 and of any code outside kAlgs.
inline constexpr std::string_view kUnknownAlgName = "unknown";

// StatusName()
//
// The name of status `code` ("OK", "EXPIRED", ...), or "UNKNOWN".
constexpr std::string_view StatusName(uint8_t code) {
  return code < kStatusCount ? kStatuses[code].name : kUnknownStatusName;
}

// AlgName()
//
// The name of algorithm `code` ("HS256", ...), or "unknown".
constexpr std::string_view AlgName(uint8_t code) {
  for (const CodeName& a : kAlgs) {
    if (a.code == code) return a.name;
  }
  return kUnknownAlgName;
}

// AlgFromName()
//
// The code of the algorithm spelled exactly (case-sensitive) `name`, or
// kAlgUnknown.
constexpr uint8_t AlgFromName(std::string_view name) {
  for (const CodeName& a : kAlgs) {
    if (a.name == name) return a.code;
  }
  return kAlgUnknown;
}

namespace codes_internal {
constexpr bool StatusesInCodeOrder() {
  for (size_t i = 0; i < kStatusCount; ++i) {
    if (kStatuses[i].code != i) return false;
  }
  return true;
}
constexpr bool AlgsDistinct() {
  for (size_t i = 0; i < std::size(kAlgs); ++i) {
    if (kAlgs[i].code == kAlgUnknown) return false;
    for (size_t j = i + 1; j < std::size(kAlgs); ++j) {
      if (kAlgs[i].code == kAlgs[j].code || kAlgs[i].name == kAlgs[j].name) return false;
    }
  }
  return true;
}
}  // namespace codes_internal

static_assert(codes_internal::StatusesInCodeOrder(), "kStatuses: code i must be row i");
static_assert(codes_internal::AlgsDistinct(), "kAlgs: codes and names distinct, none 0");

}  // namespace tokend::protocol

#endif  // TOKEND_PROTOCOL_CODES_H_

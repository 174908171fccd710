// SPDX-License-Identifier: Apache-2.0
// base64url.h
//
// Strict base64url (RFC 7515 §2) for JWS segments, and the lenient standard
// base64 that `.b64` key files use. Pure functions: thread-safe, no state.
#ifndef TOKEND_DAEMON_AUTH_BASE64URL_H_
#define TOKEND_DAEMON_AUTH_BASE64URL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tokend::auth {

// Base64UrlDecodedSize()
//
// Bytes that decoding `encoded_len` characters yields (an upper bound when
// the length is invalid).
constexpr size_t Base64UrlDecodedSize(size_t encoded_len) {
  return encoded_len / 4 * 3 + (encoded_len % 4 == 0 ? 0 : encoded_len % 4 - 1);
}

// Base64UrlDecode()
//
// Decodes unpadded base64url from `in` into `out` (replacing its contents).
// Returns false, leaving `out` unspecified, on padding, on a character
// outside the alphabet, on a length of 1 mod 4, or on non-zero trailing
// bits: every byte string has exactly one accepted encoding.
[[nodiscard]] bool Base64UrlDecode(std::string_view in, std::string& out);

// Base64UrlDecodeTo()
//
// As Base64UrlDecode(), into `out`, which must have room for
// Base64UrlDecodedSize(in.size()) bytes. Sets *out_len on success.
[[nodiscard]] bool Base64UrlDecodeTo(std::string_view in, uint8_t* out, size_t* out_len);

// Base64UrlFindDots()
//
// One pass over a compact JWS: returns false when `in` holds any byte other
// than [A-Za-z0-9_-] and '.'. Otherwise sets *count to the number of dots
// and positions[0..min(*count, 2)) to where the first two are.
[[nodiscard]] bool Base64UrlFindDots(std::string_view in, size_t positions[2], size_t* count);

// Base64UrlEncode()
//
// Encodes `in` as unpadded base64url.
std::string Base64UrlEncode(std::string_view in);

// Base64DecodeLenient()
//
// Decodes a key file's text: standard or URL alphabet (not mixed), padding
// optional but correct when present, no whitespace inside (surrounding
// whitespace, such as a final newline, is ignored), zero trailing bits.
// Returns false, leaving `out` unspecified, otherwise.
[[nodiscard]] bool Base64DecodeLenient(std::string_view in, std::string& out);

// Implementation selection, for tests and benchmarks. Base64UrlDecodeTo()
// uses Best(), chosen once from the CPU's features.
namespace base64_internal {

enum class Impl { kScalar, kAvx2, kAvx512Vbmi };

// Whether this CPU can run `impl`.
bool Supported(Impl impl);
Impl Best();
// Base64UrlDecodeTo() with `impl`. REQUIRES: Supported(impl).
[[nodiscard]] bool DecodeUrlWith(Impl impl, std::string_view in, uint8_t* out, size_t* out_len);
// Base64UrlFindDots() with `impl`. REQUIRES: Supported(impl).
[[nodiscard]] bool FindDotsWith(Impl impl, std::string_view in, size_t positions[2], size_t* count);

}  // namespace base64_internal
}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_BASE64URL_H_

// SPDX-License-Identifier: Apache-2.0
// minter.h
//
// Builds signed compact JWS tokens: for `tokenctl mint`, tests and
// benchmarks. Not on the request path (it keys a fresh HMAC each call).
// Pure functions: thread-safe.
#ifndef TOKEND_TOOLS_MINTER_MINTER_H_
#define TOKEND_TOOLS_MINTER_MINTER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "daemon/auth/status.h"

namespace tokend::auth {

// MintToken()
//
// base64url(header_json) '.' base64url(payload_json) '.' base64url(MAC),
// the MAC being HMAC-`alg` (an HS alg) under `secret`. The JSON is used as
// given, byte for byte, so tests can mint deliberately odd tokens.
std::string MintToken(Alg alg, std::string_view header_json, std::string_view payload_json,
                      std::span<const uint8_t> secret);
std::string MintToken(Alg alg, std::string_view header_json, std::string_view payload_json,
                      std::string_view secret);

// JwtHeaderJson()
//
// {"alg":"HS256","typ":"JWT"} with ,"kid":"<kid>" when `kid` is non-empty
// (`kid` is JSON-escaped).
std::string JwtHeaderJson(Alg alg, std::string_view kid);

// JsonQuote()
//
// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

}  // namespace tokend::auth

#endif  // TOKEND_TOOLS_MINTER_MINTER_H_

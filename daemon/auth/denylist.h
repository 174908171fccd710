// SPDX-License-Identifier: Apache-2.0
// denylist.h
//
// Secrets published in well-known products' documentation and examples
// (Nacos's default token secret, jwt.io's sample secrets, Supabase's sample
// JWT secret, ...). Anyone can sign a token with them, so tokend refuses to
// load them, in every form a key file may hold them: the published text, what
// that text decodes to as base64/base64url, and the text's base64/base64url
// encodings (padded or not), each also with surrounding whitespace.
//
// Pure function over a table built once on first use: thread-safe. The
// published texts are listed in denylist.cc; the table built from them holds
// the SHA-256 digests of their forms, and a candidate is compared by digest.
#ifndef TOKEND_DAEMON_AUTH_DENYLIST_H_
#define TOKEND_DAEMON_AUTH_DENYLIST_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace tokend::auth {

// IsPublishedSecret()
//
// True when `secret`, as is or with leading and trailing ASCII whitespace
// removed, is one of the forms above of a published secret.
bool IsPublishedSecret(std::span<const uint8_t> secret);
bool IsPublishedSecret(std::string_view secret);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_DENYLIST_H_

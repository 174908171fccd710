// SPDX-License-Identifier: Apache-2.0
// jws.h
//
// The JWS compact serialization layer: splitting a token into its three
// segments and parsing its JOSE header. Pure functions plus a per-thread
// HeaderParser (not thread-safe) that remembers recent headers, since every
// token from one issuer repeats the same header bytes.
#ifndef TOKEND_DAEMON_AUTH_JWS_H_
#define TOKEND_DAEMON_AUTH_JWS_H_

#include <memory>
#include <string>
#include <string_view>

#include "daemon/auth/status.h"

namespace tokend::auth {

struct JwsSegments {
  std::string_view header;         // base64url, as in the token
  std::string_view payload;        // base64url
  std::string_view signature;      // base64url
  std::string_view signing_input;  // header '.' payload: what the MAC covers
};

// SplitCompact()
//
// Splits `token` into exactly three segments separated by '.', each made
// only of [A-Za-z0-9_-]. Returns kMalformed otherwise. Segments may be empty
// here: an empty signature is answered later (kAlgNotAllowed for `none`,
// kBadSignature for an HMAC alg), an empty header or payload is kMalformed
// when decoded.
Status SplitCompact(std::string_view token, JwsSegments* out);

struct JoseHeader {
  Alg alg = Alg::kUnknown;  // a known alg; anything else is refused by Parse
  bool has_kid = false;
  std::string kid;
};

class HeaderParser {
 public:
  HeaderParser();
  ~HeaderParser();
  HeaderParser(const HeaderParser&) = delete;
  HeaderParser& operator=(const HeaderParser&) = delete;

  // Parse()
  //
  // Decodes the base64url header segment and parses it. Returns kOk with
  // *out filled; kMalformed (bad base64url, not one JSON object, invalid
  // JSON anywhere, nesting deeper than 64, duplicate member names at any
  // depth, `alg` missing or not a string, `kid`, `typ` or `cty` not a
  // string); kAlgNotAllowed (`none` in any spelling, any alg that is not
  // exactly one of HS256/384/512, RS256/384/512, PS256/384/512,
  // ES256/384/512, EdDSA, or not in `allowed`);
  // kUnsupportedHeader (`crit`, `b64`, `jku`, `x5u`, `jwk`, `x5c`, `cty` of
  // JWT in any case, or the JWE parameters enc, zip, epk, apu, apv, iv,
  // tag, p2s, p2c). When several apply, that order decides. Other members
  // are ignored. *out is also filled when the header parsed but its known
  // alg is not in `allowed` (kAlgNotAllowed) or it carries an unsupported
  // parameter (kUnsupportedHeader), so that the caller can report the alg;
  // it is left alone on every other failure. The pointer stays valid until
  // the next call.
  Status Parse(std::string_view header_b64, AlgSet allowed, const JoseHeader** out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_JWS_H_

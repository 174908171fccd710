// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point: the JWS layer on arbitrary bytes. The first byte
// picks what the rest is: a header segment as it would appear in a token, or
// JSON to be base64url-encoded first (so the JSON parser sees arbitrary
// bytes), or a whole compact token for SplitCompact. A HeaderParser that has
// seen the header before (the memo) must answer exactly as a fresh one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/auth/base64url.h"
#include "daemon/auth/jws.h"

namespace {

using tokend::auth::AlgSet;
using tokend::auth::HeaderParser;
using tokend::auth::JoseHeader;
using tokend::auth::Status;

void CheckHeader(HeaderParser& warm, std::string_view header_b64, AlgSet allowed) {
  HeaderParser fresh;
  const JoseHeader* a = nullptr;
  const JoseHeader* b = nullptr;
  const JoseHeader* c = nullptr;
  const Status first = warm.Parse(header_b64, allowed, &a);
  const Status fresh_status = fresh.Parse(header_b64, allowed, &b);
  if (first != fresh_status) std::abort();
  const Status second = warm.Parse(header_b64, allowed, &c);  // may come from the memo
  if (second != first) std::abort();
  if (first == Status::kOk) {
    if (!allowed.Contains(c->alg) || c->alg != b->alg || c->kid != b->kid ||
        c->has_kid != b->has_kid) {
      std::abort();
    }
  } else if (first != Status::kMalformed && first != Status::kAlgNotAllowed &&
             first != Status::kUnsupportedHeader) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static HeaderParser* warm = new HeaderParser();  // keeps its memo across inputs
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  AlgSet allowed;
  if (mode & 0x10) allowed.Add(tokend::auth::Alg::kHS256);
  if (mode & 0x20) allowed.Add(tokend::auth::Alg::kHS384);
  if (mode & 0x40) allowed.Add(tokend::auth::Alg::kHS512);
  switch (mode % 3) {
    case 0:
      CheckHeader(*warm, rest, allowed);
      break;
    case 1:
      CheckHeader(*warm, tokend::auth::Base64UrlEncode(rest), allowed);
      break;
    default: {
      tokend::auth::JwsSegments seg;
      if (tokend::auth::SplitCompact(rest, &seg) == Status::kOk) {
        const std::string joined = std::string(seg.header) + "." + std::string(seg.payload) + "." +
                                   std::string(seg.signature);
        if (joined != rest) std::abort();
        if (seg.signing_input != rest.substr(0, seg.header.size() + 1 + seg.payload.size())) {
          std::abort();
        }
        CheckHeader(*warm, seg.header, allowed);
      }
      break;
    }
  }
  return 0;
}

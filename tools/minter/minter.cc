// SPDX-License-Identifier: Apache-2.0
#include "tools/minter/minter.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

const EVP_MD* DigestFor(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return EVP_sha256();
    case Alg::kHS384:
      return EVP_sha384();
    case Alg::kHS512:
      return EVP_sha512();
    default:
      break;
  }
  return nullptr;
}

}  // namespace

std::string MintToken(Alg alg, std::string_view header_json, std::string_view payload_json,
                      std::span<const uint8_t> secret) {
  std::string token = Base64UrlEncode(header_json);
  token.push_back('.');
  token += Base64UrlEncode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const EVP_MD* md = DigestFor(alg);
  if (md == nullptr || HMAC(md, secret.data(), static_cast<int>(secret.size()),
                            reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac,
                            &mac_len) == nullptr) {
    mac_len = 0;  // an unsigned token: never valid, and visibly so
  }
  token.push_back('.');
  token += Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  return token;
}

std::string MintToken(Alg alg, std::string_view header_json, std::string_view payload_json,
                      std::string_view secret) {
  return MintToken(
      alg, header_json, payload_json,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string JwtHeaderJson(Alg alg, std::string_view kid) {
  std::string h = "{\"alg\":\"";
  h += AlgName(alg);
  h += "\",\"typ\":\"JWT\"";
  if (!kid.empty()) {
    h += ",\"kid\":";
    h += JsonQuote(kid);
  }
  h.push_back('}');
  return h;
}

}  // namespace tokend::auth

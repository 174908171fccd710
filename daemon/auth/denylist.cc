// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/denylist.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

// Published secrets, as their documentation prints them. They are public by
// definition; what makes them dangerous is that they are public.
constexpr std::string_view kPublishedSecrets[] = {
    // Nacos: documented default of nacos.core.auth.plugin.nacos.token.secret.key
    // and of the Docker image's NACOS_AUTH_TOKEN; Nacos decodes it as base64.
    "SecretKey012345678901234567890123456789012345678901234567890123456789",
    // Nacos: the same default as shipped base64-encoded in configuration.
    "U2VjcmV0S2V5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODk=",
    // Nacos: the example custom key of its authentication guide
    // ("ThisIsMyCustomSecretKey012345678").
    "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=",
    // jwt.io's debugger: the sample secret of each HS algorithm.
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    // The secret of countless JWT library READMEs.
    "secret",
    // Supabase: the self-hosting .env.example and the local development stack.
    "your-super-secret-jwt-token-with-at-least-32-characters-long",
    "super-secret-jwt-token-with-at-least-32-characters-long",
};

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view bytes) {
  Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, EVP_sha256(), nullptr) != 1) {
    d.fill(0);
  }
  return d;
}

std::string StandardAlphabet(std::string url) {
  for (char& c : url) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  return url;
}

std::string Padded(std::string s) {
  while (s.size() % 4 != 0) s.push_back('=');
  return s;
}

// `bytes` and its four base64 spellings: standard or URL alphabet, padded or not.
void AddWithEncodings(std::string_view bytes, std::vector<Digest>& out) {
  out.push_back(Sha256(bytes));
  const std::string url = Base64UrlEncode(bytes);
  const std::string std_alpha = StandardAlphabet(url);
  for (const std::string& s : {url, Padded(url), std_alpha, Padded(std_alpha)}) {
    out.push_back(Sha256(s));
  }
}

std::vector<Digest> BuildTable() {
  std::vector<Digest> table;
  for (std::string_view text : kPublishedSecrets) {
    AddWithEncodings(text, table);
    std::string decoded;
    if (Base64DecodeLenient(text, decoded) && !decoded.empty()) {
      AddWithEncodings(decoded, table);
    }
    // A decoder that ignores a dangling last character (one that cannot
    // complete a byte), as Nacos's does with its default, keys with what the
    // rest decodes to.
    if (text.size() % 4 == 1 && Base64DecodeLenient(text.substr(0, text.size() - 1), decoded) &&
        !decoded.empty()) {
      AddWithEncodings(decoded, table);
    }
  }
  std::sort(table.begin(), table.end());
  table.erase(std::unique(table.begin(), table.end()), table.end());
  return table;
}

const std::vector<Digest>& Table() {
  static const std::vector<Digest> kTable = BuildTable();
  return kTable;
}

bool Listed(std::string_view bytes) {
  const std::vector<Digest>& table = Table();
  return std::binary_search(table.begin(), table.end(), Sha256(bytes));
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

bool IsPublishedSecret(std::string_view secret) {
  if (Listed(secret)) return true;
  size_t b = 0, e = secret.size();
  while (b < e && IsAsciiSpace(secret[b])) ++b;
  while (e > b && IsAsciiSpace(secret[e - 1])) --e;
  return (b != 0 || e != secret.size()) && Listed(secret.substr(b, e - b));
}

bool IsPublishedSecret(std::span<const uint8_t> secret) {
  return IsPublishedSecret(
      std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "tools/minter/signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

absl::Status OpenSslError(std::string_view what) {
  ERR_clear_error();
  return absl::InternalError(
      absl::StrCat("OpenSSL failed to ", absl::string_view(what.data(), what.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

const char* DigestName(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
    case Alg::kES256:
      return "SHA256";
    case Alg::kRS384:
    case Alg::kPS384:
    case Alg::kES384:
      return "SHA384";
    case Alg::kRS512:
    case Alg::kPS512:
    case Alg::kES512:
      return "SHA512";
    default:
      return nullptr;
  }
}

size_t EcScalarBytes(EVP_PKEY* key) {
  return (static_cast<size_t>(EVP_PKEY_get_bits(key)) + 7) / 8;
}

std::string BnBytes(const BIGNUM* bn, size_t pad) {
  std::string out(pad != 0 ? pad : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

std::string BnParam(EVP_PKEY* key, const char* name, size_t pad) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  std::string out = BnBytes(bn, pad);
  BN_free(bn);
  return out;
}

}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

absl::StatusOr<PkeyPtr> GenerateKey(std::string_view kind, int rsa_bits) {
  EVP_PKEY* key = nullptr;
  if (kind == "RSA") {
    if (rsa_bits < 2048) return absl::InvalidArgumentError("RSA keys need at least 2048 bits");
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits));
  } else if (kind == "P-256" || kind == "P-384" || kind == "P-521") {
    const std::string curve(kind);
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.c_str());
  } else if (kind == "Ed25519") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown key type \"",
                                                   absl::string_view(kind.data(), kind.size()),
                                                   "\" (use RSA, P-256, P-384, P-521 or Ed25519)"));
  }
  if (key == nullptr) return OpenSslError("generate a key");
  return PkeyPtr(key);
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  const bool ok = bio != nullptr &&
                  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::string out = ok ? BioText(bio) : std::string();
  BIO_free(bio);
  if (!ok) return OpenSslError("write a private key");
  return out;
}

absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  const bool ok = bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1;
  std::string out = ok ? BioText(bio) : std::string();
  BIO_free(bio);
  if (!ok) return OpenSslError("write a public key");
  return out;
}

absl::StatusOr<std::string> PublicJwk(EVP_PKEY* key, std::string_view kid, Alg alg) {
  std::string body;
  if (EVP_PKEY_is_a(key, "RSA")) {
    const std::string n = BnParam(key, OSSL_PKEY_PARAM_RSA_N, 0);
    const std::string e = BnParam(key, OSSL_PKEY_PARAM_RSA_E, 0);
    if (n.empty() || e.empty()) return OpenSslError("read an RSA key");
    body = absl::StrCat(R"("kty":"RSA","n":")", Base64UrlEncode(n), R"(","e":")",
                        Base64UrlEncode(e), "\"");
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const size_t size = EcScalarBytes(key);
    const std::string x = BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
    const std::string y = BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
    if (x.empty() || y.empty()) return OpenSslError("read an EC key");
    const char* crv = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521";
    body = absl::StrCat(R"("kty":"EC","crv":")", crv, R"(","x":")", Base64UrlEncode(x),
                        R"(","y":")", Base64UrlEncode(y), "\"");
  } else if (EVP_PKEY_is_a(key, "ED25519")) {
    std::string x(32, '\0');
    size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &len) != 1) {
      return OpenSslError("read an Ed25519 key");
    }
    x.resize(len);
    body = absl::StrCat(R"("kty":"OKP","crv":"Ed25519","x":")", Base64UrlEncode(x), "\"");
  } else {
    return absl::InvalidArgumentError("not an RSA, EC or Ed25519 key");
  }
  std::string jwk = absl::StrCat("{", body, R"(,"use":"sig","kid":)", JsonQuote(kid));
  if (alg != Alg::kUnknown) {
    const std::string_view name = AlgName(alg);
    absl::StrAppend(&jwk, R"(,"alg":")", absl::string_view(name.data(), name.size()), "\"");
  }
  jwk += "}";
  return jwk;
}

absl::StatusOr<PkeyPtr> ReadPrivateKeyPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a readable (unencrypted) PEM private key");
  }
  return PkeyPtr(key);
}

Alg DefaultAlgFor(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return Alg::kRS256;
  if (EVP_PKEY_is_a(key, "ED25519")) return Alg::kEdDSA;
  if (EVP_PKEY_is_a(key, "EC")) {
    const size_t size = EcScalarBytes(key);
    return size == 32 ? Alg::kES256 : size == 48 ? Alg::kES384 : Alg::kES512;
  }
  return Alg::kUnknown;
}

absl::StatusOr<std::string> SignJws(Alg alg, std::string_view header_json,
                                    std::string_view payload_json, EVP_PKEY* key) {
  const AlgFamily family = FamilyOf(alg);
  const bool type_ok = (family == AlgFamily::kRsa && EVP_PKEY_is_a(key, "RSA")) ||
                       (family == AlgFamily::kEcdsa && DefaultAlgFor(key) == alg) ||
                       (family == AlgFamily::kEdDSA && EVP_PKEY_is_a(key, "ED25519"));
  if (!type_ok) {
    const std::string_view name = AlgName(alg);
    return absl::InvalidArgumentError(absl::StrCat(
        "alg ", absl::string_view(name.data(), name.size()), " does not fit this key's type"));
  }
  std::string token = Base64UrlEncode(header_json);
  token.push_back('.');
  token += Base64UrlEncode(payload_json);

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  size_t sig_len = 0;
  std::vector<unsigned char> sig;
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit_ex(ctx, &pctx, DigestName(alg), nullptr, nullptr, key, nullptr) == 1;
  if (ok && (alg == Alg::kPS256 || alg == Alg::kPS384 || alg == Alg::kPS512)) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  const auto* tbs = reinterpret_cast<const unsigned char*>(token.data());
  ok = ok && EVP_DigestSign(ctx, nullptr, &sig_len, tbs, token.size()) == 1;
  if (ok) sig.resize(sig_len);
  ok = ok && EVP_DigestSign(ctx, sig.data(), &sig_len, tbs, token.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return OpenSslError("sign");
  sig.resize(sig_len);

  std::string raw(reinterpret_cast<const char*>(sig.data()), sig.size());
  if (family == AlgFamily::kEcdsa) {
    const unsigned char* p = sig.data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (es == nullptr) return OpenSslError("decode an ECDSA signature");
    const size_t size = EcScalarBytes(key);
    raw = BnBytes(ECDSA_SIG_get0_r(es), size) + BnBytes(ECDSA_SIG_get0_s(es), size);
    ECDSA_SIG_free(es);
  }
  token.push_back('.');
  token += Base64UrlEncode(raw);
  return token;
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/public_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(const std::string& where, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", Sv(what)));
}

// Member `name` as a string; absent: *found false; present, not a string: error.
absl::Status StringMember(simdjson::dom::object obj, std::string_view name,
                          const std::string& where, std::string_view* out, bool* found) {
  simdjson::dom::element v;
  *found = false;
  if (obj.at_key(name).get(v) != simdjson::SUCCESS) return absl::OkStatus();
  if (v.get_string().get(*out) != simdjson::SUCCESS) {
    return Invalid(where, absl::StrCat("\"", Sv(name), "\" is not a string"));
  }
  *found = true;
  return absl::OkStatus();
}

// A required base64url member, decoded strictly.
absl::Status Base64UrlMember(simdjson::dom::object obj, std::string_view name,
                             const std::string& where, std::string* out) {
  std::string_view text;
  bool found = false;
  if (absl::Status s = StringMember(obj, name, where, &text, &found); !s.ok()) return s;
  if (!found) return Invalid(where, absl::StrCat("no \"", Sv(name), "\""));
  if (!Base64UrlDecode(text, *out) || out->empty()) {
    return Invalid(where, absl::StrCat("\"", Sv(name), "\" is not non-empty unpadded base64url"));
  }
  return absl::OkStatus();
}

EVP_PKEY* FromData(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    EVP_PKEY_free(pkey);
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

absl::StatusOr<EVP_PKEY*> RsaFromJwk(simdjson::dom::object jwk, const std::string& where) {
  std::string n, e;
  if (absl::Status s = Base64UrlMember(jwk, "n", where, &n); !s.ok()) return s;
  if (absl::Status s = Base64UrlMember(jwk, "e", where, &e); !s.ok()) return s;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    pkey = FromData("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (pkey == nullptr) {
    ERR_clear_error();
    return Invalid(where, "OpenSSL refused the RSA key");
  }
  return pkey;
}

// Returns null with *skipped for a curve tokend does not verify with.
absl::StatusOr<EVP_PKEY*> EcFromJwk(simdjson::dom::object jwk, const std::string& where,
                                    std::vector<std::string>* warnings, bool* skipped) {
  std::string_view crv;
  bool found = false;
  if (absl::Status s = StringMember(jwk, "crv", where, &crv, &found); !s.ok()) return s;
  if (!found) return Invalid(where, "no \"crv\"");
  const char* group = nullptr;
  size_t size = 0;
  if (crv == "P-256") {
    group = "prime256v1", size = 32;
  } else if (crv == "P-384") {
    group = "secp384r1", size = 48;
  } else if (crv == "P-521") {
    group = "secp521r1", size = 66;
  } else {
    if (warnings != nullptr) {
      warnings->push_back(absl::StrCat(where, ": EC curve \"", Sv(crv.substr(0, 32)),
                                       "\" is not P-256, P-384 or P-521; skipped"));
    }
    *skipped = true;
    return nullptr;
  }
  std::string x, y;
  if (absl::Status s = Base64UrlMember(jwk, "x", where, &x); !s.ok()) return s;
  if (absl::Status s = Base64UrlMember(jwk, "y", where, &y); !s.ok()) return s;
  // RFC 7518 6.2.1.2-3: each coordinate is exactly the field's size.
  if (x.size() != size || y.size() != size) {
    return Invalid(where,
                   absl::StrCat("\"x\" and \"y\" must be ", size, " bytes each for ", Sv(crv)));
  }
  std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ==
          1) {
    pkey = FromData("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (pkey == nullptr) {
    ERR_clear_error();
    return Invalid(where, absl::StrCat("not a valid point of ", Sv(crv)));
  }
  return pkey;
}

absl::StatusOr<EVP_PKEY*> OkpFromJwk(simdjson::dom::object jwk, const std::string& where,
                                     std::vector<std::string>* warnings, bool* skipped) {
  std::string_view crv;
  bool found = false;
  if (absl::Status s = StringMember(jwk, "crv", where, &crv, &found); !s.ok()) return s;
  if (!found) return Invalid(where, "no \"crv\"");
  if (crv != "Ed25519") {
    if (warnings != nullptr) {
      warnings->push_back(absl::StrCat(where, ": OKP curve \"", Sv(crv.substr(0, 32)),
                                       "\" is not Ed25519; skipped"));
    }
    *skipped = true;
    return nullptr;
  }
  std::string x;
  if (absl::Status s = Base64UrlMember(jwk, "x", where, &x); !s.ok()) return s;
  if (x.size() != 32) return Invalid(where, "\"x\" of an Ed25519 key must be 32 bytes");
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (pkey == nullptr) {
    ERR_clear_error();
    return Invalid(where, "OpenSSL refused the Ed25519 key");
  }
  return pkey;
}

}  // namespace

absl::StatusOr<KeyMaterial> ParsePublicJwk(simdjson::dom::object jwk, std::string_view kty,
                                           const std::string& where, const std::string& source,
                                           std::vector<std::string>* warnings, bool* skipped) {
  *skipped = false;
  const auto skip = [&](std::string why) -> absl::StatusOr<KeyMaterial> {
    if (warnings != nullptr) warnings->push_back(absl::StrCat(where, ": ", why, "; skipped"));
    *skipped = true;
    return KeyMaterial{};
  };
  if (kty != "RSA" && kty != "EC" && kty != "OKP") {
    return skip(absl::StrCat("kty \"", Sv(kty.substr(0, 32)), "\" is not oct, RSA, EC or OKP"));
  }
  // Private material first: whatever else is wrong, a private key does not
  // belong here, and the message must say so.
  for (std::string_view name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    simdjson::dom::element v;
    if (jwk.at_key(name).get(v) == simdjson::SUCCESS) {
      return Invalid(where, absl::StrCat("holds private key material (\"", Sv(name),
                                         "\"); give tokend the public key only"));
    }
  }
  std::string_view kid, use, alg_name;
  bool has_kid = false, has_use = false, has_alg = false;
  if (absl::Status s = StringMember(jwk, "kid", where, &kid, &has_kid); !s.ok()) return s;
  if (absl::Status s = StringMember(jwk, "use", where, &use, &has_use); !s.ok()) return s;
  if (absl::Status s = StringMember(jwk, "alg", where, &alg_name, &has_alg); !s.ok()) return s;
  if (has_use && use != "sig") {
    return skip(absl::StrCat("use \"", Sv(use.substr(0, 32)), "\" is not \"sig\""));
  }
  simdjson::dom::element ops;
  if (jwk.at_key("key_ops").get(ops) == simdjson::SUCCESS) {
    simdjson::dom::array arr;
    if (ops.get_array().get(arr) != simdjson::SUCCESS) {
      return Invalid(where, "\"key_ops\" is not an array");
    }
    bool verify = false;
    for (simdjson::dom::element op : arr) {
      std::string_view o;
      if (op.get_string().get(o) != simdjson::SUCCESS) {
        return Invalid(where, "\"key_ops\" holds a non-string");
      }
      verify |= o == "verify";
    }
    if (!verify) return skip("key_ops does not include \"verify\"");
  }
  if (!has_kid || kid.empty()) return Invalid(where, "no \"kid\"");

  Alg bound = Alg::kUnknown;
  if (has_alg) {
    // "ES521" is RFC 7520's spelling (section 3.1 and its examples) of ES512.
    bound = alg_name == "ES521" ? Alg::kES512 : AlgFromName(alg_name);
    if (bound == Alg::kUnknown) {
      // RSA-OAEP, ES224, ...: meant for something tokend does not verify.
      return skip(absl::StrCat("alg \"", Sv(alg_name.substr(0, 32)),
                               "\" is not a JWS signature algorithm tokend verifies"));
    }
    if (FamilyOf(bound) == AlgFamily::kHmac) {
      return Invalid(where, absl::StrCat("alg ", Sv(alg_name), " is an HMAC algorithm; a ", Sv(kty),
                                         " key never verifies one"));
    }
  }

  absl::StatusOr<EVP_PKEY*> pkey = nullptr;
  if (kty == "RSA") {
    pkey = RsaFromJwk(jwk, where);
  } else if (kty == "EC") {
    pkey = EcFromJwk(jwk, where, warnings, skipped);
  } else {
    pkey = OkpFromJwk(jwk, where, warnings, skipped);
  }
  if (!pkey.ok()) return pkey.status();
  if (*skipped) return KeyMaterial{};
  absl::StatusOr<std::shared_ptr<const PublicKey>> key = PublicKey::Create(*pkey);
  if (!key.ok()) return Invalid(where, std::string(key.status().message()));
  if (bound != Alg::kUnknown && !(*key)->algs().Contains(bound)) {
    return Invalid(where, absl::StrCat("alg ", Sv(AlgName(bound)), " cannot be used with an ",
                                       (*key)->Describe(), " key"));
  }
  KeyMaterial m;
  m.kid = std::string(kid);
  m.bound_alg = bound;
  m.public_key = *std::move(key);
  m.source = source;
  return m;
}

absl::StatusOr<KeyMaterial> ParsePublicPem(std::string_view pem, const std::string& kid,
                                           const std::string& source) {
  if (kid.empty()) return Invalid(source, "file name gives an empty kid");
  if (pem.find("PRIVATE KEY") != std::string_view::npos) {
    return Invalid(source,
                   "holds a private key; give tokend the public key only"
                   " (openssl pkey -in KEY -pubout)");
  }
  size_t blocks = 0;
  for (size_t at = pem.find("-----BEGIN "); at != std::string_view::npos;
       at = pem.find("-----BEGIN ", at + 1)) {
    ++blocks;
  }
  if (blocks != 1) {
    return Invalid(source, absl::StrCat("holds ", blocks,
                                        " PEM blocks; a .pem key file holds exactly one public"
                                        " key or one certificate"));
  }
  const bool is_cert = pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos;
  const bool is_spki = pem.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos;
  if (!is_cert && !is_spki) {
    return Invalid(source,
                   "is neither BEGIN PUBLIC KEY nor BEGIN CERTIFICATE (for BEGIN RSA PUBLIC KEY:"
                   " openssl rsa -RSAPublicKey_in -in FILE -pubout)");
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = nullptr;
  if (bio != nullptr) {
    if (is_cert) {
      X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      if (cert != nullptr) pkey = X509_get_pubkey(cert);
      X509_free(cert);
    } else {
      pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    }
    BIO_free(bio);
  }
  if (pkey == nullptr) {
    ERR_clear_error();
    return Invalid(source,
                   is_cert ? "not a readable PEM certificate" : "not a readable PEM public key");
  }
  absl::StatusOr<std::shared_ptr<const PublicKey>> key = PublicKey::Create(pkey);
  if (!key.ok()) return Invalid(source, std::string(key.status().message()));
  KeyMaterial m;
  m.kid = kid;
  m.public_key = *std::move(key);
  m.source = source;
  return m;
}

}  // namespace tokend::auth

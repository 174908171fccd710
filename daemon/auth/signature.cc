// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tokend::auth {
namespace {

// The digests, fetched once for the life of the process.
const EVP_MD* Digest(int index) {
  static const std::array<EVP_MD*, 3> kMds = {
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  return kMds[index];
}

// Index of the SHA-2 digest `alg` uses (0: SHA-256, 1: SHA-384, 2: SHA-512);
// -1 for EdDSA and non-asymmetric algs.
int DigestIndex(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
    case Alg::kES256:
      return 0;
    case Alg::kRS384:
    case Alg::kPS384:
    case Alg::kES384:
      return 1;
    case Alg::kRS512:
    case Alg::kPS512:
    case Alg::kES512:
      return 2;
    default:
      return -1;
  }
}

bool IsPss(Alg alg) { return alg == Alg::kPS256 || alg == Alg::kPS384 || alg == Alg::kPS512; }

struct CurveInfo {
  const char* group_name;  // OpenSSL's name
  const char* jose_name;
  int nid;
  size_t scalar_bytes;
  Alg alg;
};

constexpr CurveInfo kCurves[] = {
    {"prime256v1", "P-256", NID_X9_62_prime256v1, 32, Alg::kES256},
    {"secp384r1", "P-384", NID_secp384r1, 48, Alg::kES384},
    {"secp521r1", "P-521", NID_secp521r1, 66, Alg::kES512},
};

// Appends a DER INTEGER holding the unsigned big-endian `v` to `out`.
uint8_t* PutDerInteger(std::span<const uint8_t> v, uint8_t* out) {
  size_t skip = 0;
  while (skip + 1 < v.size() && v[skip] == 0) ++skip;
  v = v.subspan(skip);
  const bool pad = (v[0] & 0x80) != 0;
  *out++ = 0x02;
  *out++ = static_cast<uint8_t>(v.size() + (pad ? 1 : 0));  // at most 67
  if (pad) *out++ = 0;
  std::memcpy(out, v.data(), v.size());
  return out + v.size();
}

bool IsZero(std::span<const uint8_t> v) {
  uint8_t acc = 0;
  for (uint8_t b : v) acc |= b;
  return acc == 0;
}

// Big-endian `v` < `n`, both of the same length.
bool LessThan(std::span<const uint8_t> v, const uint8_t* n) {
  return std::memcmp(v.data(), n, v.size()) < 0;
}

std::atomic<uint64_t> next_serial{1};

// ROCA (CVE-2017-15361): Infineon's RSALib made primes 65537^a mod M + k*M,
// M the product of the first 126 primes for moduli of 1984 to 3936 bits (of
// more primes for larger ones). Such an n, modulo each of those primes, lies
// in the subgroup that 65537 generates; a random n does so for all of them
// with probability about 2^-167.
bool HasRocaFingerprint(const BIGNUM* n) {
  int checked = 0;
  for (unsigned long p = 3; checked < 125; p += 2) {
    bool prime = true;
    for (unsigned long d = 3; d * d <= p; d += 2) prime = prime && p % d != 0;
    if (!prime) continue;
    ++checked;
    const unsigned long r = BN_mod_word(n, p);
    if (r == static_cast<unsigned long>(-1)) return false;
    const unsigned long g = 65537 % p;
    bool in_group = false;
    unsigned long x = 1;
    do {
      in_group = in_group || x == r;
      x = x * g % p;
    } while (x != 1);
    if (!in_group) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PublicKey>> PublicKey::Create(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("no public key");
  std::shared_ptr<PublicKey> key(new PublicKey());
  key->pkey_ = pkey;  // owned from here on, failure included
  key->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);

  if (EVP_PKEY_is_a(pkey, "RSA")) {
    key->type_ = PublicKeyType::kRsa;
    key->bits_ = EVP_PKEY_get_bits(pkey);
    if (key->bits_ < kMinRsaBits) {
      return absl::InvalidArgumentError(absl::StrCat("RSA key of ", key->bits_, " bits; at least ",
                                                     kMinRsaBits,
                                                     " are required (RFC 7518 section 3.3)"));
    }
    if (key->bits_ > kMaxRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("RSA key of ", key->bits_, " bits; at most ", kMaxRsaBits, " are accepted"));
    }
    BIGNUM* e = nullptr;
    const bool e_ok =
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_word(e, RSA_F4) == 1;
    BN_free(e);
    if (!e_ok) {
      ERR_clear_error();
      return absl::InvalidArgumentError("RSA public exponent is not 65537");
    }
    BIGNUM* n = nullptr;
    const bool roca =
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 && HasRocaFingerprint(n);
    BN_free(n);
    ERR_clear_error();
    if (roca) {
      return absl::InvalidArgumentError(
          "RSA key made by a library with the ROCA flaw (CVE-2017-15361): its private key can "
          "be computed from it; replace it");
    }
    for (Alg a : {Alg::kRS256, Alg::kRS384, Alg::kRS512, Alg::kPS256, Alg::kPS384, Alg::kPS512}) {
      key->algs_.Add(a);
    }
  } else if (EVP_PKEY_is_a(pkey, "EC")) {
    key->type_ = PublicKeyType::kEc;
    char group[64] = {0};
    size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &group_len) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("EC key without a named curve");
    }
    const CurveInfo* curve = nullptr;
    for (const CurveInfo& c : kCurves) {
      if (std::strcmp(group, c.group_name) == 0) curve = &c;
    }
    if (curve == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("EC curve ", group, " is not P-256, P-384 or P-521"));
    }
    key->bits_ = EVP_PKEY_get_bits(pkey);
    key->algs_.Add(curve->alg);
    key->ec_scalar_bytes_ = curve->scalar_bytes;
    EC_GROUP* g = EC_GROUP_new_by_curve_name(curve->nid);
    const bool order_ok =
        g != nullptr && BN_bn2binpad(EC_GROUP_get0_order(g), key->ec_order_.data(),
                                     static_cast<int>(curve->scalar_bytes)) ==
                            static_cast<int>(curve->scalar_bytes);
    EC_GROUP_free(g);
    if (!order_ok) {
      ERR_clear_error();
      return absl::InternalError("OpenSSL failed to give the curve's order");
    }
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    const bool on_curve = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!on_curve) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat("EC public key is not a valid point of ", curve->jose_name));
    }
  } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
    key->type_ = PublicKeyType::kEd25519;
    key->bits_ = 256;
    key->algs_.Add(Alg::kEdDSA);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "key type ", EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?",
        " is not RSA, EC or Ed25519"));
  }

  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(pkey, &der);
  if (der_len <= 0) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL failed to encode a public key");
  }
  key->spki_.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  return std::shared_ptr<const PublicKey>(std::move(key));
}

PublicKey::~PublicKey() { EVP_PKEY_free(pkey_); }

std::string PublicKey::Describe() const {
  switch (type_) {
    case PublicKeyType::kRsa:
      return absl::StrCat("RSA-", bits_);
    case PublicKeyType::kEc:
      for (const CurveInfo& c : kCurves) {
        if (algs_.Contains(c.alg)) return absl::StrCat("EC ", c.jose_name);
      }
      return "EC";
    case PublicKeyType::kEd25519:
      return "Ed25519";
  }
  return "?";
}

SignatureVerifier::SignatureVerifier() {
  for (int i = 0; i < 3; ++i) md_[i] = EVP_MD_CTX_new();
}

SignatureVerifier::~SignatureVerifier() {
  for (Prepared& p : slots_) Free(p);
  for (EVP_MD_CTX* c : md_) EVP_MD_CTX_free(c);
}

void SignatureVerifier::Free(Prepared& p) {
  EVP_PKEY_CTX_free(p.pctx);
  EVP_MD_CTX_free(p.mdctx);
  p = Prepared{};
}

SignatureVerifier::Prepared* SignatureVerifier::Prepare(const PublicKey& key, Alg alg) {
  for (Prepared& p : slots_) {
    if (p.key_serial == key.serial_ && p.alg == alg) return &p;
  }
  Prepared& p = slots_[next_victim_];
  next_victim_ = (next_victim_ + 1) % kSlots;
  Free(p);

  bool ok = false;
  if (alg == Alg::kEdDSA) {
    p.mdctx = EVP_MD_CTX_new();
    ok = p.mdctx != nullptr && EVP_DigestVerifyInit_ex(p.mdctx, nullptr, nullptr, nullptr, nullptr,
                                                       key.pkey_, nullptr) == 1;
  } else {
    const EVP_MD* md = Digest(DigestIndex(alg));
    p.pctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey_, nullptr);
    ok = md != nullptr && p.pctx != nullptr && EVP_PKEY_verify_init(p.pctx) == 1;
    if (ok && key.type_ == PublicKeyType::kRsa) {
      if (IsPss(alg)) {
        ok = EVP_PKEY_CTX_set_rsa_padding(p.pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(p.pctx, md) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(p.pctx, EVP_MD_get_size(md)) == 1;
      } else {
        ok = EVP_PKEY_CTX_set_rsa_padding(p.pctx, RSA_PKCS1_PADDING) == 1;
      }
    }
    ok = ok && EVP_PKEY_CTX_set_signature_md(p.pctx, md) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    Free(p);
    return nullptr;
  }
  p.key_serial = key.serial_;
  p.alg = alg;
  return &p;
}

bool SignatureVerifier::Verify(const PublicKey& key, Alg alg, std::string_view data,
                               std::span<const uint8_t> sig) {
  if (!key.algs_.Contains(alg)) return false;

  // ECDSA: the JWS form r||s, each exactly the curve's size, re-encoded as
  // the DER that EVP expects. Zero and out-of-range scalars are refused here
  // rather than trusted to the library (the "psychic signature" bug).
  uint8_t der[8 + 2 * (3 + 66)];
  std::span<const uint8_t> evp_sig = sig;
  if (key.type_ == PublicKeyType::kEc) {
    const size_t n = key.ec_scalar_bytes_;
    if (sig.size() != 2 * n) return false;
    const std::span<const uint8_t> r = sig.first(n), s = sig.subspan(n);
    if (IsZero(r) || IsZero(s) || !LessThan(r, key.ec_order_.data()) ||
        !LessThan(s, key.ec_order_.data())) {
      return false;
    }
    uint8_t body[2 * (3 + 66)];
    uint8_t* end = PutDerInteger(s, PutDerInteger(r, body));
    const size_t body_len = static_cast<size_t>(end - body);
    uint8_t* out = der;
    *out++ = 0x30;
    if (body_len >= 0x80) *out++ = 0x81;
    *out++ = static_cast<uint8_t>(body_len);
    std::memcpy(out, body, body_len);
    evp_sig = std::span<const uint8_t>(der, static_cast<size_t>(out - der) + body_len);
  } else if (key.type_ == PublicKeyType::kRsa) {
    // RFC 8017 8.2.2 / 8.1.2: the signature is exactly the modulus' length.
    if (sig.size() != static_cast<size_t>((key.bits_ + 7) / 8)) return false;
  }

  Prepared* p = Prepare(key, alg);
  if (p == nullptr) return false;
  const auto* msg = reinterpret_cast<const unsigned char*>(data.data());
  int rc = 0;
  if (alg == Alg::kEdDSA) {
    rc = EVP_DigestVerify(p->mdctx, evp_sig.data(), evp_sig.size(), msg, data.size());
  } else {
    const int d = DigestIndex(alg);
    EVP_MD_CTX* h = md_[d];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (h == nullptr || EVP_DigestInit_ex2(h, Digest(d), nullptr) != 1 ||
        EVP_DigestUpdate(h, msg, data.size()) != 1 ||
        EVP_DigestFinal_ex(h, digest, &digest_len) != 1) {
      ERR_clear_error();
      return false;
    }
    rc = EVP_PKEY_verify(p->pctx, evp_sig.data(), evp_sig.size(), digest, digest_len);
  }
  if (rc != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace tokend::auth

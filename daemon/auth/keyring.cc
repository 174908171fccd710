// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/keyring.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/auth/denylist.h"

namespace tokend::auth {
namespace {

constexpr Alg kHmacAlgs[] = {Alg::kHS256, Alg::kHS384, Alg::kHS512};

// First 8 bytes (big-endian) of SHA-256(kid || 0x00 || bound alg || secret
// or DER SubjectPublicKeyInfo [|| 0x00 || bound issuer]).
absl::StatusOr<uint64_t> Fingerprint(const KeyMaterial& m) {
  const std::string_view body =
      m.public_key != nullptr ? std::string_view(m.public_key->spki()) : m.secret.view();
  const uint8_t zero = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const uint8_t sep[2] = {0, static_cast<uint8_t>(m.bound_alg)};
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, m.kid.data(), m.kid.size()) == 1 &&
                  EVP_DigestUpdate(ctx, sep, sizeof sep) == 1 &&
                  EVP_DigestUpdate(ctx, body.data(), body.size()) == 1 &&
                  (m.bound_issuer.empty() ||
                   (EVP_DigestUpdate(ctx, &zero, 1) == 1 &&
                    EVP_DigestUpdate(ctx, m.bound_issuer.data(), m.bound_issuer.size()) == 1)) &&
                  EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len >= 8;
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("OpenSSL failed to hash a key");
  uint64_t fp = 0;
  for (int i = 0; i < 8; ++i) fp = (fp << 8) | digest[i];
  return fp;
}

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string Where(const KeyMaterial& m) {
  return absl::StrCat(m.source.empty() ? "<unnamed>" : m.source, ": key \"", m.kid, "\"");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Keyring>> Keyring::Build(std::vector<KeyMaterial> material) {
  std::shared_ptr<Keyring> ring(new Keyring());
  ring->keys_.reserve(material.size());
  for (KeyMaterial& m : material) {
    const size_t len = m.secret.size();
    auto key = std::make_unique<Key>();

    // Which algorithms the key serves, and whether it is long enough.
    AlgSet serves;
    if (m.public_key != nullptr) {
      // Only its own family: never an HMAC alg (RS256 -> HS256 confusion).
      serves = m.public_key->algs();
      if (m.bound_alg != Alg::kUnknown) {
        if (!serves.Contains(m.bound_alg)) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(m), ": alg ", Sv(AlgName(m.bound_alg)), " cannot be used with an ",
                           m.public_key->Describe(), " key"));
        }
        serves = AlgSet();
        serves.Add(m.bound_alg);
      }
    } else if (m.bound_alg != Alg::kUnknown) {
      if (FamilyOf(m.bound_alg) != AlgFamily::kHmac) {
        return absl::InvalidArgumentError(absl::StrCat(Where(m), ": alg ", Sv(AlgName(m.bound_alg)),
                                                       " needs a public key, not a secret"));
      }
      const size_t need = AlgHashSize(m.bound_alg);
      if (need == 0) return absl::InvalidArgumentError(absl::StrCat(Where(m), ": unknown alg"));
      if (len < need) {
        return absl::InvalidArgumentError(absl::StrCat(Where(m), " is ", len, " bytes; ",
                                                       Sv(AlgName(m.bound_alg)), " needs at least ",
                                                       need, " (RFC 7518 section 3.2)"));
      }
      serves.Add(m.bound_alg);
    } else {
      const size_t need = AlgHashSize(Alg::kHS256);
      if (len < need) {
        return absl::InvalidArgumentError(absl::StrCat(Where(m), " is ", len,
                                                       " bytes; a key needs at least ", need,
                                                       " (HS256, RFC 7518 section 3.2)"));
      }
      for (Alg alg : kHmacAlgs) {
        if (AlgHashSize(alg) <= len) serves.Add(alg);
      }
    }

    if (m.public_key == nullptr && IsPublishedSecret(m.secret.span())) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(m), " is a secret published in product documentation; generate a random one"));
    }

    if (auto it = ring->by_kid_.find(m.kid); it != ring->by_kid_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(m), ": duplicate kid (also in ", it->second->source, ")"));
    }

    absl::StatusOr<uint64_t> fp = Fingerprint(m);
    if (!fp.ok()) return absl::InternalError(absl::StrCat(Where(m), ": ", fp.status().message()));

    for (Alg alg : kHmacAlgs) {
      if (!serves.Contains(alg) || m.public_key != nullptr) continue;
      absl::StatusOr<std::unique_ptr<HmacKey>> mac = HmacKey::Create(alg, m.secret.span());
      if (!mac.ok()) {
        return absl::InternalError(absl::StrCat(Where(m), ": ", mac.status().message()));
      }
      key->mac[static_cast<size_t>(alg)] = *std::move(mac);
    }

    key->kid = std::move(m.kid);
    key->bound_alg = m.bound_alg;
    key->fingerprint = *fp;
    key->source = std::move(m.source);
    key->bound_issuer = std::move(m.bound_issuer);
    key->serves = serves;
    key->public_key = std::move(m.public_key);
    const Key* k = key.get();
    ring->keys_.push_back(std::move(key));
    ring->by_kid_.emplace(k->kid, k);
    for (size_t a = 1; a < kAlgCount; ++a) {
      if (serves.Contains(static_cast<Alg>(a))) ring->by_alg_[a].push_back(k);
    }
    ring->fingerprints_.push_back(k->fingerprint);
  }
  material.clear();  // wipes the secrets now rather than when the caller's vector goes
  std::sort(ring->fingerprints_.begin(), ring->fingerprints_.end());
  return std::shared_ptr<const Keyring>(std::move(ring));
}

std::shared_ptr<const Keyring> Keyring::Empty() {
  static const std::shared_ptr<const Keyring> kEmpty(new Keyring());
  return kEmpty;
}

Keyring::Keyring()
    : serial_([] {
        static std::atomic<uint64_t> next{1};
        return next.fetch_add(1, std::memory_order_relaxed);
      }()) {}

const Key* Keyring::FindByKid(std::string_view kid) const {
  auto it = by_kid_.find(Sv(kid));
  return it == by_kid_.end() ? nullptr : it->second;
}

std::span<const Key* const> Keyring::KeysFor(Alg alg) const {
  const auto i = static_cast<size_t>(alg);
  if (alg == Alg::kUnknown || i >= by_alg_.size()) return {};
  return by_alg_[i];
}

bool Keyring::Contains(uint64_t fingerprint) const {
  return std::binary_search(fingerprints_.begin(), fingerprints_.end(), fingerprint);
}

bool Keyring::SameKeysAs(const Keyring& other) const {
  if (keys_.size() != other.keys_.size()) return false;
  for (const auto& key : keys_) {
    const Key* o = other.FindByKid(key->kid);
    if (o == nullptr || o->bound_alg != key->bound_alg || o->fingerprint != key->fingerprint) {
      return false;
    }
  }
  return true;
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/hmac.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"

namespace tokend::auth {
namespace {

constexpr size_t kMaxBlockSize = 128;  // SHA-384 and SHA-512

// The digest of an HS alg, fetched on first use and kept for the process
// (never freed: contexts of any thread may point to it until exit). Null for
// kUnknown or when the fetch failed.
const EVP_MD* DigestFor(Alg alg) {
  struct Digests {
    EVP_MD* md[4] = {};
    Digests() {
      md[static_cast<size_t>(Alg::kHS256)] = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
      md[static_cast<size_t>(Alg::kHS384)] = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
      md[static_cast<size_t>(Alg::kHS512)] = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
      ERR_clear_error();
    }
  };
  static const Digests kDigests;
  const auto i = static_cast<size_t>(alg);
  return i < 4 ? kDigests.md[i] : nullptr;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// A context that has absorbed one block: (key block) XOR `pad`.
MdCtxPtr PaddedState(const EVP_MD* md, const uint8_t* key_block, size_t block, uint8_t pad) {
  uint8_t buf[kMaxBlockSize];
  for (size_t i = 0; i < block; ++i) buf[i] = key_block[i] ^ pad;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx.get(), buf, block) == 1;
  OPENSSL_cleanse(buf, sizeof buf);
  if (!ok) ctx.reset();
  return ctx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HmacKey>> HmacKey::Create(Alg alg, std::span<const uint8_t> secret) {
  if (AlgHashSize(alg) == 0) return absl::InvalidArgumentError("HMAC key for an unknown algorithm");
  const EVP_MD* md = DigestFor(alg);
  if (md == nullptr) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL has no digest for " + std::string(AlgName(alg)));
  }
  const int block_size = EVP_MD_get_block_size(md);
  if (block_size <= 0 || static_cast<size_t>(block_size) > kMaxBlockSize) {
    return absl::InternalError("unexpected digest block size");
  }
  const auto block = static_cast<size_t>(block_size);

  // RFC 2104 §2: a key longer than the block is replaced by its hash; the
  // key is then padded with zeros to the block size.
  uint8_t key_block[kMaxBlockSize] = {};
  bool ok = true;
  if (secret.size() > block) {
    unsigned int len = 0;
    ok = EVP_Digest(secret.data(), secret.size(), key_block, &len, md, nullptr) == 1;
  } else if (!secret.empty()) {
    std::memcpy(key_block, secret.data(), secret.size());
  }
  MdCtxPtr inner, outer;
  if (ok) {
    inner = PaddedState(md, key_block, block, 0x36);
    outer = PaddedState(md, key_block, block, 0x5c);
  }
  OPENSSL_cleanse(key_block, sizeof key_block);
  if (!ok || inner == nullptr || outer == nullptr) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL failed to key HMAC-" + std::string(AlgName(alg)));
  }
  return std::unique_ptr<HmacKey>(new HmacKey(alg, inner.release(), outer.release()));
}

HmacKey::~HmacKey() {
  // Freeing a provider digest context cleanses its state.
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

HmacComputer::HmacComputer() {
  for (Alg alg : {Alg::kHS256, Alg::kHS384, Alg::kHS512}) {
    work_[static_cast<size_t>(alg)] = EVP_MD_CTX_new();
  }
}

HmacComputer::~HmacComputer() {
  for (EVP_MD_CTX* c : work_) EVP_MD_CTX_free(c);
}

bool HmacComputer::Compute(const HmacKey& key, std::string_view data, uint8_t* out) {
  const auto i = static_cast<size_t>(key.alg_);
  EVP_MD_CTX* work = i < work_.size() ? work_[i] : nullptr;
  // The key's states are only ever read: copied from, never updated.
  const EVP_MD_CTX* inner = key.inner_;
  const EVP_MD_CTX* outer = key.outer_;
  uint8_t inner_hash[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0;
  unsigned int out_len = 0;
  const bool ok = work != nullptr && EVP_MD_CTX_copy_ex(work, inner) == 1 &&
                  EVP_DigestUpdate(work, data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(work, inner_hash, &inner_len) == 1 &&
                  EVP_MD_CTX_copy_ex(work, outer) == 1 &&
                  EVP_DigestUpdate(work, inner_hash, inner_len) == 1 &&
                  EVP_DigestFinal_ex(work, out, &out_len) == 1;
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  return out_len == key.mac_size();
}

bool HmacComputer::Verify(const HmacKey& key, std::string_view data, std::span<const uint8_t> tag) {
  const size_t n = key.mac_size();
  if (tag.size() != n) return false;
  uint8_t mac[kMaxMacSize];
  if (!Compute(key, data, mac)) return false;
  return CRYPTO_memcmp(mac, tag.data(), n) == 0;
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// OpenSSL's low-level SHA-2 functions are deprecated in 3.0; hmac.h says why
// this file uses them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "daemon/auth/hmac.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "daemon/auth/constant_time.h"

namespace tokend::auth {
namespace {

constexpr size_t kMaxBlockSize = 128;  // SHA-384 and SHA-512

// One hash state of any of the three digests: HS256 uses sha256, HS384 and
// HS512 use sha512 (SHA-384 is SHA-512 with other initial values, cut short).
union ShaState {
  SHA256_CTX sha256;
  SHA512_CTX sha512;
};

size_t BlockSize(Alg alg) { return alg == Alg::kHS256 ? SHA256_CBLOCK : SHA512_CBLOCK; }

bool Init(Alg alg, ShaState* s) {
  switch (alg) {
    case Alg::kHS256:
      return SHA256_Init(&s->sha256) == 1;
    case Alg::kHS384:
      return SHA384_Init(&s->sha512) == 1;
    case Alg::kHS512:
      return SHA512_Init(&s->sha512) == 1;
    default:
      return false;
  }
}

bool Update(Alg alg, ShaState* s, const void* data, size_t n) {
  return alg == Alg::kHS256 ? SHA256_Update(&s->sha256, data, n) == 1
                            : SHA512_Update(&s->sha512, data, n) == 1;  // SHA384_Update is this
}

bool Final(Alg alg, ShaState* s, uint8_t* out) {
  switch (alg) {
    case Alg::kHS256:
      return SHA256_Final(out, &s->sha256) == 1;
    case Alg::kHS384:
      return SHA384_Final(out, &s->sha512) == 1;
    default:
      return SHA512_Final(out, &s->sha512) == 1;
  }
}

// The RFC 2104 key block: the secret, or its digest when longer than a
// block, padded with zeros to the block size.
bool KeyBlock(Alg alg, std::span<const uint8_t> secret, uint8_t* block) {
  const size_t size = BlockSize(alg);
  std::memset(block, 0, size);
  if (secret.size() <= size) {
    if (!secret.empty()) std::memcpy(block, secret.data(), secret.size());
    return true;
  }
  ShaState s;
  const bool ok =
      Init(alg, &s) && Update(alg, &s, secret.data(), secret.size()) && Final(alg, &s, block);
  OPENSSL_cleanse(&s, sizeof s);
  return ok;
}

// `state` after absorbing one block: `key_block` XOR `pad`.
bool PaddedState(Alg alg, const uint8_t* key_block, uint8_t pad, ShaState* state) {
  const size_t size = BlockSize(alg);
  uint8_t buf[kMaxBlockSize];
  for (size_t i = 0; i < size; ++i) buf[i] = key_block[i] ^ pad;
  const bool ok = Init(alg, state) && Update(alg, state, buf, size);
  OPENSSL_cleanse(buf, sizeof buf);
  return ok;
}

}  // namespace

void Sha256(std::string_view data, std::span<uint8_t, 32> out) {
  // SHA256_Init, _Update and _Final return 1 whatever their input.
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data.data(), data.size());
  SHA256_Final(out.data(), &c);
  OPENSSL_cleanse(&c, sizeof c);
}

struct HmacKey::States {
  ShaState inner;  // after absorbing key ^ ipad
  ShaState outer;  // after absorbing key ^ opad
  ~States() { OPENSSL_cleanse(this, sizeof *this); }
};

struct HmacComputer::Scratch {
  ShaState state;
  ~Scratch() { OPENSSL_cleanse(this, sizeof *this); }
};

HmacKey::HmacKey(Alg alg, std::unique_ptr<States> states) : alg_(alg), states_(std::move(states)) {}

HmacKey::~HmacKey() = default;

absl::StatusOr<std::unique_ptr<HmacKey>> HmacKey::Create(Alg alg, std::span<const uint8_t> secret) {
  if (AlgHashSize(alg) == 0) return absl::InvalidArgumentError("HMAC key for an unknown algorithm");
  uint8_t key_block[kMaxBlockSize];
  auto states = std::make_unique<States>();
  const bool ok = KeyBlock(alg, secret, key_block) &&
                  PaddedState(alg, key_block, 0x36, &states->inner) &&
                  PaddedState(alg, key_block, 0x5c, &states->outer);
  OPENSSL_cleanse(key_block, sizeof key_block);
  if (!ok) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL failed to key HMAC-" + std::string(AlgName(alg)));
  }
  return std::unique_ptr<HmacKey>(new HmacKey(alg, std::move(states)));
}

HmacComputer::HmacComputer() : scratch_(std::make_unique<Scratch>()) {}

HmacComputer::~HmacComputer() = default;

bool HmacComputer::Compute(const HmacKey& key, std::string_view data, uint8_t* out) {
  const Alg alg = key.alg_;
  ShaState& s = scratch_->state;
  uint8_t inner_hash[kMaxMacSize];
  // The key's states are only ever read: copied from, never updated. The
  // scratch state keeps the last copy until the next MAC or destruction, as
  // the key itself does.
  s = key.states_->inner;
  bool ok = Update(alg, &s, data.data(), data.size()) && Final(alg, &s, inner_hash);
  s = key.states_->outer;
  ok = ok && Update(alg, &s, inner_hash, key.mac_size()) && Final(alg, &s, out);
  return ok;
}

bool HmacComputer::Verify(const HmacKey& key, std::string_view data, std::span<const uint8_t> tag) {
  const size_t n = key.mac_size();
  if (tag.size() != n) return false;
  uint8_t mac[kMaxMacSize];
  if (!Compute(key, data, mac)) return false;
  return ConstantTimeEqual(std::span<const uint8_t>(mac, n), tag);
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/verifier.h"

#include <algorithm>
#include <span>

#include "daemon/auth/base64url.h"

namespace tokend::auth {
namespace {

// The payload buffer is sized up front for tokens of up to this many bytes,
// so that a Verifier configured with a huge limit does not reserve it all.
constexpr size_t kInitialPayloadLimit = 64 * 1024;

// Room for the decoded signature of any alg (the largest is an RSA-8192
// signature, 1024 bytes); the slack lets a segment a few characters too long
// still decode here.
constexpr size_t kSigStackBytes = kMaxSignatureSize + 4;

}  // namespace

Verifier::Verifier(const Policy& policy) : policy_(policy) {
  PayloadBuffer(Base64UrlDecodedSize(std::min(policy.max_token_bytes, kInitialPayloadLimit)));
}

Verifier::~Verifier() = default;

uint8_t* Verifier::PayloadBuffer(size_t n) {
  if (payload_buf_.size() < n + kJsonPadding) payload_buf_.resize(n + kJsonPadding);
  return reinterpret_cast<uint8_t*>(payload_buf_.data());
}

const Key* Verifier::FindKey(const Keyring& keys, std::string_view kid) {
  // Serials are never reused, so an equal serial means this very keyring,
  // which the caller keeps alive for the whole call.
  if (last_kid_.keyring_serial == keys.serial() && last_kid_.kid == kid) return last_kid_.key;
  const Key* key = keys.FindByKid(kid);
  if (key != nullptr) {
    last_kid_.keyring_serial = keys.serial();
    last_kid_.kid.assign(kid);
    last_kid_.key = key;
  }
  return key;
}

Status Verifier::VerifyJws(std::string_view token, const Keyring& keys, VerifyResult* out) {
  if (token.size() > policy_.max_token_bytes) return Status::kTooLarge;
  JwsSegments segs;
  if (Status s = SplitCompact(token, &segs); s != Status::kOk) return s;

  const JoseHeader* header = nullptr;
  if (Status s = header_parser_.Parse(segs.header, policy_.allowed_algs, &header);
      s != Status::kOk) {
    // docs/protocol.md: the response names the header's alg once it parsed
    // (an alg outside --algorithms, an unsupported parameter).
    if (header != nullptr) out->alg = header->alg;
    return s;
  }
  const Alg alg = header->alg;
  out->alg = alg;

  // Key selection: the kid's key only, or every key serving the alg.
  const Key* named = nullptr;
  std::span<const Key* const> candidates;
  if (header->has_kid) {
    named = FindKey(keys, header->kid);
    if (named == nullptr) return Status::kUnknownKey;
    if (!named->Serves(alg)) return Status::kAlgNotAllowed;
    candidates = std::span<const Key* const>(&named, 1);
  } else {
    candidates = keys.KeysFor(alg);
    if (candidates.empty()) return Status::kUnknownKey;
  }

  // The signature, decoded strictly. Any valid signature fits the stack
  // buffer; a longer segment is wrong anyway and is decoded into the payload
  // buffer only to tell bad base64url (kMalformed) from a wrong length
  // (kBadSignature).
  uint8_t sig_stack[kSigStackBytes];
  uint8_t* sig = sig_stack;
  if (Base64UrlDecodedSize(segs.signature.size()) > sizeof sig_stack) {
    sig = PayloadBuffer(Base64UrlDecodedSize(segs.signature.size()));
  }
  size_t sig_len = 0;
  if (!Base64UrlDecodeTo(segs.signature, sig, &sig_len)) return Status::kMalformed;
  const std::span<const uint8_t> tag(sig, sig_len);

  const Key* verified = nullptr;
  if (FamilyOf(alg) == AlgFamily::kHmac) {
    if (sig_len != AlgHashSize(alg)) return Status::kBadSignature;
    for (const Key* key : candidates) {
      const HmacKey* mac = key->MacFor(alg);
      if (mac != nullptr && hmac_.Verify(*mac, segs.signing_input, tag)) {
        verified = key;
        break;
      }
    }
  } else {
    // Only keys whose own type serves the alg get here (Key::serves), and
    // SignatureVerifier checks the pairing again.
    for (const Key* key : candidates) {
      if (key->public_key != nullptr &&
          signatures_.Verify(*key->public_key, alg, segs.signing_input, tag)) {
        verified = key;
        break;
      }
    }
  }
  if (verified == nullptr) return Status::kBadSignature;
  out->key = verified;

  // The MAC verified: only now is the payload decoded.
  uint8_t* buf = PayloadBuffer(Base64UrlDecodedSize(segs.payload.size()));
  size_t len = 0;
  if (!Base64UrlDecodeTo(segs.payload, buf, &len)) return Status::kMalformed;
  out->payload_json = std::string_view(reinterpret_cast<const char*>(buf), len);
  return Status::kOk;
}

Status Verifier::VerifySignature(std::string_view token, const Keyring& keys, VerifyResult* out) {
  out->Reset();
  out->status = VerifyJws(token, keys, out);
  return out->status;
}

void Verifier::Verify(std::string_view token, std::string_view audience, const KeySet& keys,
                      int64_t now, VerifyResult* out) {
  out->Reset();
  if (Status s = VerifyJws(token, *keys.keys, out); s != Status::kOk) {
    out->status = s;
    return;
  }
  if (Status s = claims_parser_.Parse(out->payload_json, &out->claims); s != Status::kOk) {
    out->status = s;
    return;
  }
  out->claims_parsed = true;
  // A key bound to an issuer (NAME.iss) vouches for that issuer's tokens only.
  if (!out->key->bound_issuer.empty() &&
      (!out->claims.has(kClaimIss) || out->claims.iss != out->key->bound_issuer)) {
    out->status = Status::kIssuerMismatch;
    return;
  }
  out->status = CheckClaims(policy_, out->claims, token, audience, keys.revoked.get(), now);
}

}  // namespace tokend::auth

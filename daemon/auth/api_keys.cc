// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/api_keys.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/constant_time.h"
#include "daemon/auth/hmac.h"

namespace tokend::auth {
namespace {

constexpr std::string_view kDigestPrefix = "sha256:";
constexpr std::string_view kExpiresPrefix = "expires=";
constexpr size_t kDigestTextBytes = 43;  // base64url of 32 bytes, unpadded

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The fields of `line`, split on runs of blanks.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// The slot where `digest`'s probe sequence starts: its first 8 bytes are
// uniformly distributed, so they index the table as they are.
size_t Home(const ApiKeyDigest& digest, size_t mask) {
  uint64_t h;
  std::memcpy(&h, digest.data(), sizeof h);
  return static_cast<size_t>(h) & mask;
}

}  // namespace

bool ValidApiKeySubject(std::string_view subject) {
  if (subject.empty() || subject.size() > kMaxApiKeySubjectBytes) return false;
  return std::all_of(subject.begin(), subject.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e;
  });
}

std::string ApiKeyDigestText(const ApiKeyDigest& digest) {
  return absl::StrCat(Sv(kDigestPrefix),
                      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                       digest.size())));
}

std::string ApiKeyLine(const ApiKeyDigest& digest, std::string_view subject, int64_t exp) {
  std::string line = absl::StrCat(ApiKeyDigestText(digest), " ", Sv(subject));
  if (exp != 0) {
    absl::StrAppend(
        &line, " ", Sv(kExpiresPrefix),
        absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::FromUnixSeconds(exp), absl::UTCTimeZone()));
  }
  return line;
}

absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(std::string_view text, const std::string& source) {
  std::vector<ApiKey> out;
  absl::flat_hash_map<std::string, size_t> seen;  // digest bytes -> line number
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = absl::StrCat(source, ":", number);
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", Sv(why)));
    };

    const std::vector<std::string_view> fields = Fields(line);
    if (fields.empty() || fields[0].front() == '#') continue;  // blank or comment

    ApiKey key;
    key.source = where;
    const std::string_view digest = fields[0];
    if (!digest.starts_with(kDigestPrefix)) {
      return bad(
          "expected \"sha256:<base64url digest>\" first (a line holds the token's "
          "digest, never the token: make it with `tokenctl apikey hash`)");
    }
    const std::string_view b64 = digest.substr(kDigestPrefix.size());
    uint8_t raw[Base64UrlDecodedSize(kDigestTextBytes) + 3];
    size_t raw_len = 0;
    if (b64.size() != kDigestTextBytes || !Base64UrlDecodeTo(b64, raw, &raw_len) ||
        raw_len != key.digest.size()) {
      return bad("the digest is not 43 characters of unpadded base64url (a SHA-256)");
    }
    std::memcpy(key.digest.data(), raw, key.digest.size());

    if (fields.size() < 2) return bad("no subject after the digest");
    if (!ValidApiKeySubject(fields[1])) {
      return bad(
          "the subject must be 1 to 255 bytes of visible ASCII (0x21 to 0x7E), since it "
          "is passed on in an HTTP header");
    }
    if (fields[1].starts_with(kExpiresPrefix)) return bad("no subject before expires=");
    key.subject = std::string(fields[1]);

    bool has_expiry = false;
    for (size_t i = 2; i < fields.size(); ++i) {
      const std::string_view f = fields[i];
      if (!f.starts_with(kExpiresPrefix)) {
        return bad(absl::StrCat("unknown field ", i + 1,
                                " (only expires=<RFC 3339 time> may "
                                "follow the subject)"));
      }
      if (has_expiry) return bad("expires= given twice");
      has_expiry = true;
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, Sv(f.substr(kExpiresPrefix.size())), &t, &err)) {
        return bad("expires= is not an RFC 3339 time such as 2027-01-31T00:00:00Z");
      }
      key.exp = absl::ToUnixSeconds(t);
      if (key.exp <= 0 || key.exp > kMaxApiKeyExpiry) {
        return bad("expires= must be after 1970-01-01T00:00:00Z and before the year 10000");
      }
    }

    auto [it, inserted] = seen.emplace(
        std::string(reinterpret_cast<const char*>(key.digest.data()), key.digest.size()), number);
    if (!inserted) return bad(absl::StrCat("the same digest as line ", it->second));
    out.push_back(std::move(key));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const ApiKeyTable>> ApiKeyTable::Build(std::vector<ApiKey> keys) {
  if (keys.size() > (size_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrCat(keys.size(), " API keys: too many"));
  }
  std::shared_ptr<ApiKeyTable> table(new ApiKeyTable());
  size_t capacity = 16;
  while (capacity < 2 * keys.size()) capacity *= 2;
  table->slots_.resize(capacity);
  table->mask_ = capacity - 1;
  for (size_t k = 0; k < keys.size(); ++k) {
    size_t i = Home(keys[k].digest, table->mask_);
    while (table->slots_[i].index != kEmptySlot) {
      const ApiKey& other = keys[table->slots_[i].index];
      if (other.digest == keys[k].digest) {
        return absl::InvalidArgumentError(absl::StrCat(keys[k].source, ": the same digest as ",
                                                       other.source, " (a key is listed once)"));
      }
      i = (i + 1) & table->mask_;
    }
    table->slots_[i].digest = keys[k].digest;
    table->slots_[i].index = static_cast<uint32_t>(k);
  }
  table->keys_ = std::move(keys);
  return std::shared_ptr<const ApiKeyTable>(std::move(table));
}

const ApiKey* ApiKeyTable::Find(const ApiKeyDigest& digest) const {
  if (slots_.empty()) return nullptr;
  for (size_t i = Home(digest, mask_);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.index == kEmptySlot) return nullptr;
    if (ConstantTimeEqual(slot.digest, digest)) return &keys_[slot.index];
  }
}

bool ApiKeyTable::SameKeysAs(const ApiKeyTable& other) const {
  if (keys_.size() != other.keys_.size()) return false;
  for (const ApiKey& key : keys_) {
    const ApiKey* o = other.Find(key.digest);
    if (o == nullptr || o->subject != key.subject || o->exp != key.exp) return false;
  }
  return true;
}

ApiKeyDigest ApiKeyDigestOf(std::string_view token) {
  ApiKeyDigest digest;
  Sha256(token, digest);
  return digest;
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/token_cache.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tokend::auth {

using token_cache_internal::DiesHint;
using token_cache_internal::Entry;
using token_cache_internal::kAudIsIss;
using token_cache_internal::kEntryWords;
using token_cache_internal::MaybeDead;

namespace {

constexpr size_t kMaxBuckets = (size_t{1} << 32) / TokenCache::kWays;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr size_t kHugePageBytes = size_t{2} << 20;
// The share of the slots filled at which the table asks for huge pages
// (TokenCache::NoteFilledSlot()).
constexpr size_t kHugePagesAtFraction = 16;

template <typename T>
std::atomic_ref<T> Atomic(T& word) {
  return std::atomic_ref<T>(word);
}

// Word indexes of the fields Insert() reads without the seqlock.
constexpr size_t kDeadAtWord = offsetof(Entry, dead_at) / sizeof(uint64_t);
// The first word of Entry::strings.
constexpr size_t kStringsWord = offsetof(Entry, strings) / sizeof(uint64_t);
static_assert(offsetof(Entry, strings) % sizeof(uint64_t) == 0);
static_assert(offsetof(Entry, tag) == 0);
static_assert(offsetof(Entry, dead_at) % sizeof(uint64_t) == 0);

uint16_t HintOf(const TokenCacheKey& key) {
  const auto hint = static_cast<uint16_t>(key.tag[1]);
  return hint == 0 ? 1 : hint;  // 0 marks an empty slot
}

int64_t DeadAt(const ClaimsView& claims, int64_t leeway) {
  if (!claims.has(kClaimExp)) return kNever;
  int64_t dead_at;
  if (__builtin_add_overflow(claims.exp, leeway, &dead_at)) return kNever;
  return dead_at;
}

// Words of Entry::strings that hold `used` bytes.
size_t StringWords(size_t used) {
  return std::min(kEntryWords - kStringsWord, (used + sizeof(uint64_t) - 1) / sizeof(uint64_t));
}

// An aud value stored as a reference to the entry's iss.
bool AudIsIss(std::string_view aud, const ClaimsView& claims) {
  return !claims.iss.empty() && aud == claims.iss;
}

// Lays `claims` out in `e`. Returns false when the strings do not fit.
bool Pack(const ClaimsView& claims, Entry* e) {
  constexpr size_t kMaxLen = std::numeric_limits<uint8_t>::max();
  if (claims.iss.size() > kMaxLen || claims.sub.size() > kMaxLen || claims.jti.size() > kMaxLen ||
      claims.aud.size() > TokenCache::kMaxAudiences) {
    return false;
  }
  size_t total = claims.iss.size() + claims.sub.size() + claims.jti.size();
  for (std::string_view aud : claims.aud) {
    if (AudIsIss(aud, claims)) {
      total += 1;
      continue;
    }
    if (aud.size() >= kAudIsIss) return false;
    total += 1 + aud.size();
  }
  if (total > TokenCache::kStringBytes) return false;

  e->present = static_cast<uint8_t>(claims.present);
  e->exp = claims.exp;
  e->nbf = claims.nbf;
  e->iat = claims.iat;
  e->iss_len = static_cast<uint8_t>(claims.iss.size());
  e->sub_len = static_cast<uint8_t>(claims.sub.size());
  e->jti_len = static_cast<uint8_t>(claims.jti.size());
  e->aud_count = static_cast<uint8_t>(claims.aud.size());
  char* p = e->strings;
  for (std::string_view s : {claims.iss, claims.sub, claims.jti}) {
    p = std::copy(s.begin(), s.end(), p);  // an absent claim is an empty view
  }
  char* aud_start = p;
  for (std::string_view aud : claims.aud) {
    if (AudIsIss(aud, claims)) {
      *p++ = static_cast<char>(kAudIsIss);
      continue;
    }
    *p++ = static_cast<char>(aud.size());
    p = std::copy(aud.begin(), aud.end(), p);
  }
  e->aud_bytes = static_cast<uint8_t>(p - aud_start);
  return true;
}

}  // namespace

// A bucket's one cache line of steering state; its kWays slots are
// slots_[bucket * kWays, ...) (the header's "Layout"). Zero-filled memory is
// an empty bucket.
struct alignas(64) TokenCache::Bucket {
  uint32_t dies[kWays];  // DiesHint() of the slot's entry
  uint16_t hint[kWays];  // tag bits of the slot's entry; 0 = empty
  uint8_t ref[kWays];    // CLOCK reference bytes
  uint32_t hand;         // CLOCK hand (mod kWays)
};
struct alignas(64) TokenCache::Slot {
  uint64_t seq;  // odd while a writer owns the slot
  uint64_t words[kEntryWords];
};
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint16_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint8_t>::is_always_lock_free);

absl::StatusOr<std::unique_ptr<TokenCache>> TokenCache::Create(const Options& options) {
  static_assert(sizeof(Slot) == token_cache_internal::kSlotBytes);
  static_assert(sizeof(Slot) % 64 == 0);  // every slot starts a cache line
  static_assert(sizeof(Bucket) == 64);
  if (options.max_entries == 0) {
    return absl::InvalidArgumentError("token cache: max_entries must be at least 1");
  }
  if (options.leeway_seconds < 0) {
    return absl::InvalidArgumentError("token cache: leeway must not be negative");
  }
  const size_t num_buckets = options.max_entries / kWays + (options.max_entries % kWays != 0);
  if (num_buckets > kMaxBuckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("token cache: at most ", kMaxBuckets * kWays, " entries"));
  }
  uint8_t hash_key[TokenTagger::kKeyBytes];
  ssize_t got = getrandom(hash_key, sizeof(hash_key), 0);
  if (got != static_cast<ssize_t>(sizeof(hash_key))) {
    return absl::InternalError(
        absl::StrCat("token cache: getrandom failed: ", got < 0 ? std::strerror(errno) : "short"));
  }
  // The headers, then the slots: both start a cache line (the headers'
  // bytes are a multiple of 64). A table of a huge page or more starts on a
  // huge page boundary, so that it can later be offered to transparent huge
  // pages (NoteFilledSlot()).
  const size_t header_bytes = num_buckets * sizeof(Bucket);
  const size_t table_bytes = TableBytes(num_buckets);
  const bool huge = table_bytes >= kHugePageBytes;
  const size_t map_bytes = huge ? table_bytes + kHugePageBytes : table_bytes;
  void* mem = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    OPENSSL_cleanse(hash_key, sizeof(hash_key));
    return absl::ResourceExhaustedError(
        absl::StrCat("token cache: cannot map ", map_bytes, " bytes: ", std::strerror(errno)));
  }
  auto table = reinterpret_cast<uintptr_t>(mem);
  if (huge) {
    // Small pages until NoteFilledSlot() says otherwise, even where the
    // system's transparent huge pages are "always".
    table = (table + kHugePageBytes - 1) & ~uintptr_t{kHugePageBytes - 1};
    madvise(reinterpret_cast<void*>(table), table_bytes, MADV_NOHUGEPAGE);
  }
  std::unique_ptr<TokenCache> cache(new TokenCache(
      reinterpret_cast<Bucket*>(table), reinterpret_cast<Slot*>(table + header_bytes), num_buckets,
      mem, map_bytes, options.leeway_seconds, hash_key));
  // A plain memset of a dead object may be optimised away; OPENSSL_cleanse
  // is not (as in hmac.cc).
  OPENSSL_cleanse(hash_key, sizeof(hash_key));
  return cache;
}

TokenCache::TokenCache(Bucket* buckets, Slot* slots, size_t num_buckets, void* map,
                       size_t map_bytes, int64_t leeway,
                       std::span<const uint8_t, TokenTagger::kKeyBytes> hash_key)
    : buckets_(buckets),
      slots_(slots),
      num_buckets_(num_buckets),
      map_(map),
      map_bytes_(map_bytes),
      leeway_(leeway),
      tagger_(hash_key) {}

TokenCache::~TokenCache() { munmap(map_, map_bytes_); }

size_t TokenCache::BytesPerEntry() { return sizeof(Bucket) / kWays + sizeof(Slot); }

size_t TokenCache::TableBytes(size_t num_buckets) {
  return num_buckets * (sizeof(Bucket) + kWays * sizeof(Slot));
}

TokenCache::Slot& TokenCache::SlotOf(const Bucket* b, size_t w) const {
  return slots_[static_cast<size_t>(b - buckets_) * kWays + w];
}

TokenCacheKey TokenCache::KeyOf(std::string_view token) const {
  const std::array<uint64_t, 2> tag = tagger_.Tag(token);
  TokenCacheKey key;
  key.tag[0] = tag[0];
  key.tag[1] = tag[1];
  return key;
}

std::array<TokenCache::Bucket*, 2> TokenCache::BucketsFor(const TokenCacheKey& key) const {
  // Lemire's multiply-shift maps a tag word onto [0, num_buckets_) without a
  // division, from the word's high bits. The hint uses the low 16 bits of
  // tag[1], the second bucket its high bits, the first bucket tag[0]:
  // independent bits of the PRF output.
  __extension__ using Wide = unsigned __int128;
  const size_t first = static_cast<size_t>((static_cast<Wide>(key.tag[0]) * num_buckets_) >> 64);
  const size_t second = static_cast<size_t>((static_cast<Wide>(key.tag[1]) * num_buckets_) >> 64);
  return {&buckets_[first], second == first ? nullptr : &buckets_[second]};
}

bool TokenCache::Lookup(const TokenCacheKey& key, int64_t now, CachedToken* out) const {
  const uint16_t hint = HintOf(key);
  const std::array<Bucket*, 2> buckets = BucketsFor(key);
  // Both header lines load at once: a token that is not in the first bucket
  // (every miss) needs the second.
  if (buckets[1] != nullptr) __builtin_prefetch(buckets[1]);
  for (Bucket* b : buckets) {
    if (b == nullptr) break;
    switch (LookupIn(*b, key, hint, now, out)) {
      case Found::kHit:
        return true;
      case Found::kDead:
        return false;
      case Found::kAbsent:
        break;
    }
  }
  return false;
}

TokenCache::Found TokenCache::LookupIn(Bucket& b, const TokenCacheKey& key, uint16_t hint,
                                       int64_t now, CachedToken* out) const {
  for (size_t w = 0; w < kWays; ++w) {
    if (Atomic(b.hint[w]).load(std::memory_order_relaxed) != hint) continue;
    Slot& slot = SlotOf(&b, w);
    const uint64_t seq = Atomic(slot.seq).load(std::memory_order_acquire);
    if (seq & 1) continue;  // a writer owns it: a miss, never a wait
    // Each word goes straight into the caller's entry with an 8-byte store,
    // so the field reads below are forwarded from those stores (a bulk copy
    // through a local array made them wait on the copy).
    Entry& e = out->entry_;
    char* const dst = reinterpret_cast<char*>(&e);
    const auto copy_word = [&](size_t i) {
      const uint64_t word = Atomic(slot.words[i]).load(std::memory_order_relaxed);
      std::memcpy(dst + i * sizeof(uint64_t), &word, sizeof(word));
      return word;
    };
    if (copy_word(0) != key.tag[0] || copy_word(1) != key.tag[1]) continue;
    // The fixed fields, then only the string words the lengths say are
    // used (bounded: the lengths may be torn until seq is checked).
    for (size_t i = 2; i < kStringsWord; ++i) copy_word(i);
    const size_t used = size_t{e.iss_len} + e.sub_len + e.jti_len + e.aud_bytes;
    const size_t string_words = StringWords(used);
    for (size_t i = kStringsWord; i < kStringsWord + string_words; ++i) copy_word(i);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (Atomic(slot.seq).load(std::memory_order_relaxed) != seq) continue;

    // The copy is one writer's whole entry (invariant 1), as far as its
    // strings go.
    if (now >= e.dead_at) return Found::kDead;
    const size_t fixed = size_t{e.iss_len} + e.sub_len + e.jti_len;
    if (fixed + e.aud_bytes > kStringBytes || e.aud_count > kMaxAudiences) return Found::kDead;

    ClaimsView& c = out->claims_;
    c.present = e.present;
    c.exp = e.exp;
    c.nbf = e.nbf;
    c.iat = e.iat;
    const char* p = e.strings;
    c.iss = std::string_view(p, e.iss_len);
    p += e.iss_len;
    c.sub = std::string_view(p, e.sub_len);
    p += e.sub_len;
    c.jti = std::string_view(p, e.jti_len);
    p += e.jti_len;
    const char* aud_end = p + e.aud_bytes;
    for (size_t i = 0; i < e.aud_count; ++i) {
      if (p >= aud_end) return Found::kDead;
      size_t len = static_cast<uint8_t>(*p++);
      if (len == kAudIsIss) {
        out->aud_[i] = c.iss;
        continue;
      }
      if (len > static_cast<size_t>(aud_end - p)) return Found::kDead;
      out->aud_[i] = std::string_view(p, len);
      p += len;
    }
    c.aud = std::span<const std::string_view>(out->aud_.data(), e.aud_count);

    // Mark it recently used; a hot entry is already marked, so its hits
    // write nothing shared.
    std::atomic_ref<uint8_t> ref(b.ref[w]);
    if (ref.load(std::memory_order_relaxed) == 0) ref.store(1, std::memory_order_relaxed);
    return Found::kHit;
  }
  return Found::kAbsent;
}

std::pair<TokenCache::Bucket*, size_t> TokenCache::FreeSlot(const std::array<Bucket*, 2>& buckets,
                                                            int64_t now) const {
  Bucket* vb = nullptr;
  size_t victim = kWays;
  size_t most_free = 0;
  for (Bucket* b : buckets) {
    size_t free = 0, first_free = kWays;
    for (size_t w = 0; b != nullptr && w < kWays; ++w) {
      if (Atomic(b->hint[w]).load(std::memory_order_relaxed) == 0 ||
          (MaybeDead(Atomic(b->dies[w]).load(std::memory_order_relaxed), now) &&
           now >= static_cast<int64_t>(
                      Atomic(SlotOf(b, w).words[kDeadAtWord]).load(std::memory_order_relaxed)))) {
        if (free++ == 0) first_free = w;
      }
    }
    if (free > most_free) {
      most_free = free;
      vb = b;
      victim = first_free;
    }
  }
  return {vb, victim};
}

TokenCache::Bucket* TokenCache::ClockBucket(const std::array<Bucket*, 2>& buckets,
                                            const TokenCacheKey& key) {
  return buckets[1] != nullptr && (key.tag[0] & 1) ? buckets[1] : buckets[0];
}

void TokenCache::Prefetch(const TokenCacheKey& key) const {
  for (Bucket* b : BucketsFor(key)) {
    if (b != nullptr) __builtin_prefetch(b);
  }
}

void TokenCache::PrefetchEntry(const TokenCacheKey& key) const {
  const uint16_t hint = HintOf(key);
  for (Bucket* b : BucketsFor(key)) {
    for (size_t w = 0; b != nullptr && w < kWays; ++w) {
      if (Atomic(b->hint[w]).load(std::memory_order_relaxed) != hint) continue;
      const char* slot = reinterpret_cast<const char*>(&SlotOf(b, w));
      for (size_t off = 0; off < sizeof(Slot); off += 64) __builtin_prefetch(slot + off);
      return;
    }
  }
}

void TokenCache::PrefetchForInsert(const TokenCacheKey& key, int64_t now) const {
  const std::array<Bucket*, 2> buckets = BucketsFor(key);
  auto [vb, victim] = FreeSlot(buckets, now);
  if (vb == nullptr) {  // where CLOCK would stop, without clearing anything
    vb = ClockBucket(buckets, key);
    victim = Atomic(vb->hand).load(std::memory_order_relaxed) % kWays;
    for (size_t step = 0; step < kWays; ++step) {
      const size_t w = (victim + step) % kWays;
      if (Atomic(vb->ref[w]).load(std::memory_order_relaxed) == 0) {
        victim = w;
        break;
      }
    }
  }
  const char* slot = reinterpret_cast<const char*>(&SlotOf(vb, victim));
  for (size_t off = 0; off < sizeof(Slot); off += 64) {
    __builtin_prefetch(slot + off, /*rw=*/1, /*locality=*/3);
  }
}

bool TokenCache::Insert(const TokenCacheKey& key, Alg alg, uint64_t key_fingerprint,
                        const ClaimsView& claims, int64_t now) {
  Entry e{};
  e.tag[0] = key.tag[0];
  e.tag[1] = key.tag[1];
  e.key_fingerprint = key_fingerprint;
  e.alg = static_cast<uint8_t>(alg);
  e.dead_at = DeadAt(claims, leeway_);
  if (now >= e.dead_at || !Pack(claims, &e)) return false;

  const std::array<Bucket*, 2> buckets = BucketsFor(key);
  const uint16_t hint = HintOf(key);

  // Choose the victim. These reads steer the choice only (invariant 2), so
  // they take no seqlock.
  Bucket* vb = nullptr;
  size_t victim = kWays;
  for (Bucket* b : buckets) {  // the same token
    for (size_t w = 0; b != nullptr && vb == nullptr && w < kWays; ++w) {
      if (Atomic(b->hint[w]).load(std::memory_order_relaxed) == hint &&
          Atomic(SlotOf(b, w).words[0]).load(std::memory_order_relaxed) == key.tag[0] &&
          Atomic(SlotOf(b, w).words[1]).load(std::memory_order_relaxed) == key.tag[1]) {
        vb = b;
        victim = w;
      }
    }
  }
  if (vb == nullptr) std::tie(vb, victim) = FreeSlot(buckets, now);
  if (vb == nullptr) {
    // CLOCK, in one of the two buckets picked by a tag bit: the first
    // unreferenced slot from the hand, clearing the bytes it passes.
    vb = ClockBucket(buckets, key);
    std::atomic_ref<uint32_t> hand_ref(vb->hand);
    const uint32_t hand = hand_ref.load(std::memory_order_relaxed);
    size_t w = hand % kWays;
    for (size_t step = 0; step < 2 * kWays; ++step, w = (w + 1) % kWays) {
      std::atomic_ref<uint8_t> ref(vb->ref[w]);
      if (ref.load(std::memory_order_relaxed) == 0) break;
      ref.store(0, std::memory_order_relaxed);
    }
    victim = w;
    hand_ref.store(static_cast<uint32_t>((w + 1) % kWays), std::memory_order_relaxed);
  }

  // Write it under the slot's seqlock; give up rather than wait.
  Bucket& b = *vb;
  Slot& slot = SlotOf(&b, victim);
  std::atomic_ref<uint64_t> seq(slot.seq);
  uint64_t s = seq.load(std::memory_order_relaxed);
  if ((s & 1) || !seq.compare_exchange_strong(s, s + 1, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
    return false;
  }
  std::atomic_thread_fence(std::memory_order_release);
  // The words a lookup copies; the rest of the slot keeps older bytes that
  // no lookup of this entry reads.
  uint64_t words[kEntryWords];
  std::memcpy(words, &e, sizeof(words));
  const size_t used_words =
      kStringsWord + StringWords(size_t{e.iss_len} + e.sub_len + e.jti_len + e.aud_bytes);
  for (size_t i = 0; i < used_words; ++i) {
    Atomic(slot.words[i]).store(words[i], std::memory_order_relaxed);
  }
  // Steering state is written while the slot is owned, so it follows the
  // order of the writers.
  const bool was_empty = Atomic(b.hint[victim]).load(std::memory_order_relaxed) == 0;
  Atomic(b.hint[victim]).store(hint, std::memory_order_relaxed);
  Atomic(b.dies[victim]).store(DiesHint(e.dead_at, now), std::memory_order_relaxed);
  Atomic(b.ref[victim]).store(0, std::memory_order_relaxed);
  seq.store(s + 2, std::memory_order_release);
  if (was_empty) NoteFilledSlot();
  return true;
}

void TokenCache::NoteFilledSlot() {
  // A slot is empty only until its first entry, so this runs at most
  // capacity() times in the cache's life, and stops counting once asked.
  const size_t table_bytes = TableBytes(num_buckets_);
  if (table_bytes < kHugePageBytes || huge_pages_asked_.load(std::memory_order_relaxed)) return;
  const size_t at = std::max<size_t>(1, capacity() / kHugePagesAtFraction);
  if (filled_.fetch_add(1, std::memory_order_relaxed) + 1 < at) return;
  if (huge_pages_asked_.exchange(true, std::memory_order_relaxed)) return;
  // Where transparent huge pages are off, madvise() fails and the table
  // keeps small pages; already-written pages are merged later by the
  // kernel's khugepaged, new ones fault in 2 MiB at a time.
  madvise(buckets_, table_bytes, MADV_HUGEPAGE);
}

size_t TokenCache::CountLive(int64_t now) const {
  size_t live = 0;
  for (size_t i = 0; i < num_buckets_; ++i) {
    Bucket& b = buckets_[i];
    for (size_t w = 0; w < kWays; ++w) {
      if (Atomic(b.hint[w]).load(std::memory_order_relaxed) != 0 &&
          now < static_cast<int64_t>(
                    Atomic(SlotOf(&b, w).words[kDeadAtWord]).load(std::memory_order_relaxed))) {
        ++live;
      }
    }
  }
  return live;
}

}  // namespace tokend::auth

// SPDX-License-Identifier: Apache-2.0
// token_cache.h
//
// TokenCache remembers tokens whose MAC has verified, so that the next
// request for the same token skips base64url, HMAC and JSON (docs/design.md
// "The cache"). What it keeps is what CheckClaims() (policy.h) needs to give
// the answer a full verification would give: the claims, the header's alg
// and the fingerprint of the key that verified the token. The caller still
// checks, on every hit, the clock, the request's audience, the issuers, the
// revocation list and that the key is still loaded (validator.cc).
//
// Thread-safety: every method may be called from any number of threads at
// once. Lookup() never blocks, never retries and never allocates; Insert()
// never blocks and never waits for readers (it gives up instead when another
// writer holds the slot it wants). The cache owns its table; CachedToken
// copies are owned by the caller.
//
// Forgery. Entries are keyed by a 128-bit keyed tag of the whole token
// (TokenTagger, token_tag.h: AES-128 of a POLYVAL hash) under a key drawn
// from getrandom() when the cache is created. Without the key, one attempt
// to find a cached token's entry with another token succeeds with
// probability at most 2^-116 (the argument is in token_tag.h). The token
// bytes are not stored, so an entry costs a fixed BytesPerEntry() whatever
// the token's length.
//
// Layout. The table is an array of bucket headers, one cache line each,
// followed by the buckets' slots, kWays per bucket, each slot a fixed
// 256 bytes (four cache lines): a sequence word and 31 payload words (tag,
// key fingerprint, exp/nbf/iat, the instant the entry dies, the claims'
// lengths and bits, and kStringBytes = 184 of iss, sub, jti and aud bytes).
// An aud value equal to iss is stored as a one-byte reference to it, since a
// cluster's default audience is its issuer: a Kubernetes ServiceAccount token
// (iss https://kubernetes.default.svc.cluster.local, sub
// system:serviceaccount:NS:NAME, a UUID jti, aud [iss, "vault"]) needs about
// 125 bytes, an OIDC provider's token (Keycloak, Entra ID, Auth0: a URL iss,
// UUID sub and jti, one or two aud) 120 to 160. A token whose strings do not
// fit (see Insert()) bypasses the cache. Insert() writes, and Lookup()
// copies, only the words the entry's lengths say are used: an entry with up
// to 56 bytes of strings touches two of the slot's four lines.
//
// Every lookup reads a header first, so the headers are one dense array
// (8 MiB for the default million entries) rather than each before its
// slots: they then span few pages, whose translations stay in the TLB, and
// where they fit they stay in the CPU's caches. With 100,000 hot tokens
// over the default table, a hit cost the server 509-534 ns of CPU this way
// and 586-651 ns with each header before its slots (docs/performance.md).
//
// A bucket's header line holds one 16-bit hint per slot (tag bits;
// 0 = empty), one CLOCK reference byte per slot, the bucket's CLOCK hand,
// and per slot the 64-second period in which its entry dies (32 bits, so
// that it does not wrap within a token's life: DiesHint()), so that
// choosing a victim reads the slots themselves only for entries that may be
// dead. Each token has two candidate
// buckets chosen by independent tag bits (two-choice hashing), so a table
// can fill close to its capacity before a bucket overflows; a lookup reads
// the first bucket's header line and, only if the token is not there, the
// second's.
//
// Memory. A token lands anywhere in the table, so its entry and header
// touch two pages of their own: with 4 KiB pages a cache holding N tokens
// costs about 8 KiB times N of RAM until the whole table is written. Were
// the table on 2 MiB transparent huge pages from the start, a hundred
// tokens would make 167 MB of the default table resident, and a thousand
// all of it (measured). So a table of 2 MiB or more keeps small pages
// (MADV_NOHUGEPAGE, even where the system's setting is "always") and asks
// for huge pages (MADV_HUGEPAGE) only once a sixteenth of its slots have been
// filled (NoteFilledSlot()), when 4 KiB pages already hold about 63% of it
// (1 - e^-1: a sixteenth of the entries over pages of 16 slots); from then
// on it pays the TLB fewer misses for little more memory.
//
// Replacement: CLOCK within a bucket. A hit sets the slot's reference byte,
// and only when it is clear, so a hot token's hits write no shared line. An
// insert takes the slot already holding the same tag, else an empty or
// dead slot in whichever bucket has more of them, else, in one of the two
// buckets picked by a tag bit, the first slot from the hand whose reference
// byte is clear, clearing the bytes it passes.
//
// Publication (a seqlock per slot, as in Boehm, "Can Seqlocks Get Along
// with Programming Language Memory Models?", MSPC 2012). Every shared word
// is accessed through std::atomic_ref, so no access is a data race.
//   Writer: CAS seq from even s to s+1 (acquire; fails if odd or changed:
//     the writer gives up); atomic_thread_fence(release); payload words
//     stored relaxed; the slot's hint and reference byte stored relaxed;
//     seq stored s+2 with release.
//   Reader: seq loaded with acquire (odd: skip the slot); payload words
//     loaded relaxed; atomic_thread_fence(acquire); seq loaded relaxed. The
//     copy is used only when both seq loads are equal: then no writer
//     touched the slot between them, and the acquire load synchronizes with
//     the release store that published those words.
// Invariants:
//   (1) A payload is used only when read between two equal, even seq
//       values; seq only grows, in steps of 2 per write, so it never
//       repeats.
//   (2) Hints, death periods, reference bytes and the hand steer lookups and eviction
//       only: a stale value costs a miss or a worse victim, never a wrong
//       answer. A lookup accepts a slot only by its full 128-bit tag.
//   (3) An entry is inserted only for a token whose MAC verified, and never
//       answers at or after its token's exp + leeway (Lookup() treats it as
//       absent, Insert() reuses its slot first).
//   (4) Entries depend only on the token and the key that verified it, so
//       every Validator sharing a cache must share one Policy.
#ifndef TOKEND_DAEMON_AUTH_TOKEN_CACHE_H_
#define TOKEND_DAEMON_AUTH_TOKEN_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "daemon/auth/claims.h"
#include "daemon/auth/status.h"
#include "daemon/auth/token_tag.h"

namespace tokend::auth {

namespace token_cache_internal {

// Bytes of one slot: its sequence word and its Entry.
inline constexpr size_t kSlotBytes = 256;
// Bytes of an Entry before its strings.
inline constexpr size_t kFixedBytes = 64;
// Bytes of iss, sub, jti and aud (each aud value preceded by its length
// byte, an aud value equal to iss by kAudIsIss alone) one entry can hold:
// what the slot leaves.
inline constexpr size_t kStringBytes = kSlotBytes - sizeof(uint64_t) - kFixedBytes;
// The length byte of an aud value that is the entry's iss.
inline constexpr uint8_t kAudIsIss = 0xff;

// One slot's payload, copied word by word under the slot's seqlock.
struct Entry {
  uint64_t tag[2];
  uint64_t key_fingerprint;
  int64_t exp;
  int64_t nbf;
  int64_t iat;
  int64_t dead_at;  // first instant the entry no longer answers
  uint8_t present;  // ClaimBit values
  uint8_t alg;      // Alg
  uint8_t iss_len;
  uint8_t sub_len;
  uint8_t jti_len;
  uint8_t aud_count;
  uint8_t aud_bytes;  // length bytes included
  uint8_t reserved;
  char strings[kStringBytes];  // iss | sub | jti | (len, aud)...
};
static_assert(offsetof(Entry, strings) == kFixedBytes);
static_assert(sizeof(Entry) == kSlotBytes - sizeof(uint64_t));
// Every length, aud_bytes included, fits a byte, and no aud value that fits
// has the length kAudIsIss.
static_assert(kStringBytes < kAudIsIss);
inline constexpr size_t kEntryWords = sizeof(Entry) / sizeof(uint64_t);

// A slot's death, coarsely, for its bucket header: the 64-second period of
// its dead_at, mod 2^32, for an entry inserted at `now`. Insert() reads a
// slot's exact dead_at only when MaybeDead() says that period has come, so
// the live slots of a full bucket cost no read. Compared as a signed
// difference, a period is unambiguous within 2^31 periods (4,000 years) of
// now; a later death (a token without exp, an exp past the year 2100 of
// a benchmark) is recorded as 2^30 periods (2,000 years) after `now`.
inline constexpr int64_t kDiesHorizonPeriods = int64_t{1} << 30;
constexpr uint32_t DiesHint(int64_t dead_at, int64_t now) {
  const int64_t period = dead_at >> 6;
  const int64_t horizon = (now >> 6) + kDiesHorizonPeriods;
  return static_cast<uint32_t>(static_cast<uint64_t>(period < horizon ? period : horizon));
}
// Whether the entry whose DiesHint() is `dies` may be dead at `now`: false
// only while `now` is in an earlier period than its death.
constexpr bool MaybeDead(uint32_t dies, int64_t now) {
  const auto period = static_cast<uint32_t>(static_cast<uint64_t>(now >> 6));
  return static_cast<int32_t>(period - dies) >= 0;
}

}  // namespace token_cache_internal

// The tag of one token under one cache's key: computed once per request and
// used for the lookup and, on a miss, the insert.
struct TokenCacheKey {
  uint64_t tag[2] = {0, 0};
};

// A hit: a private copy of one entry, with views into itself. Not copyable
// (the views would dangle); reuse one per thread.
class CachedToken {
 public:
  CachedToken() = default;
  CachedToken(const CachedToken&) = delete;
  CachedToken& operator=(const CachedToken&) = delete;

  // The header's alg when the token verified.
  Alg alg() const { return static_cast<Alg>(entry_.alg); }
  // Key::fingerprint of the key that verified it.
  uint64_t key_fingerprint() const { return entry_.key_fingerprint; }
  // The token's claims; views valid until this object is next written.
  const ClaimsView& claims() const { return claims_; }

 private:
  friend class TokenCache;
  static constexpr size_t kMaxAudiences = 16;
  token_cache_internal::Entry entry_{};
  std::array<std::string_view, kMaxAudiences> aud_{};
  ClaimsView claims_;
};

class TokenCache {
 public:
  static constexpr size_t kWays = 8;
  static constexpr size_t kStringBytes = token_cache_internal::kStringBytes;
  static constexpr size_t kMaxAudiences = CachedToken::kMaxAudiences;

  struct Options {
    // Entries the cache holds at most (rounded up to a multiple of kWays).
    size_t max_entries = 1'000'000;
    // The policy's leeway: an entry dies at its token's exp + leeway.
    int64_t leeway_seconds = 30;
  };

  // Create()
  //
  // Reserves the table (anonymous memory: pages cost RAM only once written;
  // see "Memory" above) and draws the hash key. Fails with InvalidArgument when
  // max_entries is 0 (callers leave caching off instead) or above 2^32, or leeway is negative;
  // ResourceExhausted when the table cannot be mapped; Internal when no random key can be drawn.
  static absl::StatusOr<std::unique_ptr<TokenCache>> Create(const Options& options);
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // KeyOf()
  //
  // The 128-bit keyed tag of the whole `token`.
  TokenCacheKey KeyOf(std::string_view token) const;

  // Lookup()
  //
  // Copies the entry tagged `key` into *out and returns true when it is
  // present and alive at `now`. Returns false (a miss) otherwise, including
  // when a writer is rewriting the slot at that moment.
  [[nodiscard]] bool Lookup(const TokenCacheKey& key, int64_t now, CachedToken* out) const;

  // Insert()
  //
  // Records that the token tagged `key` verified under the key whose
  // fingerprint is `key_fingerprint`, with header `alg` and `claims`.
  // REQUIRES: the token's MAC verified and its claims parsed into `claims`.
  // Returns false, storing nothing, when the entry would be dead at `now`,
  // when iss + sub + jti + the aud values (one extra byte each, an aud value
  // equal to a non-empty iss one byte alone) exceed kStringBytes or there are
  // more than kMaxAudiences aud values (such tokens bypass the cache), or
  // when another writer holds the chosen slot.
  bool Insert(const TokenCacheKey& key, Alg alg, uint64_t key_fingerprint, const ClaimsView& claims,
              int64_t now);

  // Prefetch()
  //
  // A hint, changing nothing: starts loading the header lines of the two
  // buckets a Lookup() for `key` reads first.
  void Prefetch(const TokenCacheKey& key) const;

  // PrefetchEntry()
  //
  // A hint, changing nothing: reads the buckets' hints (best after
  // Prefetch() has had time to load them) and starts loading the lines of
  // the slot whose hint matches `key`, which a hit copies.
  void PrefetchEntry(const TokenCacheKey& key) const;

  // PrefetchForInsert()
  //
  // A hint, changing nothing: starts loading, for writing, the slot that
  // Insert() for `key` would take at `now`, so that an insert made after a
  // full verification (a few hundred nanoseconds later) finds it in cache.
  void PrefetchForInsert(const TokenCacheKey& key, int64_t now) const;

  // Entries the table can hold.
  size_t capacity() const { return num_buckets_ * kWays; }

  // The tag's implementation on this CPU (TokenTagger::Name), for the log.
  const char* tag_name() const { return TokenTagger::Name(tagger_.impl()); }

  // Slots holding an entry alive at `now`. Scans the table: for tests and
  // benchmarks, not the request path.
  size_t CountLive(int64_t now) const;

  // Table bytes per entry (the bucket header shared among kWays slots
  // included).
  static size_t BytesPerEntry();

  // Whether the table has asked for transparent huge pages (see "Memory"
  // above): for tests.
  bool huge_pages_asked() const { return huge_pages_asked_.load(std::memory_order_relaxed); }

 private:
  struct Bucket;
  struct Slot;
  enum class Found { kHit, kDead, kAbsent };
  TokenCache(Bucket* buckets, Slot* slots, size_t num_buckets, void* map, size_t map_bytes,
             int64_t leeway, std::span<const uint8_t, TokenTagger::kKeyBytes> hash_key);
  // Slot `w` of bucket `b`.
  Slot& SlotOf(const Bucket* b, size_t w) const;
  // The token's two candidate buckets; the second is null when they coincide.
  std::array<Bucket*, 2> BucketsFor(const TokenCacheKey& key) const;
  // The empty or dead slot Insert() takes first, in whichever of the
  // buckets has more of them; {nullptr, kWays} when both are full.
  std::pair<Bucket*, size_t> FreeSlot(const std::array<Bucket*, 2>& buckets, int64_t now) const;
  // Counts an insert into a never-used slot, and asks for huge pages for
  // a table of 2 MiB or more once a sixteenth of its slots are filled.
  void NoteFilledSlot();
  // Bytes of the headers and slots of a table of `num_buckets`.
  static size_t TableBytes(size_t num_buckets);
  // The bucket CLOCK evicts from when both are full.
  static Bucket* ClockBucket(const std::array<Bucket*, 2>& buckets, const TokenCacheKey& key);
  Found LookupIn(Bucket& b, const TokenCacheKey& key, uint16_t hint, int64_t now,
                 CachedToken* out) const;

  Bucket* buckets_;  // num_buckets_ headers
  Slot* slots_;      // num_buckets_ * kWays slots, after the headers
  size_t num_buckets_;
  void* map_;  // the mapping, of which buckets_ and slots_ are an aligned part
  size_t map_bytes_;
  int64_t leeway_;
  TokenTagger tagger_;  // wipes its key when destroyed
  // Written by inserts into empty slots only, on a line of their own (the
  // object's last: its size is a multiple of this alignment) so that no
  // lookup's line is.
  alignas(64) std::atomic<size_t> filled_{0};
  std::atomic<bool> huge_pages_asked_{false};
};

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_TOKEN_CACHE_H_

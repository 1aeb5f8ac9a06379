// CacheKey and Entry: what every tier stores.
//
// A CacheKey names one entry: (namespace, kind, id). Plans have kind kPlan and
// the hex digest made by KeyBuilder as id; the generic get_or_set store of
// /v1/entries uses kind kUser with the caller's own key ("workflow:step_5").
// Prefix and pattern invalidation only match kUser ids.
//
// An Entry is the stored value bytes (a JSON document, kept verbatim) plus
// metadata. Entries are immutable once built and are passed around as
// EntryPtr (shared_ptr<const Entry>): a memory-tier hit copies no payload.
//
// Thread-safety: immutable values; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"

namespace plancache {

using Bytes = std::string;
using BytesPtr = std::shared_ptr<const Bytes>;

enum class KeyKind : char {
  kPlan = 'p',  // id = hex digest from KeyBuilder
  kUser = 'u',  // id = caller-chosen key of the /v1/entries store
};

inline constexpr size_t kMaxNamespaceBytes = 64;

// The one rule for namespace names, applied once where a name enters (config
// tables, HTTP requests, KeyBuilder::plan_key): 1–64 bytes of [A-Za-z0-9_.-]
// not starting with '.' or '-' (so "../x", "a/b", "" and ".hidden" are
// rejected), so a name is safe as a path part and a metric label.
// Errors: invalid_argument naming the problem.
Status validate_namespace_name(std::string_view name);

// The one rule for caller-chosen keys (the generic store, /v1/entries, and
// the Python engine's entry_* methods): 1–512 bytes of valid UTF-8 without
// NUL or other control characters. Errors: invalid_argument naming the
// problem (not the key: the caller may quote it).
inline constexpr size_t kMaxUserKeyBytes = 512;
Status validate_user_key(std::string_view key);

class CacheKey {
 public:
  // REQUIRES: ns and id are non-empty and contain no NUL byte (validated at
  // the edge: KeyBuilder::plan_key or the server's namespace/key checks).
  CacheKey(std::string_view ns, KeyKind kind, std::string_view id);

  std::string_view ns() const { return std::string_view(encoded_).substr(0, ns_len_); }
  KeyKind kind() const { return static_cast<KeyKind>(encoded_[ns_len_ + 1]); }
  std::string_view id() const { return std::string_view(encoded_).substr(ns_len_ + 2); }
  // "<ns>\0<kind><id>": unique per key; the byte form every tier stores.
  const std::string& encoded() const { return encoded_; }
  // XXH3-64 of encoded(), computed once; tiers shard and hash by it.
  uint64_t hash() const { return hash_; }

  // Parses encoded(); returns false when `encoded` is not a valid key.
  static bool decode(std::string_view encoded, CacheKey* out);

  bool operator==(const CacheKey& o) const { return encoded_ == o.encoded_; }

 private:
  CacheKey() = default;
  std::string encoded_;
  uint32_t ns_len_ = 0;
  uint64_t hash_ = 0;
};

// An eviction hint stored with an entry ("priority" on PUT): how costly it
// is to lose, beside its recompute cost. Only the cost-aware memory policy
// (EvictionPolicy::kCost) acts on it; every other policy and tier keeps and
// returns it unchanged.
enum class EntryPriority : uint8_t {
  kNormal = 0,     // no hint (default)
  kImportant = 1,  // kCost: much costlier to lose (its cost counts 8x)
  kTemporary = 2,  // kCost: evicted before any other entry of its shard
};
// "normal", "important", "temporary".
std::string_view entry_priority_name(EntryPriority priority);
// Parses the names above. Errors: invalid_argument naming the accepted values.
Result<EntryPriority> parse_entry_priority(std::string_view name);

struct EntryMeta {
  int64_t created_ms = 0;   // wall clock, ms since epoch, when stored
  int64_t expires_ms = 0;   // 0 = never expires; tiers drop the entry then
  uint32_t compute_ms = 0;  // how long the planner took to make the value
  // 0 = fresh until expires_ms. Otherwise the entry is fresh until this time
  // and stale from then until expires_ms: kept so that it can be served
  // while it is recomputed (stale-while-revalidate) or when recomputing fails
  // (stale-if-error). Only callers that ask for stale entries see it then.
  int64_t fresh_until_ms = 0;
  std::vector<std::string> tags;
  EntryPriority priority = EntryPriority::kNormal;

  bool expired_at(int64_t now_ms) const { return expires_ms != 0 && now_ms >= expires_ms; }
  bool stale_at(int64_t now_ms) const { return fresh_until_ms != 0 && now_ms >= fresh_until_ms; }
  // When the entry stops being fresh; 0 = never.
  int64_t fresh_until() const { return fresh_until_ms != 0 ? fresh_until_ms : expires_ms; }
};

struct Entry {
  EntryMeta meta;
  BytesPtr value;  // never null in a stored entry

  // Bytes this entry is accounted for in a byte-bounded tier: the value, the
  // tags and a fixed per-entry overhead. The key's size is added by the tier.
  size_t charge() const;
};

using EntryPtr = std::shared_ptr<const Entry>;

// Builds an EntryPtr from a value; `ttl_ms` 0 = never expires. With
// `stale_grace_ms` > 0 (and a TTL), the entry is fresh for ttl_ms and kept,
// stale, for stale_grace_ms more (see EntryMeta::fresh_until_ms).
EntryPtr make_entry(BytesPtr value, int64_t now_ms, int64_t ttl_ms, uint32_t compute_ms = 0,
                    std::vector<std::string> tags = {}, int64_t stale_grace_ms = 0,
                    EntryPriority priority = EntryPriority::kNormal);

// Why an entry left a tier: given to removal listeners, and what a tier
// counts removals by (TierStats::evictions, expirations, ...).
enum class RemovalCause {
  kExplicit,     // erase() / DELETE
  kReplaced,     // a put() for the same key
  kExpired,      // its TTL ran out
  kSize,         // evicted to stay within max entries / bytes
  kInvalidated,  // matched an invalidate() selector, clear() or evict()
  kCorrupt,      // failed its checksum on read and was deleted (disk tier)
};
std::string_view removal_cause_name(RemovalCause cause);

}  // namespace plancache

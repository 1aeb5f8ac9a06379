// SharedMeta: the invalidation state of the shared tier that is not in the
// entries themselves -- per namespace (and globally) a generation counter
// and a short log of selector predicates (docs/decisions.md, "Selector
// invalidation in the shared tier").
//
// An entry in Redis carries the views it was written under (EntryHeader):
// the generation and the log length of its namespace and of the global
// meta. It is still valid iff both generations are unchanged and no
// predicate appended since (log positions at or past the recorded length)
// matches it. A writer with an outdated view records an older view, so it
// can only invalidate too much, never too little. The log is folded into a
// generation bump when it reaches kMaxLogLength, so a read checks at most
// that many predicates.
//
// Views are cached per namespace until forget() (the listener saw a meta
// key change) and fetched in one round trip otherwise; a fetch that raced
// a forget() is not cached.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"
#include "plancache/tier.h"
#include "redis/redis_client.h"
#include "tiers/redis/redis_keys.h"

namespace plancache::internal {

inline constexpr size_t kMaxLogLength = 32;

// A failed Redis call, as the shared tier reports it: kUnavailable whatever
// the client said (a refused AUTH too), so that the cache treats it as the
// shared tier being away -- never as a request error.
inline Status unreachable(const Status& s) {
  return s.is_ok() || s.code() == StatusCode::kUnavailable ? s
                                                            : Status::unavailable(s.message());
}

struct MetaView {
  uint64_t generation = 0;
  std::vector<Selector> log;  // position = index; ns is not set in them
};

struct EntryHeader {
  uint64_t global_generation = 0, global_log_length = 0;
  uint64_t ns_generation = 0, ns_log_length = 0;
};

inline constexpr size_t kEntryHeaderBytes = 4 + 4 * 8;  // "PCR1" + 4 x u64 LE

// header + envelope -> the Redis value, and back (nullopt: not ours / hostile).
std::string encode_redis_value(const EntryHeader& header, std::string_view envelope);
std::optional<EntryHeader> decode_redis_header(std::string_view value);

// The predicate text stored in a log ("" is never a predicate).
std::string encode_predicate(const Selector& selector);
// nullopt for text this build cannot read (treated as "invalidate all").
std::optional<Selector> decode_predicate(std::string_view text);

enum class Validity { kValid, kInvalid, kViewBehind };
// Whether an entry written under `header` is still valid under the views.
// kViewBehind: the entry was written under a newer view than `global` /
// `ns` (re-fetch them and ask again).
Validity check_entry(const EntryHeader& header, const MetaView& global, const MetaView& ns,
                     const CacheKey& key, const EntryMeta& meta);

class SharedMeta {
 public:
  SharedMeta(RedisClient& client, const RedisKeys& keys) : client_(client), keys_(keys) {}

  // The view of `ns` (kGlobalMeta: the global one), cached or fetched.
  // `refetch`: ignore the cached one. Errors: unavailable.
  Result<std::shared_ptr<const MetaView>> view(std::string_view ns, bool refetch = false);
  // Records `selector` in the shared store: a generation bump for a
  // namespace-only or empty selector, else a predicate in the log of its
  // namespace (or the global log). Errors: unavailable.
  Status record(const Selector& selector);

  // A meta key of `ns` changed: drop its cached view.
  void forget(std::string_view ns);
  void forget_all();

  // What changed in `ns` since the view last applied locally (refresh):
  // `whole` = everything of the namespace (generation bump, no earlier
  // view, or an unreadable predicate); else the predicates added.
  struct Changes {
    bool whole = false;
    std::vector<Selector> added;
  };
  // Fetches the view of `ns` and diffs it against the last applied one.
  // Errors: unavailable (the caller then treats it as whole).
  Result<Changes> refresh(std::string_view ns);

 private:
  Result<MetaView> fetch(std::string_view ns);

  RedisClient& client_;
  const RedisKeys& keys_;
  std::mutex mu_;  // guards the maps
  std::map<std::string, std::shared_ptr<const MetaView>, std::less<>> cached_;
  std::map<std::string, uint64_t, std::less<>> forgets_;  // forget() count per ns
  uint64_t forget_all_count_ = 0;
  std::map<std::string, MetaView, std::less<>> applied_;
};

}  // namespace plancache::internal

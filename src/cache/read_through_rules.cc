// ReadThroughEngine's lane rules (refresh-ahead hotness, the stale windows)
// and the small adapters around the engine (CacheStore, inline_executor,
// the value size bound). The flights themselves are read_through_engine.cc.
#include <algorithm>

#include "cache/read_through_engine.h"

namespace plancache::internal {
namespace {

int64_t seconds_to_ms(int64_t s) { return s > INT64_MAX / 1000 ? INT64_MAX : s * 1000; }

// Whether `entry` is stale by less than `window_s` seconds at `now_ms`.
bool stale_within(const Entry& entry, int64_t window_s, int64_t now_ms) {
  const int64_t window = seconds_to_ms(window_s);
  return window > 0 && entry.meta.fresh_until_ms != 0 &&
         now_ms - entry.meta.fresh_until_ms < window;
}

}  // namespace

Status ReadThroughStore::admit(const Bytes& value) const {
  (void)value;
  return Status::ok();
}

SharedLease ReadThroughStore::lease(const CacheKey& key) {
  (void)key;
  return {};
}

Status ReadThroughStore::store_leased(const CacheKey& key, const EntryPtr& entry,
                                      SharedLease& lease) {
  (void)lease;
  return store(key, entry);
}

void ReadThroughStore::release(const CacheKey& key, SharedLease& lease) {
  (void)key;
  (void)lease;
}

Lookup CacheStore::lookup(const CacheKey& key, bool allow_stale) {
  return cache_.get(key, GetOptions{.allow_stale = allow_stale});
}

// Cache::put makes its own entry; the options say the same as `entry`.
Status CacheStore::store(const CacheKey& key, const EntryPtr& entry) {
  const EntryMeta& meta = entry->meta;
  PutOptions options;
  options.ttl_ms = meta.expires_ms == 0 ? 0 : meta.fresh_until() - meta.created_ms;
  options.tags = meta.tags;
  options.compute_ms = meta.compute_ms;
  if (meta.fresh_until_ms != 0) options.stale_grace_ms = meta.expires_ms - meta.fresh_until_ms;
  options.priority = meta.priority;
  return cache_.put(key, entry->value, options);
}

Executor inline_executor() {
  return [](std::function<void()> job) { job(); };
}

Status check_value_size(const Bytes& value, uint64_t max_bytes) {
  if (max_bytes == 0 || value.size() <= max_bytes) return Status::ok();
  return Status::resource_exhausted("value of " + std::to_string(value.size()) +
                                    " bytes is larger than the limit of " +
                                    std::to_string(max_bytes) + " bytes");
}

const NamespacePolicy* ReadThroughEngine::policy_for(std::string_view ns) const {
  return options_.policies ? &options_.policies->get(ns) : nullptr;
}

int64_t ReadThroughEngine::stale_grace_ms(std::string_view ns) const {
  const NamespacePolicy* policy = policy_for(ns);
  return policy ? policy->read_through.stale_grace_ms() : 0;
}

bool ReadThroughEngine::may_serve_while_revalidating(std::string_view ns, const Entry& entry,
                                                     int64_t now_ms) const {
  const NamespacePolicy* policy = policy_for(ns);
  return policy != nullptr &&
         stale_within(entry, policy->read_through.stale_while_revalidate_s, now_ms);
}

bool ReadThroughEngine::may_serve_for_error(std::string_view ns, const Entry& entry,
                                            int64_t now_ms) const {
  const NamespacePolicy* policy = policy_for(ns);
  return policy != nullptr && !entry.meta.expired_at(now_ms) &&
         stale_within(entry, policy->read_through.stale_if_error_s, now_ms);
}

// Refresh-ahead: a plan is hot when hit refresh_ahead_min_hits times inside
// its window (the last refresh_ahead_ms of its freshness, at most half of
// it). hot_ only counts plans inside their window and is cleared when it
// is full and a new key comes, so a flood of distinct keys cannot grow it
// without bound (the cost: some counts start over).
bool ReadThroughEngine::note_hit(const CacheKey& key, const Entry& entry) {
  if (options_.refresh_ahead_ms <= 0 || options_.refresh_ahead_min_hits == 0) return false;
  const int64_t fresh_until = entry.meta.fresh_until();
  if (fresh_until == 0) return false;  // never expires
  const int64_t ttl = fresh_until - entry.meta.created_ms;
  const int64_t window = std::min(options_.refresh_ahead_ms, ttl / 2);
  if (fresh_until - clock_.now_ms() > window) return false;  // not near its end yet
  std::lock_guard lock(mu_);
  auto it = hot_.find(key.encoded());
  if (it == hot_.end()) {
    if (hot_.size() >= options_.max_hot_keys) hot_.clear();
    it = hot_.emplace(key.encoded(), 0).first;
  }
  uint32_t& hits = it->second;
  if (++hits < options_.refresh_ahead_min_hits) return false;
  hot_.erase(key.encoded());
  return flights_.count(key.encoded()) == 0;
}

}  // namespace plancache::internal

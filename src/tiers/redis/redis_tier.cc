// RedisTier storage: one Redis string per entry (header + envelope, PX),
// selector invalidation through SharedMeta, and the factory.
#include <algorithm>

#include "core/entry_codec.h"
#include "core/selector_match.h"
#include "redis/redis_url.h"
#include "tiers/redis/redis_tier_impl.h"

namespace plancache {

Result<std::unique_ptr<Tier>> new_redis_tier(RedisTierOptions options) {
  auto url = internal::parse_redis_url(options.url);
  if (!url.is_ok()) return url.status();
  if (options.key_prefix.empty() || options.key_prefix.find_first_of("{}: \r\n") !=
                                        std::string::npos) {
    return Status::invalid_argument("key prefix '" + options.key_prefix +
                                    "' must be non-empty, without braces, colons or spaces");
  }
  if (options.lease_ttl.count() <= 0 || options.lease_poll.count() <= 0 ||
      options.lease_wait.count() < 0) {
    return Status::invalid_argument("lease ttl and poll must be positive, lease wait not negative");
  }
  internal::RedisClientOptions client;
  client.url = std::move(url).value();
  client.connect_timeout = options.connect_timeout;
  client.command_timeout = options.command_timeout;
  client.pool_size = options.pool_size;
  // Three failed calls one after another still open the breaker: the
  // window holds at least four timeouts.
  client.failure_window = std::max(client.failure_window, options.command_timeout * 4);
  auto tier_log = options.log;
  client.log = [tier_log](std::string_view level, std::string_view message) {
    if (tier_log) tier_log(level, message);
  };
  // The breaker callback reaches the tier once it exists: a shared slot.
  auto tier_slot = std::make_shared<std::atomic<internal::RedisTier*>>(nullptr);
  client.on_node_state = [tier_slot](const internal::RedisEndpoint& node,
                                     internal::BreakerState state, const std::string& why) {
    if (internal::RedisTier* t = tier_slot->load()) t->on_breaker_state(node, state, why);
  };
  auto made = internal::new_redis_client(std::move(client));
  if (!made.is_ok()) return made.status();
  auto tier = std::make_unique<internal::RedisTier>(std::move(options), std::move(made).value());
  tier_slot->store(tier.get());
  PLANCACHE_RETURN_IF_ERROR(tier->start());
  return std::unique_ptr<Tier>(std::move(tier));
}

}  // namespace plancache

namespace plancache::internal {

RedisTier::RedisTier(RedisTierOptions options, std::unique_ptr<RedisClient> client)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : system_clock()),
      keys_(options_.key_prefix),
      client_(std::move(client)),
      meta_(*client_, keys_) {}

int64_t RedisTier::redis_ttl_ms(const CacheKey& key, const Entry& entry) const {
  int64_t ttl = 0;  // 0 = no expiry
  if (entry.meta.expires_ms != 0) ttl = std::max<int64_t>(entry.meta.expires_ms - clock_->now_ms(), -1);
  const int64_t lane = options_.policies ? options_.policies->get(key.ns()).shared.ttl_ms : 0;
  if (lane > 0 && (ttl == 0 || lane < ttl)) ttl = lane;
  return ttl;
}

Result<std::string> RedisTier::encode_value(const CacheKey& key, const Entry& entry) {
  auto global = meta_.view(kGlobalMeta);
  if (!global.is_ok()) return global.status();
  auto ns = meta_.view(key.ns());
  if (!ns.is_ok()) return ns.status();
  EntryHeader h;
  h.global_generation = (*global)->generation;
  h.global_log_length = (*global)->log.size();
  h.ns_generation = (*ns)->generation;
  h.ns_log_length = (*ns)->log.size();
  auto envelope = encode_entry(key, entry);
  if (!envelope.is_ok()) return envelope.status();
  return encode_redis_value(h, *envelope);
}

Result<EntryPtr> RedisTier::decode_valid(const CacheKey& key, const RedisReply& reply) {
  if (reply.is_nil()) return EntryPtr{};
  if (!reply.is_string()) {
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    return EntryPtr{};
  }
  const std::optional<EntryHeader> header = decode_redis_header(reply.str);
  Result<Entry> entry = header ? decode_entry(std::string_view(reply.str).substr(kEntryHeaderBytes),
                                              &key)
                               : Result<Entry>(Status::data_loss("not a plancache value"));
  if (!entry.is_ok()) {
    // Hostile or damaged bytes are a miss, never a crash; newer formats too.
    if (entry.status().code() == StatusCode::kDataLoss) corrupt_.fetch_add(1, std::memory_order_relaxed);
    return EntryPtr{};
  }
  if (entry->meta.expired_at(clock_->now_ms())) return EntryPtr{};
  for (bool refetch : {false, true}) {
    auto global = meta_.view(kGlobalMeta, refetch);
    if (!global.is_ok()) return global.status();
    auto ns = meta_.view(key.ns(), refetch);
    if (!ns.is_ok()) return ns.status();
    switch (check_entry(*header, **global, **ns, key, entry->meta)) {
      case Validity::kValid:
        return EntryPtr(std::make_shared<const Entry>(std::move(entry).value()));
      case Validity::kInvalid:
        return EntryPtr{};
      case Validity::kViewBehind:
        continue;  // written under a newer view than ours: fetch it once
    }
  }
  return EntryPtr{};  // still behind: never serve what we cannot check
}

void RedisTier::count_failure() {
  errors_.fetch_add(1, std::memory_order_relaxed);
}

Result<EntryPtr> RedisTier::get(const CacheKey& key) {
  const std::string name = keys_.entry(key);
  auto reply = client_->command(name, {"GET", name});
  if (!reply.is_ok()) {
    count_failure();
    return unreachable(reply.status());
  }
  auto entry = decode_valid(key, *reply);
  if (!entry.is_ok()) {
    count_failure();
    return entry.status();
  }
  (*entry ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return entry;
}

Status RedisTier::put(const CacheKey& key, EntryPtr entry) {
  if (entry == nullptr || entry->value == nullptr) {
    return Status::invalid_argument("entry and value must not be null");
  }
  const int64_t ttl = redis_ttl_ms(key, *entry);
  if (ttl < 0) return Status::ok();  // already expired: nothing to share
  auto value = encode_value(key, *entry);
  if (!value.is_ok()) {
    if (value.status().code() != StatusCode::kUnavailable) return value.status();
    count_failure();
    journal({keys_.entry(key), std::nullopt});
    return value.status();
  }
  const std::string name = keys_.entry(key);
  RedisArgs args{"SET", name, std::move(value).value()};
  if (ttl > 0) {
    args.push_back("PX");
    args.push_back(std::to_string(ttl));
  }
  auto reply = client_->command(name, args);
  if (!reply.is_ok() || reply->is_error()) {
    Status s = reply.is_ok() ? Status::unavailable("shared tier refused a write: " + reply->str)
                             : unreachable(reply.status());
    count_failure();
    // It may or may not have landed: make sure no older value outlives it.
    journal({name, std::nullopt});
    return s;
  }
  puts_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Result<bool> RedisTier::erase(const CacheKey& key) {
  const std::string name = keys_.entry(key);
  // The lease goes too: a compute that started before the erase must not
  // commit (its holder's commit finds the token gone).
  auto replies = client_->pipeline(name, {{"DEL", name}, {"DEL", keys_.lease(key)}});
  if (!replies.is_ok()) {
    count_failure();
    journal({name, std::nullopt});
    return false;  // replayed when Redis is back; the request does not fail
  }
  const bool removed = !replies->empty() && (*replies)[0].integer > 0;
  if (removed) invalidations_.fetch_add(1, std::memory_order_relaxed);
  return removed;
}

Result<uint64_t> RedisTier::invalidate(const Selector& selector) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  Status s = meta_.record(selector);
  guard_.invalidate_all();  // reads in flight may have checked the old view
  if (!s.is_ok()) {
    count_failure();
    journal({"", selector});
    return uint64_t{0};
  }
  invalidations_.fetch_add(1, std::memory_order_relaxed);
  return uint64_t{0};  // the shared tier cannot count what a selector removed
}

Result<uint64_t> RedisTier::evict_fraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    return Status::invalid_argument("fraction must be in (0, 1]");
  }
  return uint64_t{0};
}

TierStats RedisTier::stats() const {
  TierStats s;
  s.name = "shared";
  s.kind = TierKind::kShared;
  const RedisClientStats client = client_->stats();
  InvalidationListeners* listening = listening_.load();
  const ListenerStats listeners = listening ? listening->stats() : ListenerStats{};
  SharedTierCounters& c = s.shared;
  for (const RedisNodeStats& node : client.nodes) {
    if (!node.master) continue;
    ++c.nodes;
    if (node.breaker == BreakerState::kOpen) ++c.nodes_open;
    c.reconnects += node.reconnects;
  }
  c.breaker = c.nodes_open == 0 ? "closed" : "open";
  c.listeners = listeners.listeners;
  c.listeners_up = listeners.up;
  c.reconnects += listeners.resubscribes;
  c.invalidations_received = received_.load(std::memory_order_relaxed);
  c.flushes_received = flushes_.load(std::memory_order_relaxed);
  c.breaker_opens = breaker_opens_.load(std::memory_order_relaxed);
  c.leases_acquired = leases_acquired_.load(std::memory_order_relaxed);
  c.lease_waits = lease_waits_.load(std::memory_order_relaxed);
  c.lease_found = lease_found_.load(std::memory_order_relaxed);
  c.lease_timeouts = lease_timeouts_.load(std::memory_order_relaxed);
  c.lease_lost = lease_lost_.load(std::memory_order_relaxed);
  c.replayed_invalidations = replayed_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(journal_mu_);
    c.pending_invalidations = journal_.size();
  }
  // Connected = coherent: every listener subscribed and the flush that
  // follows a (re)subscription done, so local copies made from now on hold.
  s.connected = client_->connected() && c.nodes_open == 0 && listening != nullptr &&
                listening->all_up() && guard_.coherent();
  // Not `degraded`: the shared tier never makes a request fail, so an
  // instance whose Redis is down stays ready (served from its local tiers).
  c.state = s.connected          ? "connected"
            : c.nodes == 0       ? "connecting"
            : c.nodes_open != 0  ? "unreachable (breaker open)"
            : c.listeners_up < c.listeners || c.listeners == 0
                ? "invalidation listener not subscribed"
                : "connecting";
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.puts = puts_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.corrupt_entries = corrupt_.load(std::memory_order_relaxed);
  s.invalidations = invalidations_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace plancache::internal

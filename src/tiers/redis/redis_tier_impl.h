// RedisTier: the Tier and SharedCoordination of plancache/redis_tier.h.
// Split over files by job:
//   redis_tier.cc          storage: get / put / erase / invalidate / stats
//   redis_coherence.cc     the listener's events, flushes, the outage journal
//   redis_leases.cc        leases: acquire, renew, commit, release
//   redis_maintenance.cc   the background thread (meta refresh, replay, renewals)
// Internal to src/tiers/redis.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "plancache/redis_tier.h"
#include "plancache/shared_tier.h"
#include "redis/invalidation_listener.h"
#include "redis/redis_client.h"
#include "tiers/redis/coherence_guard.h"
#include "tiers/redis/redis_keys.h"
#include "tiers/redis/shared_meta.h"

namespace plancache::internal {

class RedisTier final : public Tier, public SharedCoordination {
 public:
  RedisTier(RedisTierOptions options, std::unique_ptr<RedisClient> client);
  ~RedisTier() override;
  // Starts the listeners and the maintenance thread (after construction:
  // their callbacks reach this object).
  Status start();

  // Tier
  TierKind kind() const override { return TierKind::kShared; }
  std::string_view name() const override { return "shared"; }
  Result<EntryPtr> get(const CacheKey& key) override;
  Status put(const CacheKey& key, EntryPtr entry) override;
  Result<bool> erase(const CacheKey& key) override;
  Result<uint64_t> invalidate(const Selector& selector) override;
  // Redis evicts by its own maxmemory policy: nothing to do here.
  Result<uint64_t> evict_fraction(double fraction) override;
  TierStats stats() const override;
  SharedCoordination* coordination() override { return this; }

  // SharedCoordination
  // Waits for a callback into the previous sink to end (the cache resets
  // it in its destructor, while the listener threads may be calling it).
  void set_sink(RemoteInvalidationSink* sink) override {
    std::unique_lock lock(sink_mu_);
    sink_ = sink;
  }
  uint64_t begin_read(const CacheKey& key) override { return guard_.begin_read(keys_.entry(key)); }
  uint64_t begin_write(const CacheKey& key) override {
    return guard_.begin_write(keys_.entry(key));
  }
  bool close(uint64_t ticket, bool applied) override { return guard_.close(ticket, applied); }
  SharedLease acquire(const CacheKey& key) override;
  Result<uint64_t> commit(const CacheKey& key, const EntryPtr& entry, SharedLease& lease) override;
  void release(const CacheKey& key, SharedLease& lease) override;

  // The client's breaker callback (a node opened or closed).
  void on_breaker_state(const RedisEndpoint& node, BreakerState state, const std::string& why);

 private:
  struct JournalItem {
    std::string redis_key;  // DEL this (entry and lease), or
    std::optional<Selector> selector;  // record this
  };
  struct HeldLease {
    std::string lease_key;
    std::string token;
  };

  // Storage helpers (redis_tier.cc).
  Result<std::string> encode_value(const CacheKey& key, const Entry& entry);
  // The entry a Redis value holds if it is valid now; null otherwise.
  Result<EntryPtr> decode_valid(const CacheKey& key, const RedisReply& reply);
  int64_t redis_ttl_ms(const CacheKey& key, const Entry& entry) const;
  void count_failure();

  // Coherence (redis_coherence.cc).
  void on_keys(const std::vector<std::string>& names);
  void on_flush();
  void on_listener_state(const RedisEndpoint& node, bool up);
  void flush_local();  // counted, not logged: its cause logs
  void journal(JournalItem item);
  bool replay_journal();  // true when the journal is empty afterwards
  void apply_meta_change(const std::string& ns);
  // Every listener subscribed and the guard not yet coherent: flush the
  // local copies (messages were missed) and trust the guard again.
  void regain_coherence();
  void log(std::string_view level, const std::string& message) const;
  // Calls fn(sink) when a sink is set, holding it against set_sink().
  template <typename Fn>
  void with_sink(Fn&& fn) const {
    std::shared_lock lock(sink_mu_);
    if (sink_ != nullptr) fn(*sink_);
  }

  // Leases (redis_leases.cc).
  void renew_leases();
  std::string new_token();

  // Maintenance (redis_maintenance.cc).
  void maintenance_loop();

  const RedisTierOptions options_;
  const std::shared_ptr<Clock> clock_;
  const RedisKeys keys_;
  std::unique_ptr<RedisClient> client_;
  SharedMeta meta_;
  CoherenceGuard guard_;
  std::unique_ptr<InvalidationListeners> listeners_;  // set once by start()
  std::atomic<InvalidationListeners*> listening_{nullptr};  // listeners_, for callbacks
  mutable std::shared_mutex sink_mu_;  // guards sink_; held shared while calling it
  RemoteInvalidationSink* sink_ = nullptr;

  // Outage journal; guarded by journal_mu_.
  mutable std::mutex journal_mu_;
  std::deque<JournalItem> journal_;
  bool journal_overflowed_ = false;

  // Held leases by token; guarded by leases_mu_.
  mutable std::mutex leases_mu_;
  std::map<std::string, HeldLease> held_;

  // Lease waiters sleep on waiters_cv_ (woken by entry / lease messages).
  std::mutex waiters_mu_;
  std::condition_variable waiters_cv_;
  uint64_t wake_seq_ = 0;  // guarded by waiters_mu_

  // The maintenance thread; guarded by work_mu_.
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::set<std::string> meta_changed_;
  bool replay_wanted_ = false;
  bool stopping_ = false;
  std::thread maintenance_;

  std::atomic<uint64_t> hits_{0}, misses_{0}, puts_{0}, errors_{0}, corrupt_{0},
      invalidations_{0}, received_{0}, flushes_{0}, breaker_opens_{0}, leases_acquired_{0},
      lease_waits_{0}, lease_found_{0}, lease_timeouts_{0}, lease_lost_{0}, replayed_{0};
};

}  // namespace plancache::internal

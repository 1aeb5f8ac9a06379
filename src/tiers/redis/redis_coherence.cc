// RedisTier coherence: what the invalidation listeners report, what a
// breaker change means for local copies, and the outage journal.
//
// - An entry key named by a message: the guard decides whether it was this
//   instance's own write; a foreign one drops the local copies (sink).
// - A meta key (generation / predicate log): the cached view goes at once
//   and every open guard fails; the maintenance thread then fetches the new
//   view and drops the local copies it invalidates.
// - A flush, a listener lost or regained, a breaker opening: anything may
//   have changed unseen, so every shared-derived local copy goes.
// - While Redis is unreachable, deletions and invalidations are journaled
//   and replayed once it is back, so nothing deleted during an outage is
//   served after it.
#include "tiers/redis/redis_tier_impl.h"

namespace plancache::internal {

void RedisTier::log(std::string_view level, const std::string& message) const {
  if (options_.log) options_.log(level, message);
}

void RedisTier::on_keys(const std::vector<std::string>& names) {
  bool wake_waiters = false;
  for (const std::string& name : names) {
    RedisKeys::Parsed parsed = keys_.parse(name);
    switch (parsed.kind) {
      case RedisKeys::Parsed::Kind::kEntry:
        wake_waiters = true;
        if (guard_.invalidated(name)) {
          received_.fetch_add(1, std::memory_order_relaxed);
          with_sink([&](RemoteInvalidationSink& s) { s.remote_key(*parsed.key); });
        }
        break;
      case RedisKeys::Parsed::Kind::kLease:
        wake_waiters = true;
        break;
      case RedisKeys::Parsed::Kind::kMeta: {
        meta_.forget(parsed.ns);
        guard_.invalidate_all();
        received_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(work_mu_);
        meta_changed_.insert(parsed.ns);
        work_cv_.notify_all();
        break;
      }
      case RedisKeys::Parsed::Kind::kOther:
        break;
    }
  }
  if (wake_waiters) {
    std::lock_guard lock(waiters_mu_);
    ++wake_seq_;
    waiters_cv_.notify_all();
  }
}

void RedisTier::flush_local() {
  meta_.forget_all();
  guard_.invalidate_all();
  flushes_.fetch_add(1, std::memory_order_relaxed);
  with_sink([](RemoteInvalidationSink& s) { s.remote_flush(); });
}

void RedisTier::on_flush() { flush_local(); }

void RedisTier::on_listener_state(const RedisEndpoint& node, bool up) {
  if (!up) {
    guard_.set_coherent(false);  // the listener logged why
    flush_local();
    return;
  }
  log("info", "shared tier: invalidation listener on " + node.text() + " subscribed");
  regain_coherence();
}

void RedisTier::regain_coherence() {
  InvalidationListeners* listeners = listening_.load();
  if (listeners == nullptr || !listeners->all_up() || guard_.coherent()) return;
  // Messages sent while a listener was down are gone: local copies may be stale.
  flush_local();
  guard_.set_coherent(true);
  std::lock_guard lock(work_mu_);
  replay_wanted_ = true;
  work_cv_.notify_all();
}

void RedisTier::on_breaker_state(const RedisEndpoint& node, BreakerState state,
                                 const std::string& why) {
  if (state == BreakerState::kOpen) {
    breaker_opens_.fetch_add(1, std::memory_order_relaxed);
    log("warn", "shared tier: " + node.text() + " unreachable, breaker open (" + why +
                    "); serving from the local tiers");
    flush_local();
    return;
  }
  log("info", "shared tier: " + node.text() + " reachable again, breaker closed");
  std::lock_guard lock(work_mu_);
  replay_wanted_ = true;
  work_cv_.notify_all();
}

void RedisTier::journal(JournalItem item) {
  {
    std::lock_guard lock(journal_mu_);
    if (journal_.size() >= options_.max_pending_invalidations) {
      journal_overflowed_ = true;  // the replay invalidates everything instead
      journal_.clear();
    } else if (!journal_overflowed_) {
      journal_.push_back(std::move(item));
    }
  }
  std::lock_guard lock(work_mu_);
  replay_wanted_ = true;
}

bool RedisTier::replay_journal() {
  for (;;) {
    JournalItem item;
    bool overflowed = false;
    {
      std::lock_guard lock(journal_mu_);
      overflowed = journal_overflowed_;
      if (!overflowed && journal_.empty()) return true;
      if (!overflowed) item = journal_.front();
    }
    Status s;
    if (overflowed) {
      s = meta_.record(Selector{});  // more was lost than remembered: all of it
    } else if (item.selector) {
      s = meta_.record(*item.selector);
    } else {
      auto r = client_->command(item.redis_key, {"DEL", item.redis_key});
      s = r.is_ok() ? Status::ok() : r.status();
    }
    if (!s.is_ok()) return false;  // still down: try again later
    replayed_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(journal_mu_);
    if (overflowed) {
      journal_overflowed_ = false;
      journal_.clear();
      log("warn", "shared tier: more invalidations than remembered during the outage; "
                  "invalidated every shared entry");
    } else if (!journal_.empty()) {
      journal_.pop_front();
    }
  }
}

void RedisTier::apply_meta_change(const std::string& ns) {
  const bool global = ns == kGlobalMeta;
  auto changes = meta_.refresh(ns);  // a round trip: no sink held meanwhile
  with_sink([&](RemoteInvalidationSink& s) {
    if (!changes.is_ok() || changes->whole) {
      if (global) return s.remote_flush();
      Selector whole;
      whole.ns = ns;
      return s.remote_selector(whole);
    }
    for (Selector selector : changes->added) {
      if (!global) selector.ns = ns;
      s.remote_selector(selector);
    }
  });
}

}  // namespace plancache::internal

// Mode detection, the cluster slot map and the background thread.
//
// One seed: the first call asks INFO cluster (cluster_enabled:1 -> cluster).
// The slot map is loaded from CLUSTER SLOTS of any known master, then any
// seed; full refreshes are throttled to one per topology_refresh_min.
// The background thread delivers breaker transitions (in the order they
// happened, outside every lock), runs due probes of open breakers and the
// refreshes that MOVED / CLUSTERDOWN / transport errors asked for.
#include <algorithm>

#include "redis/redis_client_impl.h"

namespace plancache::internal {

Result<RedisClientImpl::Mode> RedisClientImpl::ensure_mode() {
  const Mode known = mode_.load();
  if (known != Mode::kUnknown) return known;
  static const RedisArgs kInfo{"INFO", "cluster"};
  const RedisEndpoint& seed = options_.url.seeds.front();
  auto replies =
      node(seed)->run({&kInfo}, std::chrono::steady_clock::now() + options_.command_timeout);
  if (!replies.is_ok()) return replies.status();
  const RedisReply& info = replies->front();
  // An error (INFO refused by an ACL, say) is taken as standalone.
  const bool cluster = info.is_string() && info.str.find("cluster_enabled:1") != std::string::npos;
  Mode expected = Mode::kUnknown;
  if (mode_.compare_exchange_strong(expected, cluster ? Mode::kCluster : Mode::kStandalone)) {
    if (cluster) ++topology_version_;  // masters() stops being just the seed
    log("info", "redis " + seed.text() + (cluster ? ": cluster mode" : ": standalone mode"));
  }
  return mode_.load();
}

Status RedisClientImpl::refresh_topology() {
  std::lock_guard refresh(refresh_mu_);
  const SteadyTime now = std::chrono::steady_clock::now();
  if (last_refresh_ != SteadyTime{} && now - last_refresh_ < options_.topology_refresh_min) {
    return last_refresh_error_;
  }
  last_refresh_ = now;
  ++refreshes_;
  std::vector<RedisEndpoint> candidates;
  if (auto map = slot_map()) candidates = map->masters;
  for (const RedisEndpoint& seed : options_.url.seeds) {
    if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) {
      candidates.push_back(seed);
    }
  }
  static const RedisArgs kSlots{"CLUSTER", "SLOTS"};
  std::string errors;
  for (const RedisEndpoint& c : candidates) {
    auto replies =
        node(c)->run({&kSlots}, std::chrono::steady_clock::now() + options_.command_timeout);
    Status status = replies.status();
    if (status.is_ok()) {
      auto map = parse_cluster_slots(replies->front(), c);
      if (map.is_ok() && !map->masters.empty()) {
        install_map(std::move(map.value()), c);
        last_refresh_error_ = Status::ok();
        return Status::ok();
      }
      status = map.is_ok() ? Status::unavailable(c.text() + ": empty slot map") : map.status();
    }
    errors += (errors.empty() ? "" : "; ") + status.message();
  }
  last_refresh_error_ = Status::unavailable("cannot load the slot map: " + errors);
  return last_refresh_error_;
}

void RedisClientImpl::install_map(SlotMap map, const RedisEndpoint& from) {
  for (const RedisEndpoint& m : map.masters) node(m)->set_master(true);
  for (const RedisEndpoint& r : map.replicas) node(r)->set_master(false);
  {
    // A node the map no longer names (a failed master) is no master of ours.
    std::lock_guard lock(mu_);
    for (const auto& [name, n] : nodes_) {
      if (std::find_if(map.masters.begin(), map.masters.end(), [&](const RedisEndpoint& m) {
            return m.text() == name;
          }) == map.masters.end()) {
        n->set_master(false);
      }
    }
  }
  bool changed = false;
  std::string names;
  {
    std::lock_guard lock(mu_);
    changed = map_ == nullptr || map_->masters != map.masters;
    for (const RedisEndpoint& m : map.masters) names += (names.empty() ? "" : " ") + m.text();
    map_ = std::make_shared<const SlotMap>(std::move(map));
  }
  if (changed) {
    ++topology_version_;
    log("info", "redis cluster: slot map from " + from.text() + ", masters " + names);
  }
}

SteadyTime RedisClientImpl::refresh_due() {
  std::lock_guard refresh(refresh_mu_);
  return last_refresh_ == SteadyTime{} ? SteadyTime{}
                                       : last_refresh_ + options_.topology_refresh_min;
}

void RedisClientImpl::apply_moved(uint16_t slot, const RedisEndpoint& target) {
  node(target)->set_master(true);
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    auto patched = map_ != nullptr ? std::make_shared<SlotMap>(*map_) : std::make_shared<SlotMap>();
    const size_t before = patched->masters.size();
    patched->assign(slot, target);
    changed = patched->masters.size() != before;
    map_ = std::move(patched);
  }
  if (changed) ++topology_version_;
}

void RedisClientImpl::request_refresh() const {
  {
    std::lock_guard lock(bg_mu_);
    refresh_wanted_ = true;
  }
  bg_cv_.notify_all();
}

void RedisClientImpl::enqueue_event(NodeEvent event) {
  {
    std::lock_guard lock(bg_mu_);
    events_.push_back(std::move(event));
  }
  bg_cv_.notify_all();
}

void RedisClientImpl::log(std::string_view level, const std::string& message) const {
  if (options_.log) options_.log(level, message);
}

SteadyTime RedisClientImpl::probe_open_nodes() {
  std::vector<std::shared_ptr<RedisNode>> nodes;
  {
    std::lock_guard nodes_lock(mu_);
    for (const auto& [name, n] : nodes_) nodes.push_back(n);
  }
  SteadyTime wake = SteadyTime::max();
  bool master_open = false;
  for (const auto& n : nodes) {
    if (n->open() && n->next_probe() <= std::chrono::steady_clock::now()) n->probe();
    wake = std::min(wake, n->next_probe());
    master_open = master_open || (n->open() && n->stats().master);
  }
  // A master that stays unreachable may have been failed over: keep asking
  // the others for the slot map (throttled) until it is replaced.
  if (master_open && mode_.load() == Mode::kCluster) {
    const SteadyTime due = refresh_due();
    if (due <= std::chrono::steady_clock::now()) {
      (void)refresh_topology();
      wake = std::min(wake, std::chrono::steady_clock::now() + options_.topology_refresh_min);
    } else {
      wake = std::min(wake, due);
    }
  }
  return wake;
}

void RedisClientImpl::background_loop() {
  std::unique_lock lock(bg_mu_);
  bool pending = false;  // a refresh was asked for but is throttled
  while (!stopping_) {
    std::deque<NodeEvent> events;
    events.swap(events_);
    const bool refresh = refresh_wanted_ || pending;
    refresh_wanted_ = false;
    lock.unlock();
    for (const NodeEvent& e : events) {
      const bool open = e.state == BreakerState::kOpen;
      // One log line per change: the owner's, when it listens for them.
      if (options_.on_node_state) {
        options_.on_node_state(e.node, e.state, e.why);
      } else {
        log(open ? "warn" : "info",
            "redis " + e.node.text() + ": breaker " + (open ? "open: " : "closed: ") + e.why);
      }
    }
    SteadyTime wake = SteadyTime::max();
    pending = false;
    if (refresh) {
      if (mode_.load() == Mode::kUnknown) (void)ensure_mode();
      const SteadyTime due = refresh_due();
      if (mode_.load() == Mode::kCluster && due <= std::chrono::steady_clock::now()) {
        (void)refresh_topology();
      } else if (mode_.load() == Mode::kCluster) {
        pending = true;
        wake = due;
      }
    }
    wake = std::min(wake, probe_open_nodes());
    lock.lock();
    if (stopping_ || !events_.empty() || refresh_wanted_) continue;
    if (wake == SteadyTime::max()) {
      bg_cv_.wait(lock);
    } else {
      bg_cv_.wait_until(lock, wake);
    }
  }
}

}  // namespace plancache::internal

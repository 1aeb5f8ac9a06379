// Routing and redirects. A standalone client sends everything to its one
// seed. A cluster client looks the slot up in the current map (copy-on-write:
// readers take a shared_ptr, a MOVED installs a patched copy) and follows
// MOVED / ASK; TRYAGAIN and CLUSTERDOWN are retried with a doubling backoff
// until command_timeout x 4 has passed since the call began, after which the
// last reply is returned as it is (a Redis error reply, not a failed call).
#include <algorithm>
#include <cstdlib>

#include "redis/redis_client_impl.h"

namespace plancache::internal {
namespace {

constexpr int kMaxRedirects = 16;

struct Redirect {
  bool ask = false;
  uint16_t slot = 0;
  std::string target;
};

// The first MOVED / ASK among the replies: "MOVED 3999 127.0.0.1:6381".
std::optional<Redirect> find_redirect(const std::vector<RedisReply>& replies) {
  for (const RedisReply& r : replies) {
    const bool moved = redis_error_is(r, "MOVED");
    if (!moved && !redis_error_is(r, "ASK")) continue;
    const size_t sp1 = r.str.find(' ');
    const size_t sp2 = r.str.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) continue;
    Redirect out;
    out.ask = !moved;
    out.slot =
        static_cast<uint16_t>(std::strtoul(r.str.c_str() + sp1 + 1, nullptr, 10) % kRedisSlots);
    out.target = r.str.substr(sp2 + 1);
    return out;
  }
  return std::nullopt;
}

bool any_error(const std::vector<RedisReply>& replies, std::string_view word) {
  return std::any_of(replies.begin(), replies.end(),
                     [&](const RedisReply& r) { return redis_error_is(r, word); });
}

}  // namespace

RedisClientImpl::RedisClientImpl(RedisClientOptions options) : options_(std::move(options)) {
  if (options_.url.cluster_seeds()) mode_ = Mode::kCluster;
  bg_ = std::thread([this] { background_loop(); });
}

RedisClientImpl::~RedisClientImpl() {
  {
    std::lock_guard lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  bg_.join();
}

std::shared_ptr<RedisNode> RedisClientImpl::node(const RedisEndpoint& endpoint) {
  std::lock_guard lock(mu_);
  auto& slot = nodes_[endpoint.text()];
  if (slot == nullptr) {
    slot = std::make_shared<RedisNode>(endpoint, options_,
                                       [this](NodeEvent e) { enqueue_event(std::move(e)); });
  }
  return slot;
}

std::shared_ptr<const SlotMap> RedisClientImpl::slot_map() const {
  std::lock_guard lock(mu_);
  return map_;
}

Result<RedisReply> RedisClientImpl::command(std::string_view routing_key, const RedisArgs& args) {
  auto replies = run(routing_key, {&args});
  if (!replies.is_ok()) return replies.status();
  return std::move(replies->front());
}

Result<std::vector<RedisReply>> RedisClientImpl::pipeline(std::string_view routing_key,
                                                          const std::vector<RedisArgs>& commands) {
  std::vector<const RedisArgs*> ptrs;
  ptrs.reserve(commands.size());
  for (const RedisArgs& c : commands) ptrs.push_back(&c);
  if (ptrs.empty()) return std::vector<RedisReply>{};
  return run(routing_key, ptrs);
}

Result<RedisReply> RedisClientImpl::command_on(const RedisEndpoint& endpoint,
                                               const RedisArgs& args) {
  if (args.empty()) return Status::invalid_argument("redis: empty command");
  auto replies =
      node(endpoint)->run({&args}, std::chrono::steady_clock::now() + options_.command_timeout);
  if (!replies.is_ok()) return replies.status();
  return std::move(replies->front());
}

Result<std::vector<RedisReply>> RedisClientImpl::run(
    std::string_view routing_key, const std::vector<const RedisArgs*>& commands) {
  for (const RedisArgs* c : commands) {
    if (c->empty()) return Status::invalid_argument("redis: empty command");
  }
  auto mode = ensure_mode();
  if (!mode.is_ok()) return mode.status();
  if (*mode == Mode::kCluster) return run_cluster(redis_slot_of(routing_key), commands);
  return node(options_.url.seeds.front())
      ->run(commands, std::chrono::steady_clock::now() + options_.command_timeout);
}

std::optional<RedisEndpoint> RedisClientImpl::route(uint16_t slot) {
  auto map = slot_map();
  if (map == nullptr || map->masters.empty()) {
    (void)refresh_topology();
    map = slot_map();
  }
  if (map == nullptr || map->masters.empty()) return std::nullopt;
  if (const RedisEndpoint* owner = map->master_of(slot)) return *owner;
  request_refresh();
  return map->masters[slot % map->masters.size()];  // it answers MOVED or CLUSTERDOWN
}

Result<std::vector<RedisReply>> RedisClientImpl::run_cluster(
    uint16_t slot, const std::vector<const RedisArgs*>& commands) {
  const SteadyTime start = std::chrono::steady_clock::now();
  const SteadyTime give_up = start + options_.command_timeout * 4;
  auto target = route(slot);
  if (!target) {
    std::lock_guard lock(refresh_mu_);
    return Status::unavailable("redis cluster " + options_.url.redacted() + ": no slot map (" +
                               last_refresh_error_.message() + ")");
  }
  static const RedisArgs kAsking{"ASKING"};
  bool asking = false;
  auto backoff = std::chrono::milliseconds(5);
  for (int redirects = 0; redirects <= kMaxRedirects;) {
    std::vector<const RedisArgs*> sent;
    if (asking) sent.push_back(&kAsking);
    sent.insert(sent.end(), commands.begin(), commands.end());
    auto replies =
        node(*target)->run(sent, std::chrono::steady_clock::now() + options_.command_timeout);
    if (!replies.is_ok()) {
      request_refresh();  // the node may have failed over
      return replies.status();
    }
    if (asking) replies->erase(replies->begin());
    asking = false;
    if (auto redirect = find_redirect(*replies)) {
      auto next = parse_redis_node(redirect->target, *target);
      if (!next) return Status::unavailable("redis: bad redirect '" + redirect->target + "'");
      if (redirect->ask) {
        ++ask_;
        asking = true;
      } else {
        ++moved_;
        apply_moved(redirect->slot, *next);
        request_refresh();
      }
      target = *next;
      ++redirects;
      continue;
    }
    const bool tryagain = any_error(*replies, "TRYAGAIN");
    const bool down = any_error(*replies, "CLUSTERDOWN");
    if (!tryagain && !down) return replies;
    ++(tryagain ? tryagain_ : clusterdown_);
    if (down) request_refresh();
    if (std::chrono::steady_clock::now() + backoff > give_up) return replies;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    if (auto fresh = route(slot)) target = *fresh;
  }
  return Status::unavailable("redis cluster: too many redirects for slot " + std::to_string(slot));
}

std::vector<RedisEndpoint> RedisClientImpl::masters() const {
  if (mode_.load() != Mode::kCluster) return {options_.url.seeds.front()};
  auto map = slot_map();
  if (map == nullptr || map->masters.empty()) {
    request_refresh();
    return {};
  }
  return map->masters;
}

bool RedisClientImpl::connected() const {
  const auto known = masters();
  if (known.empty()) return false;
  std::lock_guard lock(mu_);
  return std::all_of(known.begin(), known.end(), [&](const RedisEndpoint& m) {
    auto it = nodes_.find(m.text());
    return it == nodes_.end() || !it->second->open();
  });
}

RedisClientStats RedisClientImpl::stats() const {
  RedisClientStats s;
  s.cluster = is_cluster();
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, n] : nodes_) s.nodes.push_back(n->stats());
  }
  s.moved = moved_;
  s.ask = ask_;
  s.tryagain = tryagain_;
  s.clusterdown = clusterdown_;
  s.topology_refreshes = refreshes_;
  return s;
}

Result<std::unique_ptr<RedisClient>> new_redis_client(RedisClientOptions options) {
  if (options.url.seeds.empty()) return Status::invalid_argument("redis: no seed node given");
  if (options.pool_size == 0)
    return Status::invalid_argument("redis: pool_size must be at least 1");
  if (options.connect_timeout.count() <= 0 || options.command_timeout.count() <= 0) {
    return Status::invalid_argument("redis: connect and command timeouts must be positive");
  }
  if (options.failures_to_open == 0) {
    return Status::invalid_argument("redis: failures_to_open must be at least 1");
  }
  if (options.probe_backoff_min.count() <= 0 ||
      options.probe_backoff_max < options.probe_backoff_min) {
    return Status::invalid_argument("redis: probe backoff must be positive with min <= max");
  }
  if (options.url.cluster_seeds() && options.url.db != 0) {
    return Status::invalid_argument("redis: a db cannot be selected in a cluster");
  }
  return std::unique_ptr<RedisClient>(std::make_unique<RedisClientImpl>(std::move(options)));
}

}  // namespace plancache::internal

// Service: builds the cache of the configuration (an L1 with one lane per
// configured namespace, the optional disk tier, the namespace policies) and
// routes each request to its handler.
//
// Non-persistent namespaces (persistent = false) are wiped from the disk
// tier here, before the cache exists and so before anything is served. The
// namespaces found on disk come from the disk tier's per-namespace counters
// (read when it opens), so the wipe visits only those namespaces' key
// ranges, never the whole store.
#include "server/service.h"

#include <spdlog/spdlog.h>

#include "cache/namespaced_tier.h"
#include "cache/write_behind_tier.h"
#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"
#include "server/auth.h"
#include "server/config_namespaces.h"
#include "server/errors.h"
#include "server/planner_setup.h"
#include "server/request_framing.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

KeyBuilderOptions key_options(const server::ServerConfig& config) {
  KeyBuilderOptions options;
  auto hash = parse_hash_algorithm(config.hash);
  if (hash.is_ok()) options.hash = *hash;
  options.ignored_fields = config.ignored_context_fields;
  return options;
}

// Counts a deferred answer in the HTTP counters when its status is known.
class CountedChannel final : public ReplyChannel {
 public:
  CountedChannel(std::shared_ptr<ReplyChannel> inner, Route route, HttpCounters& counters)
      : inner_(std::move(inner)), route_(route), counters_(counters) {}
  void reply(HttpResponse res) override {
    counters_.record(route_, res.result_int());
    inner_->reply(std::move(res));
  }
  void open_stream(HttpResponse head, std::chrono::milliseconds heartbeat_interval,
                   std::string heartbeat) override {
    counters_.record(route_, head.result_int());
    inner_->open_stream(std::move(head), heartbeat_interval, std::move(heartbeat));
  }
  void write_chunk(std::string data) override { inner_->write_chunk(std::move(data)); }
  void end_stream(std::string data) override { inner_->end_stream(std::move(data)); }

 private:
  std::shared_ptr<ReplyChannel> inner_;
  Route route_;
  HttpCounters& counters_;
};

// Removes from `disk` the entries of every namespace whose policy says
// persistent = false (unconfigured namespaces follow the default policy).
Status wipe_transient_namespaces(Tier& disk, const NamespacePolicies& policies,
                                 spdlog::logger* logger) {
  for (const auto& [ns, counters] : disk.stats().namespaces) {
    if (policies.get(ns).disk.persistent || counters.entries == 0) continue;
    Selector selector;
    selector.ns = ns;
    Result<uint64_t> n = disk.invalidate(selector);
    if (!n.is_ok()) {
      return Status(n.status().code(), "cannot wipe non-persistent namespace '" + ns +
                                           "' from the disk tier: " + n.status().message());
    }
    if (logger != nullptr) {
      logger->info("namespace '{}' is not persistent: wiped {} entries from the disk tier", ns,
                   *n);
    }
  }
  return Status::ok();
}

Result<std::unique_ptr<Tier>> open_disk_tier(const server::ServerConfig& config,
                                             std::shared_ptr<Clock> clock,
                                             std::shared_ptr<const NamespacePolicies> policies) {
  DiskTierOptions l2;
  l2.path = config.data_dir;
  l2.max_bytes = config.l2_max_bytes;
  l2.sync_writes = config.sync_writes;
  l2.clock = clock;
  l2.compress_namespace = [policies](std::string_view ns) {
    return policies->get(ns).disk.compress;
  };
  for (const auto& [ns, policy] : policies->all()) l2.kept_namespaces.push_back(ns);
  l2.wal_recovery =
      config.disk_recovery == "strict" ? WalRecovery::kStrict : WalRecovery::kPointInTime;
  if (std::shared_ptr<spdlog::logger> logger = config.logger) {
    l2.log = [logger](DiskLogLevel level, std::string_view message) {
      const auto lvl = level == DiskLogLevel::kError     ? spdlog::level::err
                       : level == DiskLogLevel::kWarning ? spdlog::level::warn
                                                         : spdlog::level::info;
      logger->log(lvl, "{}", message);
    };
  }
  auto disk = new_disk_tier(std::move(l2));
  if (!disk.is_ok()) {
    return Status(disk.status().code(),
                  "cannot open the disk tier (--data-dir): " + disk.status().message());
  }
  PLANCACHE_RETURN_IF_ERROR(wipe_transient_namespaces(**disk, *policies, config.logger.get()));
  if (config.write_behind_queue == 0) return disk;
  WriteBehindOptions behind;
  behind.max_queue = config.write_behind_queue;
  behind.clock = std::move(clock);
  return new_write_behind_tier(std::move(disk).value(), std::move(behind));
}

}  // namespace

Service::Service(const server::ServerConfig& config) {
  state_.config = config;
  state_.keys = KeyBuilder(key_options(config));
}

void Service::set_draining() {
  state_.draining.store(true, std::memory_order_relaxed);
  if (state_.planning) {
    state_.planning->stop(std::chrono::milliseconds(state_.config.stop_grace_ms));
  }
}

Result<std::unique_ptr<Service>> Service::create(const server::ServerConfig& config) {
  auto hash = parse_hash_algorithm(config.hash);
  if (!hash.is_ok()) return hash.status();
  auto policies = effective_namespaces(config);
  if (!policies.is_ok()) return policies.status();
  std::shared_ptr<Clock> clock = config.clock ? config.clock : system_clock();

  // L1: one memory tier per lane, bounded and evicting by the lane's policy.
  MemoryTierOptions l1;
  l1.clock = clock;
  auto tier = new_namespaced_tier(TierKind::kMemory, **policies,
                                  memory_sub_tier_factory(std::move(l1)));
  if (!tier.is_ok()) return tier.status();

  CacheOptions options;
  options.tiers.push_back(std::move(tier).value());
  if (!config.data_dir.empty()) {
    auto disk = open_disk_tier(config, clock, *policies);
    if (!disk.is_ok()) return disk.status();
    options.tiers.push_back(std::move(disk).value());
  }
  options.default_ttl_ms = config.default_ttl_s * 1000;
  options.clock = clock;
  options.policies = *policies;
  options.max_value_bytes = config.max_plan_bytes;
  auto cache = new_cache(std::move(options));
  if (!cache.is_ok()) return cache.status();

  std::unique_ptr<Service> service(new Service(config));
  service->state_.config.namespaces = *policies;
  service->state_.cache = std::move(cache).value();
  auto planning = make_planning(service->state_.config, *service->state_.cache);
  if (!planning.is_ok()) return planning.status();
  service->state_.planning = std::move(planning).value();
  service->state_.sse_heartbeat = std::chrono::milliseconds(config.sse_heartbeat_ms);
  service->state_.started_ns = clock->monotonic_ns();
  return service;
}

bool Service::handle(const HttpRequest& req, HttpResponse& res, const DeferFn& open_channel) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const RouteMatch match = match_route(path);
  // One pointer captured: the std::function needs no allocation.
  struct Deferral {
    const DeferFn& open;
    Route route;
    HttpCounters& counters;
    bool deferred = false;
  } deferral{open_channel, match.route, state_.http};
  Call call{req, match.rest, query, res, [d = &deferral]() -> std::shared_ptr<ReplyChannel> {
              d->deferred = true;
              return std::make_shared<CountedChannel>(d->open(), d->route, d->counters);
            }};
  if (!refuse(req, match.route, res)) dispatch(match.route, call);
  if (deferral.deferred) return true;
  state_.http.record(match.route, res.result_int());
  return false;
}

bool Service::refuse(const HttpRequest& head, Route route, HttpResponse& res) {
  if (route == Route::kNotFound) {
    reply_error(res, Status::not_found("no such endpoint"));
  } else if (!method_allowed(route, head.method())) {
    reply_error(res, http::status::method_not_allowed, "method_not_allowed",
                "method not allowed; allowed: " + std::string(allowed_methods(route)));
    res.set(http::field::allow, std::string(allowed_methods(route)));
  } else if (Status auth = authorize(route_guard(route), head, state_.config); !auth.is_ok()) {
    reply_error(res, auth);
    if (auth.code() == StatusCode::kUnauthenticated) {
      res.set(http::field::www_authenticate, "Bearer");
    }
  } else {
    return false;
  }
  return true;
}

Service::HeadCheck Service::screen_head(const HttpRequest& head, HttpResponse& res) {
  if (Status framing = check_request_framing(head); !framing.is_ok()) {
    reply_error(res, framing);
    state_.http.record(Route::kUnparsed, res.result_int());
    return HeadCheck::kMisframed;
  }
  const std::string_view target(head.target().data(), head.target().size());
  const Route route = match_route(target.substr(0, target.find('?'))).route;
  if (!refuse(head, route, res)) return HeadCheck::kPass;
  state_.http.record(route, res.result_int());
  return HeadCheck::kRefused;
}

void Service::dispatch(Route route, Call& call) {
  try {
    switch (route) {
      case Route::kPlansLookup:
        return handle_plans_lookup(state_, call);
      case Route::kPlans:
        return handle_plans(state_, call);
      case Route::kInvalidate:
        return handle_invalidate(state_, call);
      case Route::kEntries:
        return handle_entries(state_, call);
      case Route::kClear:
        return handle_clear(state_, call);
      case Route::kEvict:
        return handle_evict(state_, call);
      case Route::kStats:
        return handle_stats(state_, call);
      case Route::kMetrics:
        return handle_metrics(state_, call);
      case Route::kHealthz:
        return handle_healthz(state_, call);
      case Route::kReadyz:
        return handle_readyz(state_, call);
      case Route::kNotFound:
      case Route::kUnparsed:
        break;
    }
    reply_error(call.res, Status::not_found("no such endpoint"));
  } catch (const std::exception& e) {
    // A bug or an allocation failure; never let it reach the I/O loop.
    reply_error(call.res, Status::internal(std::string("internal error: ") + e.what()));
  }
}

void Service::reject_unparsed(HttpResponse& res, http::status status, std::string_view code,
                              std::string_view message) {
  reply_error(res, status, code, message);
  state_.http.record(Route::kUnparsed, res.result_int());
}

}  // namespace plancache::internal

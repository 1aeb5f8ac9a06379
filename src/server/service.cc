#include "server/service.h"

#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"
#include "server/auth.h"
#include "server/errors.h"

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

}  // namespace

Service::Service(const server::ServerConfig& config) {
  state_.config = config;
  state_.keys = KeyBuilder(key_options(config));
}

Result<std::unique_ptr<Service>> Service::create(const server::ServerConfig& config) {
  auto hash = parse_hash_algorithm(config.hash);
  if (!hash.is_ok()) return hash.status();
  std::shared_ptr<Clock> clock = config.clock ? config.clock : system_clock();

  MemoryTierOptions l1;
  l1.max_entries = config.l1_max_entries;
  l1.max_bytes = config.l1_max_bytes;
  l1.clock = clock;
  auto tier = new_memory_tier(std::move(l1));
  if (!tier.is_ok()) return tier.status();

  CacheOptions options;
  options.tiers.push_back(std::move(tier).value());
  if (!config.data_dir.empty()) {
    DiskTierOptions l2;
    l2.path = config.data_dir;
    l2.max_bytes = config.l2_max_bytes;
    l2.sync_writes = config.sync_writes;
    l2.clock = clock;
    auto disk = new_disk_tier(std::move(l2));
    if (!disk.is_ok()) {
      return Status(disk.status().code(),
                    "cannot open the disk tier (--data-dir): " + disk.status().message());
    }
    options.tiers.push_back(std::move(disk).value());
  }
  options.default_ttl_ms = config.default_ttl_s * 1000;
  options.clock = clock;
  auto cache = new_cache(std::move(options));
  if (!cache.is_ok()) return cache.status();

  std::unique_ptr<Service> service(new Service(config));
  service->state_.cache = std::move(cache).value();
  service->state_.started_ns = clock->monotonic_ns();
  return service;
}

void Service::handle(const HttpRequest& req, HttpResponse& res) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const RouteMatch match = match_route(path);
  Call call{req, match.rest, query, res};
  if (match.route == Route::kNotFound) {
    reply_error(res, Status::not_found("no such endpoint"));
  } else if (!method_allowed(match.route, req.method())) {
    reply_error(res, http::status::method_not_allowed, "method_not_allowed",
                "method not allowed; allowed: " + std::string(allowed_methods(match.route)));
    res.set(http::field::allow, std::string(allowed_methods(match.route)));
  } else if (Status auth = authorize(route_guard(match.route), req, state_.config); !auth.is_ok()) {
    reply_error(res, auth);
    if (auth.code() == StatusCode::kUnauthenticated) {
      res.set(http::field::www_authenticate, "Bearer");
    }
  } else {
    dispatch(match.route, call);
  }
  state_.http.record(match.route, res.result_int());
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

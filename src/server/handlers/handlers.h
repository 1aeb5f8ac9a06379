// The endpoint handlers of the HTTP API (docs/http_api.md), one function
// per route. Each handler validates its input, calls the Cache and fills the
// response (status, body, content type); version, keep-alive and auth are
// the caller's (Service::handle). A handler receives only what it uses: the
// Cache, or one of the small contexts below, built once by Service from the
// Runtime (composition.h) and the configuration.
//
// Ownership: the contexts hold references; what they refer to (the Runtime,
// the counters, the drain flag) outlives every call.
// Thread-safety: handlers run concurrently on every I/O thread; what the
// contexts refer to is either immutable or thread-safe (Cache, Planning,
// HttpCounters, DrainFlag).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/lane_keys.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"
#include "plancache/status.h"
#include "server/access_log.h"
#include "server/drain.h"
#include "server/memory_watchdog.h"
#include "server/errors.h"
#include "server/event_bus.h"
#include "server/metrics.h"
#include "server/near_miss.h"
#include "server/plan_leases.h"
#include "server/planning.h"
#include "server/reply_channel.h"
#include "server/stats_history.h"
#include "server/validation.h"

namespace plancache::internal {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

class Predictions;  // server/predictions.h

// What the plan endpoints (/v1/plans, /v1/plans/lookup) use.
struct PlanHandlers {
  Cache& cache;
  // Each lane's key builder (its key rules): every plan key is built here.
  const LaneKeys& keys;
  const NamespacePolicies& policies;
  // Read-through planning (planners may be none). Never null.
  Planning* planning;
  // POST /v1/plans/lease. Never null.
  PlanLeases* leases;
  // --access-log; null when off.
  AccessLog* access_log;
  // Where lookups that must ask the shared tier run (never an I/O thread);
  // null without a shared tier.
  boost::asio::thread_pool* shared_calls;
  // false: plan lookups always miss and plan puts are not stored.
  bool cache_enabled;
  // Heartbeat comment interval of SSE answers while a plan is computed.
  std::chrono::milliseconds sse_heartbeat;
  // Near-miss reuse (indexes kept in step, similar-goal lookups); null = none.
  NearMiss* near_miss = nullptr;
  // Predictive pre-computation (POST /v1/predict); null = no lane predicts.
  Predictions* predictions = nullptr;
};

// What /v1/stats, /v1/stats/history, /metrics and /readyz use.
struct InfoHandlers {
  const Cache& cache;
  const HttpCounters& http;
  const NamespacePolicies& policies;
  const Planning* planning;  // never null
  size_t stats_max_namespaces;
  int64_t started_ns;  // Clock::monotonic_ns at start
  const DrainFlag& draining;
  const AccessLog* access_log;            // null when off
  boost::asio::thread_pool* background;  // slow read-only work (advice)
  // GET /v1/stats/history's ring. Never null.
  const StatsHistory* history;
  const MemoryWatchdog* memory;          // null with --memory-source off
  const NearMiss* near_miss = nullptr;   // null = no near-miss figures
  const EventBus* events = nullptr;      // null = no event-stream figures
};

struct Call {
  const HttpRequest& req;
  std::string_view rest;   // path after the route prefix (kEntries, kUi)
  std::string_view query;  // after '?', "" when none
  HttpResponse& res;
  // Answer later instead of filling `res` (reply_channel.h).
  DeferFn defer;
};

// Response helpers.
void reply_json(HttpResponse& res, boost::beast::http::status status, std::string body);
void reply_error(HttpResponse& res, const Status& status);
void reply_error(HttpResponse& res, boost::beast::http::status status, std::string_view code,
                 std::string_view message);
// Appends the decimal text of `n` (answers built by hand on the hit path).
void append_int(std::string& out, int64_t n);

// The plan key of {"goal","context"?,"namespace"?}, by the namespace's lane
// key builder.
Result<PlanKey> plan_key_of(const LaneKeys& keys, const PlanFields& fields);

// Parses the body of a plan request into *body and builds its key; replies
// with the error and returns nullopt when either fails.
std::optional<PlanKey> read_plan_key(const LaneKeys& keys, Call& call, nlohmann::json* body);

// {<lead>"hit":true,"key","namespace","tier","plan",<metadata>}: `lead`
// is "{" or "{" plus members of its own, each followed by a comma.
void reply_hit(HttpResponse& res, const PlanKey& key, const Entry& entry, std::string_view tier,
               std::string_view lead);
// {<prefix>"key":..,"namespace":..<suffix>.
void reply_key(HttpResponse& res, boost::beast::http::status status, std::string_view prefix,
               const PlanKey& key, std::string_view suffix);

void handle_plans_lookup(const PlanHandlers& h, Call& call);
void handle_plan_lease(const PlanHandlers& h, Call& call);  // POST, DELETE /v1/plans/lease
// PUT /v1/plans with "lease_token": the lease holder's plan.
void put_leased_plan(const PlanHandlers& h, Call& call, const PlanKey& key,
                     const nlohmann::json& body, PutOptions options);
void handle_plans(const PlanHandlers& h, Call& call);         // PUT, POST, DELETE
void handle_read_through(const PlanHandlers& h, Call& call);  // POST /v1/plans
void handle_entries(Cache& cache, AccessLog* log, Call& call);  // `log` null when off

// The access log's record of a lookup (no-op when the log is off).
inline void log_lookup(AccessLog* log, const CacheKey& key, const Lookup& found) {
  if (log != nullptr) log->record_get(key, found.hit() ? found.entry.get() : nullptr);
}
// `near_miss` (null = none) forgets what a namespace or whole clear removed.
void handle_invalidate(Cache& cache, NearMiss* near_miss, Call& call);
void handle_clear(Cache& cache, NearMiss* near_miss, Call& call);
void handle_evict(Cache& cache, Call& call);  // also POST /api/cache/evict
// The old designs' admin endpoints (SPEC §1), over the native handlers'
// functions: POST /api/cache/clear/{name} clears a namespace as /v1/clear
// does; POST /api/plan-cache/clear?goal=&project_context= removes the plan
// of (goal, context = the string project_context) in "default" as
// DELETE /v1/plans does, or without a goal clears "default".
void handle_cache_clear_alias(Cache& cache, NearMiss* near_miss, Call& call);
void handle_plan_cache_clear_alias(const PlanHandlers& h, Call& call);
// DELETE /v1/plans once the key is known: {"removed":bool,"key","namespace"}.
void erase_plan(const PlanHandlers& h, const PlanKey& key, HttpResponse& res);
void handle_stats(const InfoHandlers& h, Call& call);
void handle_metrics(const InfoHandlers& h, Call& call);
void handle_healthz(Call& call);
void handle_advice(const InfoHandlers& h, Call& call);  // GET /v1/advice
// POST /v1/predict (predict.cc): one predictor pass on `background`;
// `predictions` null = no lane predicts (409).
void handle_predict(Predictions* predictions, boost::asio::thread_pool& background, Call& call);
void handle_readyz(const InfoHandlers& h, Call& call);
// GET /v1/events (events.cc): the event stream of `bus` as SSE.
void handle_events(EventBus& bus, Call& call);
// The filter of GET /v1/events?ns=a,b&types=put,remove,planner.
// Errors: invalid_argument naming the parameter or value.
Result<EventFilter> parse_event_filter(std::string_view query);
// GET /v1/stats/history; GET /ui and the dashboard's files (dashboard.cc).
void handle_stats_history(const InfoHandlers& h, Call& call);
void handle_ui(Call& call);

}  // namespace plancache::internal

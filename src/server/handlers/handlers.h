// The endpoint handlers of the HTTP API (docs/http_api.md), one function
// per route, over the state they share. Each handler validates its input,
// calls the Cache and fills the response (status, body, content type);
// version, keep-alive and auth are the caller's (Service::handle).
//
// Thread-safety: handlers run concurrently on every I/O thread; the state
// they share is either immutable or thread-safe (Cache, HttpCounters).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/status.h"
#include "server/config.h"
#include "server/errors.h"
#include "server/metrics.h"
#include "server/planning.h"
#include "server/reply_channel.h"
#include "server/validation.h"

namespace plancache::internal {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct ServiceState {
  server::ServerConfig config;
  std::unique_ptr<Cache> cache;
  // Read-through planning (after `cache`: destroyed first, its flights end
  // before the cache goes). Null when no planner is configured anywhere.
  std::unique_ptr<Planning> planning;
  // Heartbeat comment interval of SSE answers while a plan is computed.
  std::chrono::milliseconds sse_heartbeat{15'000};
  KeyBuilder keys;
  HttpCounters http;
  std::atomic<bool> draining{false};  // set by Server::request_stop; /readyz answers 503
  int64_t started_ns = 0;             // Clock::monotonic_ns at start
};

struct Call {
  const HttpRequest& req;
  std::string_view rest;   // path after the route prefix (kEntries)
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

// The plan key of {"goal","context"?,"namespace"?}.
Result<PlanKey> plan_key_of(const ServiceState& state, const PlanFields& fields);

// Parses the body of a plan request into *body and builds its key; replies
// with the error and returns nullopt when either fails.
std::optional<PlanKey> read_plan_key(const ServiceState& state, Call& call, nlohmann::json* body);

void handle_plans_lookup(ServiceState& state, Call& call);
void handle_plans(ServiceState& state, Call& call);  // PUT, POST, DELETE
void handle_read_through(ServiceState& state, Call& call);  // POST /v1/plans
void handle_entries(ServiceState& state, Call& call);
void handle_invalidate(ServiceState& state, Call& call);
void handle_clear(ServiceState& state, Call& call);
void handle_evict(ServiceState& state, Call& call);
void handle_stats(ServiceState& state, Call& call);
void handle_metrics(ServiceState& state, Call& call);
void handle_healthz(ServiceState& state, Call& call);
void handle_readyz(ServiceState& state, Call& call);

}  // namespace plancache::internal

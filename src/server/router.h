// The route table of the HTTP API (docs/http_api.md): which path is which
// endpoint, which methods it allows and which token guards it.
//
// Thread-safety: pure functions over a constant table.
#pragma once

// clang-format off
#include <ostream>  // first: Boost 1.74's boost/utility/string_view.hpp needs it
// clang-format on

#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <string_view>

namespace plancache::internal {

enum class Route : unsigned char {
  kPlansLookup,  // POST /v1/plans/lookup
  kPlans,        // PUT / POST / DELETE /v1/plans
  kPlanLease,    // POST / DELETE /v1/plans/lease
  kInvalidate,   // POST /v1/invalidate
  kEntries,      // GET / PUT / DELETE /v1/entries/{namespace}/{key}
  kClear,        // POST /v1/clear (admin)
  kEvict,        // POST /v1/evict, /api/cache/evict (admin)
  kStats,        // GET /v1/stats, /api/plan-cache/stats, /api/cache/stats
  kAdvice,       // GET /v1/advice
  kMetrics,      // GET /metrics
  kHealthz,      // GET /healthz
  kReadyz,       // GET /readyz
  kHistory,      // GET /v1/stats/history
  kUi,           // GET /ui, /ui/<asset> (the dashboard; no token: it holds no data)
  // The old designs' admin endpoints (SPEC §1), aliases over the native ones
  // (handlers/admin.cc); POST /api/cache/evict is kEvict itself.
  kCacheClearAlias,      // POST /api/cache/clear/{name}: /v1/clear of one namespace
  kPlanCacheClearAlias,  // POST /api/plan-cache/clear?goal=&project_context=
  kPredict,      // POST /v1/predict (admin): one predictor pass
  kEvents,       // GET /v1/events (admin): the event stream (SSE)
  kNotFound,     // anything else
  kUnparsed,     // not an HTTP request we could read (malformed, too large)
};
inline constexpr size_t kRouteCount = 20;

enum class Guard : unsigned char {
  kNone,   // /healthz, /readyz
  kApi,    // --api-token when set (the admin token is accepted too)
  kAdmin,  // --admin-token when set, else as kApi
};

struct RouteMatch {
  Route route = Route::kNotFound;
  // For kEntries: what follows "/v1/entries/" (still percent-encoded);
  // for kUi: what follows "/ui/" ("" for /ui itself); for kCacheClearAlias:
  // what follows "/api/cache/clear/" (still percent-encoded).
  std::string_view rest;
};

// `path` is the request target without its query string.
RouteMatch match_route(std::string_view path);

// Stable label for metrics ("plans_lookup").
std::string_view route_name(Route route);
Guard route_guard(Route route);
// The guard of one request: route_guard(route), except that
// /api/plan-cache/clear with a goal (`query` has a non-empty "goal") deletes
// one plan and is guarded as DELETE /v1/plans is (kApi).
Guard request_guard(Route route, std::string_view query);
bool method_allowed(Route route, boost::beast::http::verb method);
// Value of the Allow header of a 405 ("GET, PUT, DELETE").
std::string_view allowed_methods(Route route);

}  // namespace plancache::internal

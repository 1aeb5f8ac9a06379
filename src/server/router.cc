#include "server/router.h"

#include <array>

#include "server/validation.h"

namespace plancache::internal {
namespace {

using boost::beast::http::verb;

struct RouteInfo {
  std::string_view name;
  Guard guard;
  std::string_view allow;
  std::array<verb, 3> methods;  // verb::unknown pads
};

constexpr std::array<RouteInfo, kRouteCount> kRoutes = {{
    {"plans_lookup", Guard::kApi, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"plans", Guard::kApi, "PUT, POST, DELETE", {verb::put, verb::post, verb::delete_}},
    {"plan_lease", Guard::kApi, "POST, DELETE", {verb::post, verb::delete_, verb::unknown}},
    {"invalidate", Guard::kApi, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"entries", Guard::kApi, "GET, PUT, DELETE", {verb::get, verb::put, verb::delete_}},
    {"clear", Guard::kAdmin, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"evict", Guard::kAdmin, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"stats", Guard::kApi, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"advice", Guard::kApi, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"metrics", Guard::kApi, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"healthz", Guard::kNone, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"readyz", Guard::kNone, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"stats_history", Guard::kApi, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"ui", Guard::kNone, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"api_cache_clear", Guard::kAdmin, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"api_plan_cache_clear", Guard::kAdmin, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"predict", Guard::kAdmin, "POST", {verb::post, verb::unknown, verb::unknown}},
    {"events", Guard::kAdmin, "GET", {verb::get, verb::unknown, verb::unknown}},
    {"not_found", Guard::kApi, "", {verb::unknown, verb::unknown, verb::unknown}},
    {"unparsed", Guard::kNone, "", {verb::unknown, verb::unknown, verb::unknown}},
}};

const RouteInfo& info(Route route) { return kRoutes[static_cast<size_t>(route)]; }

}  // namespace

RouteMatch match_route(std::string_view path) {
  // Most frequent first.
  if (path == "/v1/plans/lookup") return {Route::kPlansLookup, {}};
  constexpr std::string_view kEntries = "/v1/entries/";
  if (path.starts_with(kEntries)) return {Route::kEntries, path.substr(kEntries.size())};
  if (path == "/v1/plans") return {Route::kPlans, {}};
  if (path == "/v1/plans/lease") return {Route::kPlanLease, {}};
  if (path == "/v1/invalidate") return {Route::kInvalidate, {}};
  if (path == "/v1/clear") return {Route::kClear, {}};
  if (path == "/v1/evict" || path == "/api/cache/evict") return {Route::kEvict, {}};
  if (path == "/v1/stats" || path == "/api/plan-cache/stats" || path == "/api/cache/stats") {
    return {Route::kStats, {}};
  }
  if (path == "/metrics") return {Route::kMetrics, {}};
  if (path == "/v1/advice") return {Route::kAdvice, {}};
  if (path == "/healthz") return {Route::kHealthz, {}};
  if (path == "/readyz") return {Route::kReadyz, {}};
  if (path == "/v1/stats/history") return {Route::kHistory, {}};
  if (path == "/ui" || path == "/ui/") return {Route::kUi, {}};
  if (path.starts_with("/ui/")) return {Route::kUi, path.substr(4)};
  constexpr std::string_view kCacheClear = "/api/cache/clear/";
  if (path.starts_with(kCacheClear)) {
    return {Route::kCacheClearAlias, path.substr(kCacheClear.size())};
  }
  if (path == "/api/plan-cache/clear") return {Route::kPlanCacheClearAlias, {}};
  if (path == "/v1/predict") return {Route::kPredict, {}};
  if (path == "/v1/events") return {Route::kEvents, {}};
  return {Route::kNotFound, {}};
}

std::string_view route_name(Route route) { return info(route).name; }
Guard route_guard(Route route) { return info(route).guard; }

Guard request_guard(Route route, std::string_view query) {
  if (route != Route::kPlanCacheClearAlias) return route_guard(route);
  auto params = parse_query(query);  // malformed: the stricter guard, then a 400
  if (!params.is_ok()) return Guard::kAdmin;
  for (const auto& [name, value] : *params) {
    if (name == "goal" && !value.empty()) return Guard::kApi;
  }
  return Guard::kAdmin;
}
std::string_view allowed_methods(Route route) { return info(route).allow; }

bool method_allowed(Route route, verb method) {
  if (method == verb::unknown) return false;
  for (verb v : info(route).methods) {
    if (v == method) return true;
  }
  return false;
}

}  // namespace plancache::internal

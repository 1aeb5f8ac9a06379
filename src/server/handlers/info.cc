// GET /v1/stats, GET /metrics, GET /healthz, GET /readyz, and the response
// helpers shared by every handler.
#include "server/errors.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

double uptime_s(const ServiceState& state) {
  return static_cast<double>(state.cache->clock().monotonic_ns() - state.started_ns) / 1e9;
}

}  // namespace

void reply_json(HttpResponse& res, http::status status, std::string body) {
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
}

void reply_error(HttpResponse& res, const Status& status) {
  reply_json(res, http_status_for(status.code()), error_body(status));
}

void reply_error(HttpResponse& res, http::status status, std::string_view code,
                 std::string_view message) {
  reply_json(res, status, error_body(code, message));
}

void handle_stats(ServiceState& state, Call& call) {
  const nlohmann::json doc = stats_document(state.cache->stats(), state.http, uptime_s(state));
  reply_json(call.res, http::status::ok, doc.dump());
}

void handle_metrics(ServiceState& state, Call& call) {
  call.res.result(http::status::ok);
  call.res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  call.res.body() = prometheus_text(state.cache->stats(), state.http, uptime_s(state));
}

void handle_healthz(ServiceState&, Call& call) {
  reply_json(call.res, http::status::ok, R"({"status":"ok"})");
}

void handle_readyz(ServiceState& state, Call& call) {
  if (state.draining.load(std::memory_order_relaxed)) {
    return reply_error(call.res, Status::unavailable("shutting down"));
  }
  reply_json(call.res, http::status::ok, R"({"ready":true})");
}

}  // namespace plancache::internal

// GET /v1/stats, GET /metrics, GET /healthz, GET /readyz, and the response
// helpers shared by every handler.
#include <charconv>
#include <optional>

#include "server/errors.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

double uptime_s(const InfoHandlers& h) {
  return static_cast<double>(h.cache.clock().monotonic_ns() - h.started_ns) / 1e9;
}

// The read-through counters, as (name, value, help) rows shared by the
// JSON and Prometheus renderings.
struct PlanningRow {
  const char* name;
  uint64_t value;
  const char* help;
};

std::vector<PlanningRow> planning_rows(const InfoHandlers& h) {
  const PlanningStats p = h.planning->stats();
  return {
      {"planner_calls", p.planner_calls, "Planner runs started"},
      {"planner_errors", p.planner_errors, "Planner runs that failed"},
      {"coalesced", p.coalesced, "Read-through callers that joined a running planner call"},
      {"stored", p.stored, "Planned plans stored"},
      {"not_stored", p.not_stored, "Planned plans below the min compute time, not stored"},
      {"stale_served", p.stale_served, "Stale plans answered"},
      {"refreshes", p.refreshes, "Background refreshes started"},
      {"refreshes_skipped", p.refreshes_skipped, "Background refreshes skipped (too many)"},
      {"inflight", p.inflight, "Planner calls running now"},
      {"leases_granted", p.leases_granted, "Leases handed to callers that compute themselves"},
      {"leases_completed", p.leases_completed, "Leases whose holder delivered the plan"},
      {"leases_expired", p.leases_expired, "Leases whose holder neither delivered nor renewed"},
      {"leases_released", p.leases_released, "Leases their holder gave back"},
      {"leases_held", p.leases_held, "Leases held now"},
  };
}

}  // namespace

void reply_json(HttpResponse& res, http::status status, std::string body) {
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
}

void append_int(std::string& out, int64_t n) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;
  out.append(buf, end);
}

void reply_error(HttpResponse& res, const Status& status) {
  reply_json(res, http_status_for(status.code()), error_body(status));
}

void reply_error(HttpResponse& res, http::status status, std::string_view code,
                 std::string_view message) {
  reply_json(res, status, error_body(code, message));
}

void handle_stats(const InfoHandlers& h, Call& call) {
  nlohmann::json doc =
      stats_document(h.cache.stats(), h.http, uptime_s(h), &h.policies, h.stats_max_namespaces);
  nlohmann::json& planning = doc["planning"];
  planning = nlohmann::json::object();
  planning["planner_configured"] = h.planning->has_planner();
  for (const PlanningRow& row : planning_rows(h)) planning[row.name] = row.value;
  doc["refreshes"] = planning["refreshes"];
  const auto memory = h.memory ? std::optional(h.memory->stats()) : std::nullopt;
  doc["memory"] = memory_stats_json(memory ? &*memory : nullptr);
  if (h.near_miss != nullptr) {
    nlohmann::json lanes = h.near_miss->stats_json();
    for (auto it = lanes.begin(); it != lanes.end(); ++it) {
      doc["namespaces"][it.key()]["near_miss"] = std::move(it.value());
    }
  }
  if (h.events != nullptr) doc["events"] = h.events->stats_json();
  reply_json(call.res, http::status::ok, doc.dump());
}

void handle_metrics(const InfoHandlers& h, Call& call) {
  call.res.result(http::status::ok);
  call.res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::string& body = call.res.body();
  body = prometheus_text(h.cache.stats(), h.http, uptime_s(h), &h.policies, h.stats_max_namespaces);
  for (const PlanningRow& row : planning_rows(h)) {
    const std::string_view name(row.name);
    const bool gauge = name == "inflight" || name == "leases_held";
    const std::string metric = std::string("plancache_planning_") + row.name +
                               (gauge ? "" : "_total");
    body += "# HELP " + metric + " " + row.help + "\n# TYPE " + metric +
            (gauge ? " gauge\n" : " counter\n") + metric + " " + std::to_string(row.value) +
            "\n";
  }
  const auto memory = h.memory ? std::optional(h.memory->stats()) : std::nullopt;
  body += memory_stats_prometheus(memory ? &*memory : nullptr);
  if (h.near_miss != nullptr) body += h.near_miss->prometheus_text();
  if (h.events != nullptr) body += h.events->prometheus_text();
}

void handle_healthz(Call& call) { reply_json(call.res, http::status::ok, R"({"status":"ok"})"); }

void handle_readyz(const InfoHandlers& h, Call& call) {
  if (h.draining.is_set()) {
    return reply_error(call.res, Status::unavailable("shutting down"));
  }
  // Not ready while a tier refuses writes (e.g. the disk tier after a full
  // disk, until it resumes by itself): a PUT routed here would get 503.
  for (const TierStats& tier : h.cache.stats().tiers) {
    if (!tier.degraded.empty()) {
      return reply_error(call.res,
                         Status::unavailable("tier " + tier.name + " is " + tier.degraded));
    }
  }
  reply_json(call.res, http::status::ok, R"({"ready":true})");
}

}  // namespace plancache::internal

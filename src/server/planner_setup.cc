#include "server/planner_setup.h"

namespace plancache::internal {
namespace {

// One planner from a URL or a command ("" = none). `scope` names the
// settings in errors ("--planner-url / --planner-cmd", "[namespaces.x]").
Result<std::shared_ptr<Planner>> planner_from(const server::ServerConfig& config,
                                              const std::string& url, const std::string& cmd,
                                              const std::string& scope) {
  if (!url.empty() && !cmd.empty()) {
    return Status::invalid_argument(scope + ": give a planner URL or a planner command, not both");
  }
  Result<std::unique_ptr<Planner>> made = std::unique_ptr<Planner>();
  if (!url.empty()) {
    HttpPlannerOptions options;
    options.url = url;
    options.timeout_ms = config.planner_timeout_ms;
    options.max_idle_connections = config.planner_max_concurrent;
    options.max_answer_bytes = config.max_plan_bytes;
    made = new_http_planner(std::move(options));
  } else if (!cmd.empty()) {
    CommandPlannerOptions options;
    options.command = cmd;
    options.timeout_ms = config.planner_timeout_ms;
    options.max_concurrent = config.planner_max_concurrent;
    options.max_answer_bytes = config.max_plan_bytes;
    made = new_command_planner(std::move(options));
  }
  if (!made.is_ok()) {
    return Status(made.status().code(), scope + ": " + made.status().message());
  }
  return std::shared_ptr<Planner>(std::move(made).value());
}

}  // namespace

Result<std::unique_ptr<Planning>> make_planning(const server::ServerConfig& config, Cache& cache) {
  PlanningOptions options;
  auto global =
      planner_from(config, config.planner_url, config.planner_cmd, "--planner-url / --planner-cmd");
  if (!global.is_ok()) return global.status();
  options.planner = std::move(global).value();
  std::shared_ptr<const NamespacePolicies> policies = config.namespaces;
  for (const auto& [ns, lane] : config.namespace_planners) {
    auto planner = planner_from(config, lane.url, lane.cmd, "[namespaces." + ns + "]");
    if (!planner.is_ok()) return planner.status();
    if (*planner) options.namespace_planners.emplace(ns, std::move(planner).value());
  }
  options.max_concurrent = config.planner_max_concurrent;
  options.refresh_ahead_ms = config.refresh_ahead_s * 1000;
  options.refresh_ahead_min_hits = config.refresh_ahead_min_hits;
  options.max_background_refreshes = config.max_background_refreshes;
  options.store = config.cache_enabled;
  return std::make_unique<Planning>(cache, std::move(policies), std::move(options));
}

}  // namespace plancache::internal

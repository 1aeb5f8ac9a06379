#include "server/planner_setup.h"

#include <spdlog/spdlog.h>

namespace plancache::internal {
namespace {

// One planner from a URL or a command ("" = none). `scope` names the
// settings in errors ("--planner-url / --planner-cmd", "[namespaces.x]").
Result<std::shared_ptr<Planner>> planner_from(const server::ServerConfig& config,
                                              const std::string& url, const std::string& cmd,
                                              bool incremental, const std::string& scope) {
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
    options.incremental = incremental;
    made = new_http_planner(std::move(options));
  } else if (!cmd.empty()) {
    CommandPlannerOptions options;
    options.command = cmd;
    options.timeout_ms = config.planner_timeout_ms;
    options.max_concurrent = config.planner_max_concurrent;
    options.max_answer_bytes = config.max_plan_bytes;
    options.incremental = incremental;
    made = new_command_planner(std::move(options));
  }
  if (!made.is_ok()) {
    return Status(made.status().code(), scope + ": " + made.status().message());
  }
  return std::shared_ptr<Planner>(std::move(made).value());
}

// A lane asking for incremental planning whose planner does not declare the
// capability is planned as usual: say so once, at start.
void warn_incremental_without_capability(const server::ServerConfig& config,
                                         const Planning& planning, const NearMiss* near_miss) {
  if (near_miss == nullptr || !config.logger) return;
  for (const auto& [ns, lane] : near_miss->lanes()) {
    const Planner* planner = planning.planner_for(ns);
    if (!lane->policy.incremental || planner == nullptr || planner->accepts_incremental()) {
      continue;
    }
    config.logger->warn(
        "namespace '{}': incremental = true, but its planner ({}) does not declare "
        "planner_incremental: its misses are planned in full",
        ns, planner->describe());
  }
}

}  // namespace

Result<std::unique_ptr<Planning>> make_planning(const server::ServerConfig& config, Cache& cache,
                                                NearMiss* near_miss, EventBus* events) {
  PlanningOptions options;
  auto global = planner_from(config, config.planner_url, config.planner_cmd,
                             config.planner_incremental, "--planner-url / --planner-cmd");
  if (!global.is_ok()) return global.status();
  options.planner = std::move(global).value();
  std::shared_ptr<const NamespacePolicies> policies = config.namespaces;
  for (const auto& [ns, lane] : config.namespace_planners) {
    auto planner =
        planner_from(config, lane.url, lane.cmd, lane.incremental, "[namespaces." + ns + "]");
    if (!planner.is_ok()) return planner.status();
    if (*planner) options.namespace_planners.emplace(ns, std::move(planner).value());
  }
  options.max_concurrent = config.planner_max_concurrent;
  options.refresh_ahead_ms = config.refresh_ahead_s * 1000;
  options.refresh_ahead_min_hits = config.refresh_ahead_min_hits;
  options.max_background_refreshes = config.max_background_refreshes;
  options.store = config.cache_enabled;
  options.near_miss = near_miss;
  options.events = events;
  auto planning = std::make_unique<Planning>(cache, std::move(policies), std::move(options));
  warn_incremental_without_capability(config, *planning, near_miss);
  return planning;
}

}  // namespace plancache::internal

// The outputs of `plancache simulate`: the text table and the --json
// document (the SVG plot is sim/plot.h). docs/cli.md describes both.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/replay.h"
#include "sim/sizes.h"
#include "sim/trace.h"

namespace plancache::internal {

struct SimReport {
  std::string trace;  // the path as given
  TraceFormat format = TraceFormat::kAuto;
  uint64_t requests = 0;
  uint64_t unique_keys = 0;
  SizeUnit by = SizeUnit::kEntries;
  bool has_costs = false;  // some request carries a cost_ms
  uint32_t shards = 0;     // as asked (0 = the tier's rule)
  // Ordered by size, then by policy as given.
  std::vector<SimResult> results;
  std::optional<Knee> knee;  // with --sizes auto
};

// Sorts `results` by size, keeping the given policy order within a size.
void order_results(std::vector<SimResult>* results);

// r.hits / the optimal run's hits at the same size (1 for the optimal run
// itself); nullopt when optimal was not run at that size or never hits.
std::optional<double> share_of_optimal(const SimReport& report, const SimResult& r);

// The human-readable table, with a header line and notes.
std::string format_table(const SimReport& report);

// {"trace","format","requests","unique_keys","by","shards","results":[...],
//  "knee"?}; docs/cli.md has the fields.
nlohmann::json report_json(const SimReport& report);

}  // namespace plancache::internal

// Renders the JSON of GET /v1/stats as a human summary (`stats --format table`).
//
// The renderer knows no field names, so it keeps working as the server adds
// statistics: top-level scalars are listed first ("l1_hits  42"); a top-level
// object whose members are all objects (per tier, per namespace) becomes a
// table with one row per member and one column per scalar field (nested
// objects are flattened one level as "parent.field"); any other object is
// listed as "name.field  value". Doubles print with at most 4 decimals.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace plancache::cli {

void render_stats_table(const nlohmann::json& stats, std::ostream& out);

}  // namespace plancache::cli

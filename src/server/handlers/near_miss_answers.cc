#include "server/handlers/near_miss_answers.h"

#include <charconv>
#include <cmath>

#include "server/validation.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

Status not_a_number(std::string_view where) {
  return Status::invalid_argument(std::string(where) +
                                  " must be a number (the lowest similarity "
                                  "score a similar-goal answer may have)");
}

Result<std::optional<double>> query_min_score(std::string_view query) {
  auto pairs = parse_query(query);
  if (!pairs.is_ok()) return pairs.status();
  for (const auto& [name, value] : *pairs) {
    if (name != "min_score") continue;
    double x = 0;
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, x);
    if (value.empty() || ec != std::errc() || ptr != end || !std::isfinite(x)) {
      return not_a_number("query parameter 'min_score'");
    }
    return std::optional<double>(x);
  }
  return std::optional<double>();
}

}  // namespace

Result<std::optional<double>> similar_min_score(const NearMiss* near_miss, std::string_view ns,
                                                const json& body, std::string_view query) {
  const NearMissLane* lane = near_miss != nullptr ? near_miss->lane(ns) : nullptr;
  if (lane == nullptr || !lane->policy.similar()) return std::optional<double>();
  if (const auto it = body.find("min_score"); it != body.end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      return not_a_number("field 'min_score'");
    }
    return std::optional<double>(it->get<double>());
  }
  return query_min_score(query);
}

std::string exact_hit_members(const NearMiss* near_miss, std::string_view ns) {
  NearMissLane* lane = near_miss != nullptr ? near_miss->lane(ns) : nullptr;
  if (lane == nullptr) return "";
  lane->counters.exact_hits.fetch_add(1, std::memory_order_relaxed);
  return lane->policy.similar() ? R"(,"match":"exact")" : "";
}

std::string similar_hit_members(const SimilarFind& find) {
  const SimilarMatch& best = *find.result.best;
  std::string out = R"(,"match":"similar","score":)";
  out += json(best.score).dump();
  out += R"(,"matched_goal":)";
  out += json(best.goal).dump(-1, ' ', false, json::error_handler_t::replace);
  out += R"(,"matched_key":")";
  out += best.key;  // hex digits
  out += '"';
  return out;
}

std::string near_miss_members(const SimilarResult& result) {
  std::string out = R"(,"best_near_miss_score":)";
  out += json(result.best_near_miss_score).dump();
  if (result.veto) {
    out += R"(,"veto":")";
    out += veto_reason_name(*result.veto);
    out += '"';
  }
  return out;
}

std::string hit_lead(std::string_view members) {
  if (members.empty()) return "{";
  std::string lead = "{";
  lead += members.substr(1);  // without its leading comma
  lead += ',';
  return lead;
}

}  // namespace plancache::internal

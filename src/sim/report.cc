#include "sim/report.h"

#include <algorithm>
#include <cstdio>

namespace plancache::internal {
namespace {

// "1,234,567".
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f %%", 100.0 * share);
  return text;
}

std::string seconds(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", ms / 1000.0);
  return text;
}

std::string base_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

const SimResult* optimal_at(const SimReport& report, uint64_t size) {
  for (const SimResult& r : report.results) {
    if (r.policy == SimPolicy::kOptimal && r.size == size) return &r;
  }
  return nullptr;
}

bool ran_optimal(const SimReport& report) {
  return std::any_of(report.results.begin(), report.results.end(),
                     [](const SimResult& r) { return r.policy == SimPolicy::kOptimal; });
}

std::string header_line(const SimReport& report) {
  return "trace " + base_name(report.trace) + " (" + std::string(trace_format_name(report.format)) +
         "): " + grouped(report.requests) + " requests, " + grouped(report.unique_keys) +
         " distinct keys; sizes in " + std::string(size_unit_name(report.by)) +
         (report.shards == 0 ? "" : "; " + std::to_string(report.shards) + " shard(s) per tier") +
         "\n";
}

std::string notes(const SimReport& report) {
  std::string text;
  if (report.knee) {
    const Knee& k = *report.knee;
    text += "knee (" + std::string(sim_policy_name(k.policy)) + "): " + grouped(k.size) + " " +
            std::string(size_unit_name(report.by)) + ", hit rate " + percent(k.hit_rate) +
            " = 90 % of the best on the ladder (" + percent(k.best_hit_rate) + ")\n";
  }
  if (ran_optimal(report)) {
    text += report.by == SizeUnit::kEntries
                ? "optimal: Belady's MIN (offline; no policy gets more hits at that size)\n"
                : "optimal: Belady's rule over charged bytes, a heuristic bound and not the "
                  "optimum (a policy may exceed it)\n";
  }
  if (report.by == SizeUnit::kBytes) {
    text += "bytes are charged as the memory tier charges them: value + " +
            std::to_string(entry_overhead_bytes()) + " bytes of entry overhead + the key\n";
  }
  if (!report.has_costs) text += "planner-s saved: the trace has no costs\n";
  return text;
}

}  // namespace

void order_results(std::vector<SimResult>* results) {
  std::stable_sort(results->begin(), results->end(),
                   [](const SimResult& a, const SimResult& b) { return a.size < b.size; });
}

std::optional<double> share_of_optimal(const SimReport& report, const SimResult& r) {
  const SimResult* optimal = optimal_at(report, r.size);
  if (optimal == nullptr || optimal->hits == 0) return std::nullopt;
  return static_cast<double>(r.hits) / static_cast<double>(optimal->hits);
}

std::string format_table(const SimReport& report) {
  const bool optimal = ran_optimal(report);
  std::string out = header_line(report);
  char line[200];
  std::snprintf(line, sizeof line, "%-8s %14s %10s %14s %16s%s\n", "policy", "size", "hit rate",
                "byte hit rate", "planner-s saved", optimal ? "   of optimal" : "");
  out += line;
  for (const SimResult& r : report.results) {
    const std::optional<double> share = share_of_optimal(report, r);
    const std::string share_text = !optimal ? "" : share ? "   " + percent(*share) : "   -";
    std::snprintf(line, sizeof line, "%-8s %14s %10s %14s %16s%s\n",
                  std::string(sim_policy_name(r.policy)).c_str(), grouped(r.size).c_str(),
                  percent(hit_rate(r)).c_str(), percent(byte_hit_rate(r)).c_str(),
                  report.has_costs ? seconds(r.cost_ms_saved).c_str() : "-", share_text.c_str());
    out += line;
  }
  return out + notes(report);
}

nlohmann::json report_json(const SimReport& report) {
  nlohmann::json results = nlohmann::json::array();
  for (const SimResult& r : report.results) {
    nlohmann::json row = {{"policy", sim_policy_name(r.policy)},
                          {"size", r.size},
                          {"requests", r.requests},
                          {"hits", r.hits},
                          {"hit_rate", hit_rate(r)},
                          {"byte_hit_rate", byte_hit_rate(r)},
                          {"planner_seconds_saved", r.cost_ms_saved / 1000.0}};
    if (const std::optional<double> share = share_of_optimal(report, r)) {
      row["share_of_optimal"] = *share;
    }
    results.push_back(std::move(row));
  }
  nlohmann::json doc = {
      {"trace", report.trace},           {"format", trace_format_name(report.format)},
      {"requests", report.requests},     {"unique_keys", report.unique_keys},
      {"by", size_unit_name(report.by)}, {"shards", report.shards},
      {"results", std::move(results)}};
  if (report.knee) {
    doc["knee"] = {{"policy", sim_policy_name(report.knee->policy)},
                   {"size", report.knee->size},
                   {"hit_rate", report.knee->hit_rate},
                   {"best_hit_rate", report.knee->best_hit_rate},
                   {"rule", "smallest size of the ladder reaching 90% of its best hit rate"}};
  }
  return doc;
}

}  // namespace plancache::internal

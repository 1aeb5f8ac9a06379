// Advice from an access log: see advice.h. Three steps: read the log into
// one request stream per lane (read_log), replay each lane over a ladder of
// sizes with every policy (replay_lane), and turn the curves into advice
// (advise_lane), each figure with the sentence that says what it rests on.
#include "sim/advice.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "sim/sizes.h"

namespace plancache::internal {
namespace {

constexpr double kDaySeconds = 86'400;
constexpr size_t kMinIntervalsForTtl = 20;
constexpr double kTtlQuantile = 0.9;

// One lane's part of the log: its gets (size and cost as the trace reader
// gives them -- a miss's from the put that followed it) and the intervals
// between consecutive gets of a key.
struct KeyState {
  int64_t last_get_ms = -1;  // -1: no time yet
  uint64_t size = 1;         // of its latest get
};
struct LaneLog {
  std::vector<Access> gets;
  std::unordered_map<uint64_t, KeyState> keys;
  std::vector<int64_t> intervals_ms;
  int64_t first_ms = -1, last_ms = -1;
};

void add_get(const Access& get, std::map<std::string, LaneLog>& lanes) {
  LaneLog& lane = lanes[get.ns];
  KeyState& key = lane.keys[get.key];
  key.size = std::max<uint64_t>(get.size, 1);
  if (const int64_t t = get.time_ms; t >= 0) {
    if (key.last_get_ms >= 0 && t >= key.last_get_ms) lane.intervals_ms.push_back(t - key.last_get_ms);
    key.last_get_ms = t;
    if (lane.first_ms < 0) lane.first_ms = t;
    lane.last_ms = std::max(lane.last_ms, t);
  }
  Access a = get;
  a.size = std::max<uint64_t>(a.size, 1);
  lane.gets.push_back(std::move(a));
}

// The gets of every log file, by lane; *lines counts the lines read.
Result<std::map<std::string, LaneLog>> read_log(const AdviceOptions& options, uint64_t* lines) {
  std::map<std::string, LaneLog> lanes;
  bool any = false;
  for (const std::string& path : options.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    any = true;
    Result<std::unique_ptr<TraceReader>> reader = open_trace(path, TraceFormat::kJsonl);
    if (!reader.is_ok()) return reader.status();
    Access get;
    for (;;) {
      Result<bool> more = (*reader)->next(&get);
      if (!more.is_ok()) return more.status();
      if (!*more) break;
      add_get(get, lanes);
    }
    *lines += (*reader)->lines_read();
  }
  if (!any) return Status::not_found("no access log yet (nothing written to it so far)");
  return lanes;
}

std::vector<SimPolicy> policies_to_compare() {
  std::vector<SimPolicy> out = {SimPolicy::kTinyLfu, SimPolicy::kLru};
  if (tier_policy(SimPolicy::kCost)) out.push_back(SimPolicy::kCost);
  return out;
}

SimPolicy sim_policy_of(EvictionPolicy p) {
  for (SimPolicy s : policies_to_compare()) {
    if (tier_policy(s) == p) return s;
  }
  return SimPolicy::kTinyLfu;
}

const SimResult* result_at(const std::vector<SimResult>& results, SimPolicy policy,
                           uint64_t size) {
  for (const SimResult& r : results) {
    if (r.policy == policy && r.size == size) return &r;
  }
  return nullptr;
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", share * 100);
  return buf;
}

}  // namespace

namespace {

// Sizes (of the sample) to replay a lane at: the ladder, plus its current size.
std::vector<uint64_t> lane_sizes(uint64_t unique_keys, uint64_t current_sampled) {
  std::vector<uint64_t> sizes = size_ladder(std::max<uint64_t>(unique_keys, 1));
  if (current_sampled > 0) sizes.push_back(current_sampled);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

Result<std::vector<SimResult>> replay_lane(const LaneLog& lane, std::vector<uint64_t> sizes) {
  ReplayOptions options;
  options.policies = policies_to_compare();
  options.sizes = std::move(sizes);
  auto replayer = Replayer::create(options, nullptr);
  if (!replayer.is_ok()) return replayer.status();
  for (const Access& a : lane.gets) {
    if (Status s = (*replayer)->access(a); !s.is_ok()) return s;
  }
  return (*replayer)->results();
}

// The advised size of the sample: the smallest reaching the target, else the knee.
std::pair<uint64_t, std::string> pick_size(const std::vector<SimResult>& results,
                                           const AdviceOptions& options) {
  if (options.target_hit_rate) {
    for (const SimResult& r : results) {  // sizes ascending within a policy
      if (r.policy == SimPolicy::kTinyLfu && hit_rate(r) >= *options.target_hit_rate) {
        return {r.size, "the smallest L1 whose simulated hit rate reaches the target " +
                            percent(*options.target_hit_rate)};
      }
    }
  }
  const std::optional<Knee> knee = find_knee(results, SimPolicy::kTinyLfu);
  if (!knee) return {0, "no request was a re-request: no L1 size helps this lane"};
  std::string basis = "the knee of the hit-rate curve: " + percent(knee->hit_rate) + " of " +
                      percent(knee->best_hit_rate) + " at most";
  if (options.target_hit_rate) {
    basis = "the target " + percent(*options.target_hit_rate) + " is out of reach (at most " +
            percent(knee->best_hit_rate) + "); " + basis;
  }
  return {knee->size, basis};
}

double per_day(double cost_ms, double sample, double span_s) {
  return cost_ms / 1000.0 / sample * kDaySeconds / std::max(span_s, 1.0);
}

void advise_policy(const std::vector<SimResult>& results, uint64_t size, double sample,
                   double span_s, LaneAdvice& out) {
  const SimResult* best = result_at(results, SimPolicy::kTinyLfu, size);
  for (SimPolicy p : policies_to_compare()) {
    const SimResult* r = result_at(results, p, size);
    if (r == nullptr) continue;
    out.saved_per_day_by_policy.emplace_back(p, per_day(r->cost_ms_saved, sample, span_s));
    // Another policy wins only by more than 1 % of planner time (or hits).
    const bool costs = r->cost_ms_requested > 0;
    const double mine = costs ? r->cost_ms_saved : static_cast<double>(r->hits);
    const double theirs = costs ? best->cost_ms_saved : static_cast<double>(best->hits);
    if (mine > theirs * 1.01) best = r;
  }
  out.policy = best->policy;
  out.hit_rate = hit_rate(*best);
  out.planner_seconds_saved_per_day = per_day(best->cost_ms_saved, sample, span_s);
  out.policy_basis = std::string(sim_policy_name(best->policy)) +
                     (best->cost_ms_requested > 0 ? " saves the most planner time"
                                                  : " hits the most") +
                     " at that size in the replay (" + percent(hit_rate(*best)) + " hit rate)";
}

void advise_ttl(std::vector<int64_t> intervals, LaneAdvice& out) {
  if (intervals.size() < kMinIntervalsForTtl) {
    out.ttl_basis = "too few re-requests (" + std::to_string(intervals.size()) + ", need " +
                    std::to_string(kMinIntervalsForTtl) + ") to tell";
    return;
  }
  const size_t at = static_cast<size_t>(std::ceil(kTtlQuantile * intervals.size())) - 1;
  std::nth_element(intervals.begin(), intervals.begin() + static_cast<ptrdiff_t>(at),
                   intervals.end());
  const int64_t ttl_s = std::max<int64_t>(1, (intervals[at] + 999) / 1000);
  out.ttl_s = ttl_s;
  out.ttl_basis = percent(kTtlQuantile) + " of the " + std::to_string(intervals.size()) +
                  " re-requests came within " + std::to_string(ttl_s) +
                  " s of the previous request of their key";
}

LaneAdvice advise_lane(const std::string& ns, const LaneLog& lane,
                       const std::vector<SimResult>& results, const AdviceOptions& options,
                       uint64_t current_sampled, SimPolicy current_policy) {
  LaneAdvice out;
  out.ns = ns;
  out.requests = lane.gets.size();
  out.unique_keys = lane.keys.size();
  out.span_s = lane.first_ms < 0 ? 0 : (lane.last_ms - lane.first_ms) / 1000.0;
  const auto [size, basis] = pick_size(results, options);
  out.size_basis = basis + " (simulated over the " + std::to_string(out.unique_keys) +
                   " sampled keys, scaled by 1/" + std::to_string(options.sample).substr(0, 5) +
                   ")";
  advise_ttl(lane.intervals_ms, out);
  if (size == 0) return out;
  out.entries = static_cast<uint64_t>(std::ceil(size / options.sample));
  double charged = 0;
  for (const auto& [key, state] : lane.keys) {
    Access a;
    a.size = state.size;
    charged += static_cast<double>(charged_bytes(a));
  }
  out.bytes = static_cast<uint64_t>(charged / std::max<size_t>(lane.keys.size(), 1) *
                                    static_cast<double>(out.entries));
  advise_policy(results, size, options.sample, out.span_s, out);
  if (const SimResult* now = result_at(results, current_policy, current_sampled)) {
    out.current_entries = static_cast<uint64_t>(std::ceil(current_sampled / options.sample));
    out.current_hit_rate = hit_rate(*now);
    out.current_saved_per_day = per_day(now->cost_ms_saved, options.sample, out.span_s);
  }
  return out;
}

}  // namespace

Result<Advice> advise_from_access_log(const AdviceOptions& options) {
  if (!(options.sample > 0 && options.sample <= 1)) {
    return Status::invalid_argument("the sample must be in (0, 1]");
  }
  Advice advice;
  advice.sample = options.sample;
  auto lanes = read_log(options, &advice.lines);
  if (!lanes.is_ok()) return lanes.status();
  for (const auto& [ns, lane] : *lanes) {
    if (lane.gets.empty()) continue;
    uint64_t current_sampled = 0;
    SimPolicy current_policy = SimPolicy::kTinyLfu;
    if (options.current != nullptr) {
      const NamespacePolicy& now = options.current->get(ns);
      current_sampled = static_cast<uint64_t>(std::llround(
          static_cast<double>(now.memory.max_entries) * options.sample));
      current_policy = sim_policy_of(now.memory.eviction);
    }
    auto results = replay_lane(lane, lane_sizes(lane.keys.size(), current_sampled));
    if (!results.is_ok()) return results.status();
    advice.lanes.push_back(
        advise_lane(ns, lane, *results, options, current_sampled, current_policy));
  }
  return advice;
}

}  // namespace plancache::internal

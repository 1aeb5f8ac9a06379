// The predictor's two rules (predictor.h has their definitions).
//
// Families without pairwise comparison: two object contexts differ exactly
// at member f (present in both) iff they are equal once f is removed. Each
// context's members are hashed once, (name, value text) each; the hash of
// "the context without f" is the sum of the other members' hashes, so a
// context with n members falls into its n groups (f, rest) in O(n) after
// its dumps, and a group holding two or more values of f is a family. A
// hash collision can only make a wrong candidate -- a wasted planner run,
// never a wrong answer: the candidate's key is built from its real context.
#include "server/predictor.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace plancache::internal {
namespace {

using nlohmann::json;
using GoalId = size_t;
using Values = std::set<std::string>;  // value texts (json::dump)

// The lane as the family rule sees it: its goals, each goal's object
// contexts, and which goals were asked with which value of which member.
struct Lane {
  std::vector<std::string> goals;              // by GoalId
  std::vector<std::vector<json>> contexts;     // by GoalId: object contexts
  std::vector<std::vector<int64_t>> asked_ms;  // by GoalId: each context's latest request
  std::map<std::string, std::map<std::string, std::set<GoalId>>> goals_by_value;  // f -> v -> goals
};

Lane lane_of(const std::vector<RequestRecord>& history) {
  Lane lane;
  std::map<std::string, GoalId, std::less<>> ids;
  for (const RequestRecord& r : history) {
    json context = json::parse(r.context, nullptr, /*allow_exceptions=*/false);
    if (!context.is_object() || context.empty()) continue;
    auto [it, added] = ids.try_emplace(r.goal, lane.goals.size());
    if (added) {
      lane.goals.push_back(r.goal);
      lane.contexts.emplace_back();
      lane.asked_ms.emplace_back();
    }
    const GoalId g = it->second;
    for (const auto& [field, value] : context.items()) {
      lane.goals_by_value[field][value.dump()].insert(g);
    }
    lane.contexts[g].push_back(std::move(context));
    lane.asked_ms[g].push_back(r.last_ms);
  }
  return lane;
}

struct Family {
  GoalId goal = 0;
  std::string field;
  const json* sample = nullptr;  // one member's context
  Values asked;                  // values of `field` asked for the goal
  int64_t last_ms = 0;           // the latest request of a member
  // No context of the goal with another rest was asked after this family
  // (a release still on its way, not superseded): only open families are
  // completed, and an open one without a value may still get it, so it
  // counts neither way in another's completion rate.
  bool open = false;
};

// The families of goal `g` of `lane` (see the file comment).
std::vector<Family> families_of(const Lane& lane, GoalId g) {
  std::map<std::pair<std::string, uint64_t>, Family> groups;
  const std::hash<std::string> hash;
  for (size_t c = 0; c < lane.contexts[g].size(); ++c) {
    const json& context = lane.contexts[g][c];
    std::vector<std::pair<std::string, uint64_t>> members;  // (value text, member hash)
    uint64_t total = 0;
    for (const auto& [field, value] : context.items()) {
      std::string text = value.dump();
      const uint64_t h = hash(field) * 1'000'003u ^ hash(text);
      total += h;
      members.emplace_back(std::move(text), h);
    }
    size_t i = 0;
    for (const auto& [field, value] : context.items()) {
      Family& f = groups[{field, total - members[i].second}];
      if (f.sample == nullptr) f = Family{g, field, &context, {}, 0, false};
      f.asked.insert(std::move(members[i].first));
      f.last_ms = std::max(f.last_ms, lane.asked_ms[g][c]);
      ++i;
    }
  }
  std::map<std::string, int64_t> newest_ms;  // field -> latest request of any group
  for (const auto& [key, group] : groups) {
    int64_t& newest = newest_ms[group.field];
    newest = std::max(newest, group.last_ms);
  }
  std::vector<Family> out;
  for (auto& [key, family] : groups) {
    if (family.asked.size() < 2) continue;
    family.open = family.last_ms >= newest_ms[family.field];
    out.push_back(std::move(family));
  }
  return out;
}

std::string quoted_list(const Values& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

// The missing members of `family`; `peers`: every family of the lane over
// the same member (`family` among them).
void add_family_members(const Lane& lane, const Family& family, const std::vector<Family>& peers,
                        const PredictorOptions& options, std::vector<Prediction>* out) {
  const auto& by_value = lane.goals_by_value.at(family.field);
  if (by_value.size() > options.max_values) return;
  const size_t missing = by_value.size() - family.asked.size();
  if (missing == 0) return;
  const double prior =
      static_cast<double>(family.asked.size()) / static_cast<double>(family.asked.size() + missing);
  // The other families over the member that have every value this one has.
  std::vector<const Family*> reference;
  for (const Family& peer : peers) {
    if (&peer != &family && std::includes(peer.asked.begin(), peer.asked.end(),
                                          family.asked.begin(), family.asked.end())) {
      reference.push_back(&peer);
    }
  }
  for (const auto& [value, goals] : by_value) {
    if (family.asked.count(value) != 0) continue;
    const size_t support = goals.size() - goals.count(family.goal);
    if (support < options.min_support) continue;
    size_t settled = 0;
    size_t with_value = 0;
    for (const Family* peer : reference) {
      const bool has = peer->asked.count(value) != 0;
      if (!has && peer->open) continue;  // may still get it
      ++settled;
      with_value += has ? 1 : 0;
    }
    json context = *family.sample;
    context[family.field] = json::parse(value);
    Prediction p;
    p.kind = PredictionKind::kFamily;
    p.goal = lane.goals[family.goal];
    p.context = context.dump();
    p.confidence = (static_cast<double>(with_value) + prior) / (static_cast<double>(settled) + 1.0);
    p.reason = "family over \"" + family.field + "\": this goal was asked with " +
               quoted_list(family.asked) + "; " + std::to_string(with_value) + " of the " +
               std::to_string(settled) + " settled families asked with those were asked with " +
               value + " too (" + std::to_string(support) + " other goals asked with it)";
    out->push_back(std::move(p));
  }
}

void add_families(const std::vector<RequestRecord>& history, const PredictorOptions& options,
                  std::vector<Prediction>* out) {
  const Lane lane = lane_of(history);
  std::map<std::string, std::vector<Family>> by_field;  // every family of the lane
  for (GoalId g = 0; g < lane.goals.size(); ++g) {
    if (lane.contexts[g].size() < 2) continue;
    for (Family& family : families_of(lane, g)) {
      by_field[family.field].push_back(std::move(family));
    }
  }
  for (const auto& [field, families] : by_field) {
    for (const Family& family : families) {
      if (family.open) add_family_members(lane, family, families, options, out);
    }
  }
}

void add_recurring(const std::vector<RequestRecord>& history, const PredictorOptions& options,
                   int64_t now_ms, std::vector<Prediction>* out) {
  for (const RequestRecord& r : history) {
    if (r.requests < std::max<uint32_t>(1, options.min_requests) || r.fresh_until_ms == 0) {
      continue;
    }
    // As refresh-ahead's window: at most half the entry's TTL before its end.
    const int64_t left_ms = r.fresh_until_ms - now_ms;
    if (left_ms > std::min(options.horizon_ms, r.ttl_ms / 2)) continue;
    Prediction p;
    p.kind = PredictionKind::kRecurring;
    p.key = r.key;
    p.goal = r.goal;
    p.context = r.context;
    p.confidence = 1.0 - std::exp(-static_cast<double>(r.requests));
    p.reason = "asked " + std::to_string(r.requests) + " times recently; " +
               (left_ms > 0 ? "fresh for " + std::to_string(left_ms / 1000) + " s more"
                            : "stale for " + std::to_string(-left_ms / 1000) + " s");
    out->push_back(std::move(p));
  }
}

}  // namespace

std::string_view prediction_kind_name(PredictionKind kind) {
  return kind == PredictionKind::kRecurring ? "recurring" : "family";
}

std::vector<Prediction> predict(const std::vector<RequestRecord>& history,
                                const PredictorOptions& options, int64_t now_ms) {
  std::vector<Prediction> all;
  add_recurring(history, options, now_ms, &all);
  add_families(history, options, &all);
  // One candidate per (goal, context): the most confident.
  std::map<std::pair<std::string, std::string>, Prediction> unique;
  for (Prediction& p : all) {
    auto [it, added] = unique.try_emplace({p.goal, p.context}, p);
    if (!added && p.confidence > it->second.confidence) it->second = std::move(p);
  }
  std::vector<Prediction> out;
  out.reserve(unique.size());
  for (auto& [where, p] : unique) out.push_back(std::move(p));
  std::stable_sort(out.begin(), out.end(), [](const Prediction& a, const Prediction& b) {
    return a.confidence > b.confidence;  // (goal, context) order kept on ties
  });
  if (out.size() > options.max_candidates) out.resize(options.max_candidates);
  return out;
}

}  // namespace plancache::internal

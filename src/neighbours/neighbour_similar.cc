// NeighbourIndex::similar(): candidate retrieval, context eligibility and the
// serve decision.
//
// Steps: (1) tokenise the query outside the lock; (2) under a shared lock,
// retrieve candidates through the term index (bounded postings), add the
// entries with exactly the query's goal (so a same-goal entry equal on the
// hard fields is never missed by retrieval), rescore them exactly, and copy
// out those whose context is eligible; (3) outside the lock, run the veto
// against the best and find the runner-up. The guards are checked in a fixed
// order — floor, margin, veto — and the first that fails names the
// decision; the veto is computed in every case so shadow mode can count it.
#include <algorithm>
#include <mutex>

#include "neighbours/goal_similarity.h"
#include "neighbours/neighbour_index.h"

namespace plancache::internal {
namespace {

// Same-goal entries added to the retrieved candidates, newest first.
constexpr size_t kSameGoalCandidates = 16;

// The hard fields of a context (members absent from it are left out), or
// nullopt when it is not a JSON object.
std::optional<nlohmann::json> hard_projection(std::string_view context,
                                              const std::vector<std::string>& fields) {
  const nlohmann::json value = nlohmann::json::parse(context, nullptr, false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  nlohmann::json projection = nlohmann::json::object();
  for (const std::string& f : fields) {
    if (const auto it = value.find(f); it != value.end()) projection[f] = *it;
  }
  return projection;
}

bool context_eligible(std::string_view candidate, std::string_view query,
                      const std::optional<nlohmann::json>& query_projection,
                      const std::vector<std::string>& fields) {
  if (candidate == query) return true;
  if (fields.empty() || !query_projection) return false;
  const std::optional<nlohmann::json> projection = hard_projection(candidate, fields);
  return projection && *projection == *query_projection;
}

}  // namespace

std::string_view similar_decision_name(SimilarDecision decision) {
  switch (decision) {
    case SimilarDecision::kServe:
      return "serve";
    case SimilarDecision::kBelowFloor:
      return "below_floor";
    case SimilarDecision::kNoMargin:
      return "no_margin";
    case SimilarDecision::kVetoed:
      return "vetoed";
    case SimilarDecision::kContextDiffers:
      return "context_differs";
    case SimilarDecision::kNone:
      return "none";
  }
  return "none";
}

std::vector<NeighbourIndex::Scored> NeighbourIndex::score_locked(const std::vector<GoalTerm>& terms,
                                                                 std::string_view goal,
                                                                 const SimilarOptions& options,
                                                                 SimilarResult* result) const {
  const TermIndex::Query query = terms_.prepare(terms);
  std::vector<Scored> scored;
  for (const TermIndex::Candidate& c :
       terms_.candidates(query, slots_, options.max_postings, options.max_candidates,
                         &result->postings_examined)) {
    scored.push_back({c.slot, terms_.cosine(query, entries_[c.slot].terms)});
  }
  if (const auto g = by_goal_.find(goal); g != by_goal_.end()) {
    const size_t n = g->second.size();
    for (size_t k = n - std::min(n, kSameGoalCandidates); k < n; ++k) {
      const uint32_t slot = g->second[k];
      const bool present = std::any_of(scored.begin(), scored.end(),
                                       [slot](const Scored& s) { return s.slot == slot; });
      if (!present) scored.push_back({slot, terms_.cosine(query, entries_[slot].terms)});
    }
  }
  std::sort(scored.begin(), scored.end(), [this](const Scored& x, const Scored& y) {
    if (x.score != y.score) return x.score > y.score;
    return entries_[x.slot].seq > entries_[y.slot].seq;  // newer first on a tie
  });
  result->candidates_scored = scored.size();
  return scored;
}

// Copies out the eligible candidates. A hard-field check parses JSON, so it
// is skipped for candidates below `window` (the floor less the margin: such
// a candidate can be neither served nor a runner-up that matters) once an
// eligible best has been found.
std::vector<NeighbourIndex::Candidate> NeighbourIndex::eligible_locked(
    const std::vector<Scored>& scored, std::string_view goal, std::string_view context,
    const SimilarOptions& options, double window, SimilarResult* result) const {
  std::optional<nlohmann::json> query_projection;
  if (!options.hard_fields.empty())
    query_projection = hard_projection(context, options.hard_fields);
  std::vector<Candidate> out;
  for (const Scored& s : scored) {
    const Entry& e = entries_[s.slot];
    const bool exact = e.goal == goal && e.context == context;
    if (!exact) result->best_near_miss_score = std::max(result->best_near_miss_score, s.score);
    const bool cheap = options.hard_fields.empty() || e.context == context;
    if (!cheap && !out.empty() && s.score < window) continue;
    if (!context_eligible(e.context, context, query_projection, options.hard_fields)) continue;
    out.push_back({e.key, e.goal, e.compute_ms, s.score});
  }
  return out;
}

SimilarResult NeighbourIndex::similar(std::string_view normalized_goal,
                                      std::string_view canonical_context,
                                      const SimilarOptions& options) const {
  SimilarResult result;
  result.min_score = effective_min_score(options.min_score, std::nullopt);
  if (normalized_goal.size() > options_.max_goal_bytes) return result;  // kNone
  const double margin = std::clamp(options.margin, 0.0, 1.0);
  const std::vector<GoalToken> query_tokens = tokenize_goal(normalized_goal);
  const std::vector<GoalTerm> terms = goal_terms(query_tokens);
  std::vector<Candidate> eligible;
  {
    std::shared_lock lock(mu_);
    const std::vector<Scored> scored = score_locked(terms, normalized_goal, options, &result);
    if (scored.empty()) return result;  // kNone
    eligible = eligible_locked(scored, normalized_goal, canonical_context, options,
                               result.min_score - margin, &result);
  }
  if (eligible.empty()) {
    result.decision = SimilarDecision::kContextDiffers;
    return result;
  }
  const Candidate& best = eligible.front();
  result.best = SimilarMatch{best.key, best.goal, best.compute_ms, best.score};
  const std::vector<GoalToken> best_tokens = tokenize_goal(best.goal);
  result.veto = veto(query_tokens, best_tokens);
  for (size_t i = 1; i < eligible.size(); ++i) {
    const Candidate& c = eligible[i];
    // Out of reach, or a goal that is not a rewording of the best's.
    if (c.score < best.score - margin || veto(best_tokens, tokenize_goal(c.goal))) {
      result.second_score = c.score;
      break;
    }
  }
  if (best.score < result.min_score) {
    result.decision = SimilarDecision::kBelowFloor;
  } else if (result.second_score > 0 && best.score - result.second_score < margin) {
    result.decision = SimilarDecision::kNoMargin;
  } else if (result.veto) {
    result.decision = SimilarDecision::kVetoed;
  } else {
    result.decision = SimilarDecision::kServe;
  }
  return result;
}

}  // namespace plancache::internal

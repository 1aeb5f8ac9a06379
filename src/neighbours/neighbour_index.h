// NeighbourIndex: the cached plans of one namespace, indexed by goal, for
// near-miss reuse (issue 14): entries with the same goal and another context
// (incremental planning), and entries with a similar goal and the same
// context (similar-goal lookup).
//
// The index only holds keys, goals and contexts — never plans. The owner
// keeps it in step with the cache: upsert() on every put of a plan, erase()
// on every removal (eviction, expiry, invalidation, delete), clear() when the
// namespace is cleared. It is bounded on its own (oldest-inserted entries
// dropped first), so an entry may be missing from it while still cached (it
// is then just not offered as a neighbour); and since removal events can be
// lost, a key it returns may be gone from the cache — the caller treats a
// failed fetch of a neighbour's key as a miss and erase()s it.
//
// Shadow mode (a lane that computes but does not serve) calls similar() the
// same way and ignores kServe; `best` and `veto` are filled in whatever the
// decision, so the caller can later compare best's plan with the plan it
// computed and count a would-have-been wrong hit.
//
// similar() never serves on score alone: it returns kServe only when the
// context is equal (whole, or on SimilarOptions::hard_fields), the score
// passes the floor, the best candidate beats the runner-up by the margin,
// and near_miss_veto.h finds nothing that differs. Exact match comes first:
// the caller looks the exact key up before asking here.
//
// Thread-safety: thread-safe; lookups share a lock, updates take it
// exclusively. No call runs user code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "neighbours/near_miss_veto.h"
#include "neighbours/term_index.h"

namespace plancache::internal {

// The lowest similarity floor similar() accepts; a lane may set a higher
// one and a client may raise it further, never lower (effective_min_score).
// Measured on tests/neighbours/near_miss_pairs.h (near_miss_pairs_test.cc):
// every safe rewording the veto passes scores 1.0, while 19 of 170 must-not
// lookups score >= 0.90 and are stopped by the veto alone; 0.90 stops
// veto-clean pairs that share few grams and never a rewording.
inline constexpr double kSimilarScoreFloor = 0.90;
// Default lead of the best candidate over the runner-up.
inline constexpr double kDefaultSimilarMargin = 0.05;

// max(kSimilarScoreFloor, lane floor, client floor); a missing client floor
// leaves the lane's; NaN values are ignored.
double effective_min_score(double lane_min_score, std::optional<double> client_min_score);

struct NeighbourIndexOptions {
  // Entries kept; the oldest-inserted is dropped first. Values below 1 are
  // taken as 1. Default: 100,000.
  size_t max_entries = 100'000;
  // Approximate bytes kept (keys, goals, contexts, terms, postings); the
  // oldest-inserted entries are dropped first. An entry bigger than 1/16 of
  // this is not indexed. 0 = no byte bound. Default: 256 MiB.
  size_t max_bytes = size_t{256} << 20;
  // Goals longer than this (bytes) are neither indexed nor looked up: a
  // near miss of a page-long goal is not worth the scoring. Default: 4 KiB.
  size_t max_goal_bytes = 4096;
};

struct Neighbour {
  std::string key;  // the plan key's hex digest
  std::string goal;
  std::string context;  // canonical JSON
  int64_t compute_ms = 0;
};

struct SimilarOptions {
  // Score floor; raised to kSimilarScoreFloor when lower. Default: the floor.
  double min_score = kSimilarScoreFloor;
  // The best candidate must beat the runner-up by this much (clamped to
  // [0, 1]). The runner-up is the best other candidate with an eligible
  // context whose goal is not a rewording of the best's (a veto fires
  // between them): two rewordings of one goal are no ambiguity.
  // Default: kDefaultSimilarMargin.
  double margin = kDefaultSimilarMargin;
  // When non-empty, a candidate's context need only be equal on these
  // top-level members (a member absent from both is equal; a context that is
  // not an object must be equal whole). Default: empty — whole context.
  std::vector<std::string> hard_fields;
  // Retrieval bounds: postings read and candidates scored exactly.
  // Defaults: 50,000 and 64.
  size_t max_postings = 50'000;
  size_t max_candidates = 64;
};

enum class SimilarDecision : uint8_t {
  kServe,           // every guard passed: serve `best`
  kBelowFloor,      // the best eligible candidate scores below the floor
  kNoMargin,        // the runner-up is within the margin of the best
  kVetoed,          // the veto fired (SimilarResult::veto says why)
  kContextDiffers,  // candidates exist, none with an eligible context
  kNone,            // no candidate at all
};

// "serve", "below_floor", "no_margin", "vetoed", "context_differs", "none".
std::string_view similar_decision_name(SimilarDecision decision);

struct SimilarMatch {
  std::string key;
  std::string goal;
  int64_t compute_ms = 0;
  double score = 0;
};

struct SimilarResult {
  SimilarDecision decision = SimilarDecision::kNone;
  // The best candidate with an eligible context, whatever the decision
  // (shadow mode reads it): absent only for kNone and kContextDiffers.
  std::optional<SimilarMatch> best;
  // The highest score of any candidate other than the query's own exact
  // entry, whatever its context: what a miss reports.
  double best_near_miss_score = 0;
  double second_score = 0;         // the runner-up's score (0: none)
  std::optional<VetoReason> veto;  // between the query and `best`
  double min_score = 0;            // the floor applied
  size_t candidates_scored = 0;
  size_t postings_examined = 0;
  bool served() const { return decision == SimilarDecision::kServe; }
};

struct ContextNeighbour {
  Neighbour entry;
  double impact = 0;     // change_impact(entry.context → query context)
  nlohmann::json patch;  // RFC 6902 patch from entry.context to the query's
};

struct NeighbourIndexStats {
  size_t entries = 0;
  size_t terms = 0;
  size_t postings = 0;      // including stale postings not yet compacted
  size_t memory_bytes = 0;  // approximate
  uint64_t dropped = 0;     // entries dropped by the bounds since creation
};

class NeighbourIndex {
 public:
  explicit NeighbourIndex(NeighbourIndexOptions options = {});
  NeighbourIndex(const NeighbourIndex&) = delete;
  NeighbourIndex& operator=(const NeighbourIndex&) = delete;

  // Adds or refreshes an entry (a refresh counts as a new insertion for the
  // bound). REQUIRES: `normalized_goal` is KeyBuilder::normalize_goal's
  // output and `canonical_context` canonical JSON, as in the plan key.
  void upsert(std::string_view key_hex, std::string_view normalized_goal,
              std::string_view canonical_context, int64_t compute_ms);
  // Removes an entry; a no-op for an unknown key.
  void erase(std::string_view key_hex);
  void clear();

  // Entries with exactly this goal, other than `exclude_key`, newest first,
  // at most `limit`.
  std::vector<Neighbour> same_goal(std::string_view normalized_goal, std::string_view exclude_key,
                                   size_t limit) const;

  // Similar-goal lookup for a missed (goal, context); see the header comment.
  SimilarResult similar(std::string_view normalized_goal, std::string_view canonical_context,
                        const SimilarOptions& options = {}) const;

  // Among the entries with this goal and another context, the one whose
  // context is closest (lowest change_impact, newest on a tie), considering
  // the newest `max_candidates`; nullopt when there is none or the query
  // context is not valid JSON.
  std::optional<ContextNeighbour> nearest_by_context(std::string_view normalized_goal,
                                                     std::string_view canonical_context,
                                                     size_t max_candidates = 64) const;

  NeighbourIndexStats stats() const;
  size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::string goal;
    std::string context;
    int64_t compute_ms = 0;
    uint64_t seq = 0;  // insertion order
    size_t bytes = 0;  // this entry's share of bytes_
    std::vector<TermIndex::DocTerm> terms;
  };
  struct Scored {
    uint32_t slot = 0;
    double score = 0;
  };
  // A candidate with an eligible context, copied out of the lock.
  struct Candidate {
    std::string key;
    std::string goal;
    int64_t compute_ms = 0;
    double score = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  void remove_slot_locked(uint32_t slot);
  void enforce_bounds_locked();
  std::vector<Scored> score_locked(const std::vector<GoalTerm>& terms, std::string_view goal,
                                   const SimilarOptions& options, SimilarResult* result) const;
  std::vector<Candidate> eligible_locked(const std::vector<Scored>& scored, std::string_view goal,
                                         std::string_view context, const SimilarOptions& options,
                                         double window, SimilarResult* result) const;

  const NeighbourIndexOptions options_;

  // Synchronises every member below: shared by lookups, exclusive for
  // upsert, erase and clear.
  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;                      // GUARDED_BY(mu_); by slot
  std::vector<SlotState> slots_;                    // GUARDED_BY(mu_); parallel to entries_
  std::vector<uint32_t> free_slots_;                // GUARDED_BY(mu_)
  StringMap<uint32_t> by_key_;                      // GUARDED_BY(mu_)
  StringMap<std::vector<uint32_t>> by_goal_;        // GUARDED_BY(mu_); slots, oldest first
  std::deque<std::pair<uint32_t, uint64_t>> fifo_;  // GUARDED_BY(mu_); (slot, seq), oldest first
  TermIndex terms_;                                 // GUARDED_BY(mu_)
  size_t live_ = 0;                                 // GUARDED_BY(mu_)
  size_t bytes_ = 0;                                // GUARDED_BY(mu_)
  uint64_t next_seq_ = 1;                           // GUARDED_BY(mu_)
  uint64_t dropped_ = 0;                            // GUARDED_BY(mu_)
};

}  // namespace plancache::internal

// NeighbourIndex upkeep and same-goal lookups; similar() is in
// neighbour_similar.cc.
//
// Entries live in slots (vectors indexed by slot) so the term index can
// refer to them by a 32-bit number; a freed slot's generation is bumped,
// which turns its postings and its FIFO record stale at once. The FIFO holds
// (slot, seq) records in insertion order; a record is live only while the
// slot's entry still has that seq, so a refresh just appends a new record and
// eviction skips the old one. The FIFO is rebuilt when stale records
// outnumber live ones, keeping its size O(entries).
//
// Expensive work (tokenising a goal, parsing JSON) happens outside the lock;
// under it there is only map and vector bookkeeping.
#include "neighbours/neighbour_index.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "neighbours/change_impact.h"
#include "neighbours/goal_similarity.h"

namespace plancache::internal {
namespace {

size_t heap_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

// A hash-map node and its bucket, roughly, on a 64-bit libstdc++.
constexpr size_t kMapNodeBytes = 56;

}  // namespace

double effective_min_score(double lane_min_score, std::optional<double> client_min_score) {
  double floor = kSimilarScoreFloor;
  if (!std::isnan(lane_min_score)) floor = std::max(floor, lane_min_score);
  if (client_min_score && !std::isnan(*client_min_score)) {
    floor = std::max(floor, *client_min_score);
  }
  return std::min(floor, 1.0);
}

NeighbourIndex::NeighbourIndex(NeighbourIndexOptions options)
    : options_([&options] {
        options.max_entries = std::max<size_t>(options.max_entries, 1);
        return options;
      }()) {}

void NeighbourIndex::upsert(std::string_view key_hex, std::string_view normalized_goal,
                            std::string_view canonical_context, int64_t compute_ms) {
  if (normalized_goal.size() > options_.max_goal_bytes) {
    erase(key_hex);  // keep in step if a shorter goal once had this key
    return;
  }
  const std::vector<GoalTerm> terms = goal_terms(normalized_goal);
  Entry entry{std::string(key_hex),
              std::string(normalized_goal),
              std::string(canonical_context),
              compute_ms,
              0,
              0,
              {}};
  // The entry's bytes with its map, list and FIFO records; its postings are
  // counted by the term index (TermIndex::kPostingBytes each).
  entry.bytes = sizeof(Entry) + sizeof(SlotState) + heap_bytes(entry.key) + heap_bytes(entry.goal) +
                heap_bytes(entry.context) + terms.size() * sizeof(TermIndex::DocTerm) +
                2 * kMapNodeBytes + entry.key.size() + sizeof(uint32_t) + 2 * sizeof(uint64_t);
  const size_t with_postings = entry.bytes + terms.size() * TermIndex::kPostingBytes;
  std::unique_lock lock(mu_);
  if (const auto it = by_key_.find(key_hex); it != by_key_.end()) {
    Entry& old = entries_[it->second];
    if (old.goal == normalized_goal && old.context == canonical_context) {
      old.compute_ms = compute_ms;
      old.seq = next_seq_++;
      fifo_.emplace_back(it->second, old.seq);
      enforce_bounds_locked();
      return;
    }
    remove_slot_locked(it->second);
  }
  if (options_.max_bytes != 0 && with_postings > options_.max_bytes / 16) return;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  entry.seq = next_seq_++;
  entry.terms = terms_.add(slot, slots_[slot].gen, terms);
  slots_[slot].live = true;
  slots_[slot].norm = static_cast<float>(std::max(terms_.norm(entry.terms), 1e-6));
  by_key_.emplace(entry.key, slot);
  by_goal_[entry.goal].push_back(slot);
  fifo_.emplace_back(slot, entry.seq);
  ++live_;
  bytes_ += entry.bytes;
  entries_[slot] = std::move(entry);
  enforce_bounds_locked();
}

void NeighbourIndex::remove_slot_locked(uint32_t slot) {
  Entry& e = entries_[slot];
  slots_[slot].live = false;
  ++slots_[slot].gen;
  terms_.remove(e.terms, slots_);
  by_key_.erase(e.key);
  if (const auto g = by_goal_.find(e.goal); g != by_goal_.end()) {
    std::erase(g->second, slot);
    if (g->second.empty()) by_goal_.erase(g);
  }
  bytes_ -= e.bytes;
  --live_;
  e = Entry{};
  free_slots_.push_back(slot);
}

void NeighbourIndex::enforce_bounds_locked() {
  const auto over = [this] {
    return live_ > options_.max_entries ||
           (options_.max_bytes != 0 &&
            bytes_ + terms_.live_postings() * TermIndex::kPostingBytes > options_.max_bytes);
  };
  while (live_ > 0 && over() && !fifo_.empty()) {
    const auto [slot, seq] = fifo_.front();
    fifo_.pop_front();
    if (!slots_[slot].live || entries_[slot].seq != seq) continue;  // stale record
    remove_slot_locked(slot);
    ++dropped_;
  }
  if (fifo_.size() > 2 * live_ + 64) {
    std::erase_if(fifo_, [this](const std::pair<uint32_t, uint64_t>& r) {
      return !slots_[r.first].live || entries_[r.first].seq != r.second;
    });
  }
}

void NeighbourIndex::erase(std::string_view key_hex) {
  std::unique_lock lock(mu_);
  if (const auto it = by_key_.find(key_hex); it != by_key_.end()) remove_slot_locked(it->second);
}

void NeighbourIndex::clear() {
  std::unique_lock lock(mu_);
  entries_.clear();
  slots_.clear();
  free_slots_.clear();
  by_key_.clear();
  by_goal_.clear();
  fifo_.clear();
  terms_.clear();
  live_ = 0;
  bytes_ = 0;
}

std::vector<Neighbour> NeighbourIndex::same_goal(std::string_view normalized_goal,
                                                 std::string_view exclude_key, size_t limit) const {
  std::vector<Neighbour> out;
  std::shared_lock lock(mu_);
  const auto g = by_goal_.find(normalized_goal);
  if (g == by_goal_.end()) return out;
  // Slots are appended on insertion, but a refresh moves an entry's seq
  // forward without moving it, so order by seq.
  std::vector<uint32_t> slots = g->second;
  std::sort(slots.begin(), slots.end(),
            [this](uint32_t x, uint32_t y) { return entries_[x].seq > entries_[y].seq; });
  for (const uint32_t slot : slots) {
    if (out.size() >= limit) break;
    const Entry& e = entries_[slot];
    if (e.key == exclude_key) continue;
    out.push_back({e.key, e.goal, e.context, e.compute_ms});
  }
  return out;
}

std::optional<ContextNeighbour> NeighbourIndex::nearest_by_context(
    std::string_view normalized_goal, std::string_view canonical_context,
    size_t max_candidates) const {
  std::vector<Neighbour> candidates = same_goal(normalized_goal, {}, max_candidates + 1);
  std::erase_if(candidates, [&](const Neighbour& n) { return n.context == canonical_context; });
  if (candidates.size() > max_candidates) candidates.resize(max_candidates);
  const nlohmann::json query = nlohmann::json::parse(canonical_context, nullptr, false);
  if (query.is_discarded()) return std::nullopt;
  std::optional<ContextNeighbour> best;
  for (Neighbour& n : candidates) {  // newest first: a tie keeps the newer
    const nlohmann::json before = nlohmann::json::parse(n.context, nullptr, false);
    if (before.is_discarded()) continue;
    const double impact = change_impact(before, query, nullptr);
    if (!best || impact < best->impact) best = ContextNeighbour{std::move(n), impact, {}};
  }
  if (best) {
    change_impact(nlohmann::json::parse(best->entry.context, nullptr, false), query, &best->patch);
  }
  return best;
}

NeighbourIndexStats NeighbourIndex::stats() const {
  std::shared_lock lock(mu_);
  NeighbourIndexStats s;
  s.entries = live_;
  s.terms = terms_.terms();
  s.postings = terms_.postings();
  // bytes_ counts each live entry's own sizeof; add the slack of the slot
  // vectors and the FIFO's records.
  s.memory_bytes = bytes_ + terms_.memory_bytes() + fifo_.size() * sizeof(fifo_.front()) +
                   (entries_.capacity() - live_) * (sizeof(Entry) + sizeof(SlotState));
  s.dropped = dropped_;
  return s;
}

size_t NeighbourIndex::size() const {
  std::shared_lock lock(mu_);
  return live_;
}

}  // namespace plancache::internal

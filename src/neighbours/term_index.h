// TermIndex: the inverted index behind NeighbourIndex::similar() — term →
// postings (document slots), document frequencies, and candidate retrieval
// that examines a bounded number of postings instead of scanning every
// document.
//
// Documents live in slots owned by the caller, who describes them with a
// SlotState vector (live flag, generation, norm at insertion). Postings
// carry the slot's generation, so removing a document only decrements its
// terms' document frequencies; its postings turn stale and are dropped when a
// term's list is more than half stale (amortised O(1) per removal, never a
// scan of a long list on every eviction).
//
// Thread-safety: none; NeighbourIndex serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "neighbours/goal_similarity.h"

namespace plancache::internal {

struct SlotState {
  uint32_t gen = 0;  // bumped when the slot is freed
  bool live = false;
  float norm = 1.0f;  // the document's TF-IDF norm when it was added
};

class TermIndex {
 public:
  struct DocTerm {
    uint32_t term_id = 0;
    uint32_t count = 0;
  };
  struct QueryTerm {
    uint32_t term_id = 0;  // kUnknownTerm for a term no document has
    double weight = 0;
  };
  struct Query {
    std::vector<QueryTerm> terms;  // sorted by term_id
    double norm = 0;
  };
  struct Candidate {
    uint32_t slot = 0;
    double approx = 0;  // dot product over the postings examined / norms
  };
  static constexpr uint32_t kUnknownTerm = UINT32_MAX;
  static constexpr size_t kPostingBytes = 2 * sizeof(uint32_t);

  // Registers the document in `slot` (generation `gen`); returns its terms
  // as ids sorted by id, which the caller keeps for remove() and cosine().
  std::vector<DocTerm> add(uint32_t slot, uint32_t gen, const std::vector<GoalTerm>& terms);

  // Unregisters a document. REQUIRES: its slot is already marked not live
  // (or has a new generation) in `slots`.
  void remove(const std::vector<DocTerm>& terms, const std::vector<SlotState>& slots);

  void clear();

  // The query's weights under the current document frequencies.
  Query prepare(const std::vector<GoalTerm>& terms) const;

  // A document's TF-IDF norm under the current document frequencies.
  double norm(const std::vector<DocTerm>& doc) const;

  // Exact cosine of the query and a document, in [0, 1].
  double cosine(const Query& query, const std::vector<DocTerm>& doc) const;

  // Up to `max_candidates` live slots sharing terms with the query, best
  // approximate score first. Rarest terms are examined first, and at most
  // `max_postings` postings in all; of a term too common for what is left of
  // that budget only its newest postings are read, and no later (commoner)
  // term is read. `*examined` receives the number of postings read.
  std::vector<Candidate> candidates(const Query& query, const std::vector<SlotState>& slots,
                                    size_t max_postings, size_t max_candidates,
                                    size_t* examined) const;

  uint64_t documents() const { return docs_; }
  size_t terms() const { return ids_.size(); }
  size_t postings() const { return postings_; }  // including stale ones
  size_t live_postings() const { return live_postings_; }
  size_t memory_bytes() const;  // approximate heap use

 private:
  struct Posting {
    uint32_t slot = 0;
    uint32_t gen = 0;
  };
  struct Row {
    uint64_t hash = 0;
    uint32_t df = 0;        // live documents with the term
    double log1p_df = 0.0;  // ln(1 + df), kept with df so scoring needs no log()
    std::vector<Posting> postings;
  };

  double row_idf(uint32_t term_id) const;
  void compact(Row* row, const std::vector<SlotState>& slots);

  std::unordered_map<uint64_t, uint32_t> ids_;  // term hash → index in rows_
  std::vector<Row> rows_;
  std::vector<uint32_t> free_ids_;  // rows_ entries with df == 0, for reuse
  uint64_t docs_ = 0;
  double log1p_docs_ = 0.0;  // ln(1 + docs_)
  size_t postings_ = 0;
  size_t live_postings_ = 0;  // the sum of df over all terms
};

}  // namespace plancache::internal

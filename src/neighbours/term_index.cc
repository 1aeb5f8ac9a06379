// Inverted index with lazy deletion (term_index.h).
//
// Retrieval is a bounded version of term-at-a-time scoring: the query's
// terms are taken rarest first, because a rare term narrows the candidates
// most and carries the most weight, and each live posting adds the term's
// weight product to its document's accumulator. A near duplicate of the
// query shares almost all of its terms, rare ones included, so it is found
// within the budget even when the common grams ("^de", "dep") are never
// read. The accumulator is approximate (documents' norms are those at
// insertion); the caller rescores the survivors exactly with cosine().
#include "neighbours/term_index.h"

#include <algorithm>
#include <cmath>

static_assert(plancache::internal::TermIndex::kPostingBytes == 2 * sizeof(uint32_t));

namespace plancache::internal {

std::vector<TermIndex::DocTerm> TermIndex::add(uint32_t slot, uint32_t gen,
                                               const std::vector<GoalTerm>& terms) {
  std::vector<DocTerm> doc;
  doc.reserve(terms.size());
  for (const GoalTerm& t : terms) {
    auto [it, inserted] = ids_.try_emplace(t.hash, 0);
    if (inserted) {
      if (free_ids_.empty()) {
        it->second = static_cast<uint32_t>(rows_.size());
        rows_.emplace_back();
      } else {
        it->second = free_ids_.back();
        free_ids_.pop_back();
      }
      rows_[it->second].hash = t.hash;
    }
    Row& row = rows_[it->second];
    ++row.df;
    row.log1p_df = std::log1p(static_cast<double>(row.df));
    row.postings.push_back({slot, gen});
    ++postings_;
    ++live_postings_;
    doc.push_back({it->second, t.count});
  }
  std::sort(doc.begin(), doc.end(),
            [](const DocTerm& x, const DocTerm& y) { return x.term_id < y.term_id; });
  ++docs_;
  log1p_docs_ = std::log1p(static_cast<double>(docs_));
  return doc;
}

void TermIndex::compact(Row* row, const std::vector<SlotState>& slots) {
  const size_t before = row->postings.size();
  std::erase_if(row->postings, [&slots](const Posting& p) {
    return p.slot >= slots.size() || !slots[p.slot].live || slots[p.slot].gen != p.gen;
  });
  postings_ -= before - row->postings.size();
}

void TermIndex::remove(const std::vector<DocTerm>& terms, const std::vector<SlotState>& slots) {
  for (const DocTerm& t : terms) {
    Row& row = rows_[t.term_id];
    if (row.df > 0) {
      --row.df;
      --live_postings_;
      row.log1p_df = std::log1p(static_cast<double>(row.df));
    }
    if (row.df == 0) {
      postings_ -= row.postings.size();
      row.postings = {};  // release the memory of a dead term
      ids_.erase(row.hash);
      free_ids_.push_back(t.term_id);
    } else if (row.postings.size() > 2 * static_cast<size_t>(row.df) + 8) {
      compact(&row, slots);
    }
  }
  if (docs_ > 0) --docs_;
  log1p_docs_ = std::log1p(static_cast<double>(docs_));
}

void TermIndex::clear() {
  ids_.clear();
  rows_.clear();
  free_ids_.clear();
  docs_ = 0;
  log1p_docs_ = 0.0;
  postings_ = 0;
  live_postings_ = 0;
}

// idf() of goal_similarity.h, from the cached logarithms.
double TermIndex::row_idf(uint32_t term_id) const {
  return log1p_docs_ - (term_id == kUnknownTerm ? 0.0 : rows_[term_id].log1p_df) + 1.0;
}

TermIndex::Query TermIndex::prepare(const std::vector<GoalTerm>& terms) const {
  Query q;
  double sum = 0;
  for (const GoalTerm& t : terms) {
    const auto it = ids_.find(t.hash);
    const uint32_t id = it == ids_.end() ? kUnknownTerm : it->second;
    const double w = term_weight(t.count, row_idf(id));
    q.terms.push_back({id, w});
    sum += w * w;
  }
  std::sort(q.terms.begin(), q.terms.end(),
            [](const QueryTerm& x, const QueryTerm& y) { return x.term_id < y.term_id; });
  q.norm = std::sqrt(sum);
  return q;
}

double TermIndex::norm(const std::vector<DocTerm>& doc) const {
  double sum = 0;
  for (const DocTerm& t : doc) {
    const double w = term_weight(t.count, row_idf(t.term_id));
    sum += w * w;
  }
  return std::sqrt(sum);
}

double TermIndex::cosine(const Query& query, const std::vector<DocTerm>& doc) const {
  const double doc_norm = norm(doc);
  if (query.norm <= 0 || doc_norm <= 0) return 0;
  double dot = 0;
  size_t i = 0, j = 0;
  while (i < query.terms.size() && j < doc.size()) {
    if (query.terms[i].term_id < doc[j].term_id) {
      ++i;
    } else if (doc[j].term_id < query.terms[i].term_id) {
      ++j;
    } else {
      dot += query.terms[i].weight * term_weight(doc[j].count, row_idf(doc[j].term_id));
      ++i;
      ++j;
    }
  }
  return std::clamp(dot / (query.norm * doc_norm), 0.0, 1.0);
}

std::vector<TermIndex::Candidate> TermIndex::candidates(const Query& query,
                                                        const std::vector<SlotState>& slots,
                                                        size_t max_postings, size_t max_candidates,
                                                        size_t* examined) const {
  // Scratch reused across calls on one thread: a dense accumulator per slot
  // and the list of slots it touched (reset to zero before returning).
  thread_local std::vector<float> acc;
  thread_local std::vector<uint32_t> touched;
  if (acc.size() < slots.size()) acc.resize(slots.size(), 0.0f);
  std::vector<const QueryTerm*> order;
  for (const QueryTerm& t : query.terms) {
    if (t.term_id != kUnknownTerm) order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [this](const QueryTerm* x, const QueryTerm* y) {
    return rows_[x->term_id].df < rows_[y->term_id].df;
  });
  size_t read = 0;
  for (const QueryTerm* t : order) {
    const Row& row = rows_[t->term_id];
    const size_t take = std::min(row.postings.size(), max_postings - read);
    const float contribution = static_cast<float>(t->weight * term_weight(1, row_idf(t->term_id)));
    for (size_t k = row.postings.size() - take; k < row.postings.size(); ++k) {
      const Posting& p = row.postings[k];
      const SlotState& s = slots[p.slot];
      if (!s.live || s.gen != p.gen) continue;
      if (acc[p.slot] == 0.0f) touched.push_back(p.slot);
      acc[p.slot] += contribution / s.norm;
    }
    read += take;
    if (read >= max_postings) break;
  }
  std::vector<Candidate> out;
  out.reserve(touched.size());
  for (const uint32_t slot : touched) {
    out.push_back({slot, query.norm > 0 ? acc[slot] / query.norm : 0.0});
    acc[slot] = 0.0f;
  }
  touched.clear();
  const auto better = [](const Candidate& x, const Candidate& y) { return x.approx > y.approx; };
  if (out.size() > max_candidates) {
    std::nth_element(out.begin(), out.begin() + static_cast<ptrdiff_t>(max_candidates), out.end(),
                     better);
    out.resize(max_candidates);
  }
  std::sort(out.begin(), out.end(), better);
  *examined = read;
  return out;
}

size_t TermIndex::memory_bytes() const {
  size_t bytes = rows_.capacity() * sizeof(Row) + free_ids_.capacity() * sizeof(uint32_t);
  bytes += ids_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*)) +
           ids_.bucket_count() * sizeof(void*);
  for (const Row& row : rows_) bytes += row.postings.capacity() * sizeof(Posting);
  return bytes;
}

}  // namespace plancache::internal

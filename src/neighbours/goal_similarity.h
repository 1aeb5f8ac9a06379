// Goal similarity: character n-gram TF-IDF vectors of normalised goals and
// their cosine, in [0, 1].
//
// A goal's terms are built from its tokens (goal_tokens.h), stopwords left
// out (all of them kept when a goal has nothing else): for each token one
// word unigram and the character 3-grams of "^form$" (code points, with
// boundary markers). A word's form is its synonym-canonical light stem
// (word_forms.h), so "Installing Docker" and "install docker" have the same
// terms; other tokens use their case-folded text. Terms are 64-bit hashes of
// the feature text (XXH3), unigrams and grams in separate spaces.
//
// Weights: (1 + ln tf) · idf, idf = ln((1 + N) / (1 + df)) + 1 (the smoothed
// form, so a term seen in every document still counts), where N and df come
// from the index the goals live in. Without an index every df is 0 and the
// score is the cosine of log-tf weights.
//
// The score ranks and filters candidates; it is never enough on its own to
// serve one (near_miss_veto.h decides that).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "neighbours/goal_tokens.h"

namespace plancache::internal {

struct GoalTerm {
  uint64_t hash = 0;
  uint32_t count = 0;
};

// The terms of a goal, sorted by hash, each hash once.
std::vector<GoalTerm> goal_terms(std::string_view normalized_goal);
std::vector<GoalTerm> goal_terms(const std::vector<GoalToken>& tokens);

// The smoothed inverse document frequency above. REQUIRES: df <= n_docs.
double idf(uint64_t df, uint64_t n_docs);

// (1 + ln count) · idf.
double term_weight(uint32_t count, double idf_value);

// Document frequency of a term hash in a corpus of `n_docs` documents.
using DocumentFrequency = std::function<uint64_t(uint64_t term_hash)>;

// Cosine of the TF-IDF vectors of two term lists (sorted as goal_terms
// returns them), clamped to [0, 1]; 0 when either is empty.
double tfidf_cosine(const std::vector<GoalTerm>& a, const std::vector<GoalTerm>& b,
                    const DocumentFrequency& df, uint64_t n_docs);

// The score of two goals without a corpus (every df = 0).
double goal_similarity(std::string_view goal_a, std::string_view goal_b);

}  // namespace plancache::internal

// TF-IDF terms and cosine (goal_similarity.h). Grams are taken over code
// points, not bytes, so a goal in another script gets grams of its letters
// rather than of UTF-8 fragments.
#include "neighbours/goal_similarity.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/hashing.h"
#include "neighbours/lexicon.h"
#include "neighbours/word_forms.h"

namespace plancache::internal {
namespace {

// Feature-space prefixes: a unigram "ab" and the gram "ab" never collide.
constexpr char kUnigram = 'w';
constexpr char kGram = 'g';

uint64_t feature_hash(char space, std::string_view text) {
  std::string feature;
  feature.reserve(text.size() + 2);
  feature += space;
  feature += '\x1f';
  feature.append(text);
  return xxh3_64(feature);
}

std::string term_form(const GoalToken& t) {
  if (t.kind != TokenKind::kWord) return t.folded;
  return std::string(synonym_canonical(light_stem(std::string(synonym_canonical(t.folded)))));
}

// Byte offsets of the code points of "^form$".
std::vector<size_t> code_point_starts(std::string_view s) {
  std::vector<size_t> starts;
  int32_t i = 0;
  const auto n = static_cast<int32_t>(s.size());
  while (i < n) {
    starts.push_back(static_cast<size_t>(i));
    U8_FWD_1(s.data(), i, n);
  }
  starts.push_back(s.size());
  return starts;
}

void add_token_terms(std::string_view form, std::vector<uint64_t>* hashes) {
  hashes->push_back(feature_hash(kUnigram, form));
  const std::string marked = "^" + std::string(form) + "$";
  const std::vector<size_t> starts = code_point_starts(marked);
  const size_t points = starts.size() - 1;
  for (size_t k = 0; k + 3 <= points; ++k) {
    hashes->push_back(
        feature_hash(kGram, std::string_view(marked).substr(starts[k], starts[k + 3] - starts[k])));
  }
}

}  // namespace

std::vector<GoalTerm> goal_terms(const std::vector<GoalToken>& tokens) {
  const bool all_stop =
      std::all_of(tokens.begin(), tokens.end(), [](const GoalToken& t) { return t.stopword; });
  std::vector<uint64_t> hashes;
  for (const GoalToken& t : tokens) {
    if (t.stopword && !all_stop) continue;
    add_token_terms(term_form(t), &hashes);
  }
  std::sort(hashes.begin(), hashes.end());
  std::vector<GoalTerm> terms;
  for (const uint64_t h : hashes) {
    if (!terms.empty() && terms.back().hash == h) {
      ++terms.back().count;
    } else {
      terms.push_back({h, 1});
    }
  }
  return terms;
}

std::vector<GoalTerm> goal_terms(std::string_view normalized_goal) {
  return goal_terms(tokenize_goal(normalized_goal));
}

double idf(uint64_t df, uint64_t n_docs) {
  return std::log((1.0 + static_cast<double>(n_docs)) / (1.0 + static_cast<double>(df))) + 1.0;
}

double term_weight(uint32_t count, double idf_value) {
  if (count <= 1) return idf_value;  // nearly every term of a goal occurs once
  return (1.0 + std::log(static_cast<double>(count))) * idf_value;
}

double tfidf_cosine(const std::vector<GoalTerm>& a, const std::vector<GoalTerm>& b,
                    const DocumentFrequency& df, uint64_t n_docs) {
  double dot = 0, norm_a = 0, norm_b = 0;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const bool take_a = j == b.size() || (i < a.size() && a[i].hash <= b[j].hash);
    const bool take_b = i == a.size() || (j < b.size() && b[j].hash <= a[i].hash);
    const uint64_t hash = take_a ? a[i].hash : b[j].hash;
    const double w_idf = idf(std::min<uint64_t>(df(hash), n_docs), n_docs);
    const double wa = take_a ? term_weight(a[i].count, w_idf) : 0.0;
    const double wb = take_b ? term_weight(b[j].count, w_idf) : 0.0;
    dot += wa * wb;
    norm_a += wa * wa;
    norm_b += wb * wb;
    i += take_a ? 1 : 0;
    j += take_b ? 1 : 0;
  }
  if (norm_a <= 0 || norm_b <= 0) return 0.0;
  return std::clamp(dot / std::sqrt(norm_a * norm_b), 0.0, 1.0);
}

double goal_similarity(std::string_view goal_a, std::string_view goal_b) {
  return tfidf_cosine(
      goal_terms(goal_a), goal_terms(goal_b), [](uint64_t) { return 0; }, 0);
}

}  // namespace plancache::internal

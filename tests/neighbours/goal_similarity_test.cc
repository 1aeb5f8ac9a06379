// Goal similarity: range, rewordings, grams, IDF weighting.
#include "neighbours/goal_similarity.h"

#include <gtest/gtest.h>

#include <unordered_map>

namespace plancache::internal {
namespace {

TEST(GoalSimilarity, IdenticalAndRewordedGoalsScoreOne) {
  EXPECT_DOUBLE_EQ(goal_similarity("restart nginx", "restart nginx"), 1.0);
  EXPECT_NEAR(goal_similarity("install docker", "Installing Docker"), 1.0, 1e-9);
  EXPECT_NEAR(goal_similarity("Deploy the web app to staging", "deploy web app to staging"), 1.0,
              1e-9);
  EXPECT_NEAR(goal_similarity("set up nginx", "setup nginx"), 1.0, 1e-9);
}

TEST(GoalSimilarity, ScoresAreInRangeAndOrdered) {
  const double near = goal_similarity("restart the nginx service", "restart the nginx server");
  const double far = goal_similarity("restart the nginx service", "summarise this article");
  EXPECT_GT(near, far);
  EXPECT_GE(far, 0.0);
  EXPECT_LE(near, 1.0);
  EXPECT_LT(far, 0.2);
  EXPECT_DOUBLE_EQ(goal_similarity("", "restart"), 0.0);
}

TEST(GoalSimilarity, CharacterGramsSeeSharedStems) {
  // Different words with a shared stem share grams, so they score above 0.
  EXPECT_GT(goal_similarity("containerise", "containers"), 0.3);
}

TEST(GoalSimilarity, StopwordOnlyGoalsStillHaveTerms) {
  EXPECT_FALSE(goal_terms("do it").empty());
  EXPECT_GT(goal_similarity("do it", "do it"), 0.99);
}

TEST(GoalSimilarity, NonAsciiGramsAreCodePoints) {
  EXPECT_NEAR(goal_similarity("\u00fcbersetze den Text", "\u00dcbersetze den Text"), 1.0, 1e-9);
  EXPECT_GT(goal_similarity("\u65e5\u672c\u8a9e\u306e\u6587", "\u65e5\u672c\u8a9e\u306e\u672c"),
            0.3);
}

TEST(GoalSimilarity, TermsAreSortedAndUnique) {
  const std::vector<GoalTerm> terms = goal_terms("deploy deploy the app");
  for (size_t i = 1; i < terms.size(); ++i) EXPECT_LT(terms[i - 1].hash, terms[i].hash);
  uint32_t max_count = 0;
  for (const GoalTerm& t : terms) max_count = std::max(max_count, t.count);
  EXPECT_EQ(max_count, 2u);  // "deploy" twice
}

TEST(GoalSimilarity, CommonTermsWeighLessUnderIdf) {
  // In a corpus where "restart" is everywhere and "nginx"/"apache" are rare,
  // "restart nginx" vs "restart apache" scores lower than without a corpus.
  const std::vector<GoalTerm> a = goal_terms("restart nginx");
  const std::vector<GoalTerm> b = goal_terms("restart apache");
  std::unordered_map<uint64_t, uint64_t> df;
  for (const GoalTerm& t : goal_terms("restart")) df[t.hash] = 1000;
  const auto lookup = [&df](uint64_t h) {
    const auto it = df.find(h);
    return it == df.end() ? uint64_t{1} : it->second;
  };
  const double with_idf = tfidf_cosine(a, b, lookup, 1000);
  const double flat = tfidf_cosine(
      a, b, [](uint64_t) { return uint64_t{0}; }, 0);
  EXPECT_LT(with_idf, flat);
  EXPECT_DOUBLE_EQ(idf(0, 0), 1.0);
  EXPECT_GT(idf(1, 100), idf(50, 100));
}

}  // namespace
}  // namespace plancache::internal

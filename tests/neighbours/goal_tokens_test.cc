// Tokeniser: kinds, quotes, contractions, hyphens, brackets, stopwords,
// fillers and compounds; and the inflection rules it relies on.
#include "neighbours/goal_tokens.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "neighbours/word_forms.h"

namespace plancache::internal {
namespace {

// "kind:folded" per token, stopwords marked with a trailing "~".
std::string render(std::string_view goal) {
  std::string out;
  for (const GoalToken& t : tokenize_goal(goal)) {
    if (!out.empty()) out += ' ';
    out += std::string(token_kind_name(t.kind)) + ":" + t.folded + (t.stopword ? "~" : "");
  }
  return out;
}

TokenKind kind_of(std::string_view piece) {
  const std::vector<GoalToken> tokens = tokenize_goal(piece);
  EXPECT_EQ(tokens.size(), 1u) << piece;
  return tokens.empty() ? TokenKind::kSymbol : tokens[0].kind;
}

TEST(GoalTokens, WordsStopwordsAndSentencePunctuation) {
  EXPECT_EQ(render("Restart the nginx service, please."),
            "word:restart word:the~ word:nginx word:service word:please~");
  EXPECT_EQ(render("why?!"), "word:why");
}

TEST(GoalTokens, KindsOfPieces) {
  EXPECT_EQ(kind_of("42"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("1,000"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("1,2,3"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("50%"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("$20"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("\u20ac20"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("2nd"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("three"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("-9"), TokenKind::kNumber);
  EXPECT_EQ(kind_of("2024-05-01"), TokenKind::kDate);
  EXPECT_EQ(kind_of("12/25/2024"), TokenKind::kDate);
  EXPECT_EQ(kind_of("10:30"), TokenKind::kDate);
  EXPECT_EQ(kind_of("3pm"), TokenKind::kDate);
  EXPECT_EQ(kind_of("1999"), TokenKind::kDate);
  EXPECT_EQ(kind_of("v1.2"), TokenKind::kVersion);
  EXPECT_EQ(kind_of("1.2.3"), TokenKind::kVersion);
  EXPECT_EQ(kind_of("1.2.10"), TokenKind::kVersion);
  EXPECT_EQ(kind_of("python3.11"), TokenKind::kVersion);
  EXPECT_EQ(kind_of("host-01"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("user_id"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("fooBar"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("CVE-2021-44228"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("123e4567-e89b-12d3-a456-426614174000"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("alice@example.com"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("https://example.com/a"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("192.168.1.1"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("--force"), TokenKind::kIdentifier);
  EXPECT_EQ(kind_of("/etc/nginx/nginx.conf"), TokenKind::kPath);
  EXPECT_EQ(kind_of("C:\\Temp\\x"), TokenKind::kPath);
  EXPECT_EQ(kind_of("./run.sh"), TokenKind::kPath);
  EXPECT_EQ(kind_of("~/notes"), TokenKind::kPath);
  EXPECT_EQ(kind_of(".env"), TokenKind::kPath);
  EXPECT_EQ(kind_of("config.yaml"), TokenKind::kPath);
  EXPECT_EQ(kind_of(">="), TokenKind::kSymbol);
  EXPECT_EQ(kind_of("caf\u00e9"), TokenKind::kWord);
}

TEST(GoalTokens, CanonicalNumbers) {
  EXPECT_EQ(render("1,000 three 10GB"), "number:1000 number:3 number:10gb");
}

TEST(GoalTokens, QuotedSpansAreWholeAndVerbatim) {
  const std::vector<GoalToken> t = tokenize_goal("search for 'Connection refused' now");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[2].kind, TokenKind::kQuoted);
  EXPECT_EQ(t[2].text, "Connection refused");
  EXPECT_EQ(render("run `make test` and \u201cdeploy it\u201d"),
            "word:run quoted:make test word:and~ quoted:deploy it");
  // An apostrophe inside a word never opens a quote.
  EXPECT_EQ(render("don't touch the user's 'x'"),
            "word:do~ word:not word:touch word:the~ word:user quoted:x");
  // An unclosed quote is punctuation.
  EXPECT_EQ(render("say \"goodbye"), "word:say word:goodbye");
}

TEST(GoalTokens, Contractions) {
  EXPECT_EQ(render("can't won't cannot isn't"),
            "word:can word:not word:will word:not word:can word:not word:is~ word:not");
  EXPECT_EQ(render("Don\u2019t restart"), "word:do~ word:not word:restart");
}

TEST(GoalTokens, HyphensAndBrackets) {
  EXPECT_EQ(render("non-prod web-app e-mail"), "word:non word:prod word:web word:app word:email");
  EXPECT_EQ(render("call foo(bar, baz) (optional)"),
            "word:call identifier:foo(bar word:baz word:optional");
  EXPECT_EQ(render("call f(a,b)"), "word:call identifier:f(a,b)");
  EXPECT_EQ(render("read arr[0]"), "word:read identifier:arr[0]");
}

TEST(GoalTokens, AcronymsAreNeverStopwords) {
  const std::vector<GoalToken> t = tokenize_goal("the US and us");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_TRUE(t[1].acronym);
  EXPECT_FALSE(t[1].stopword);
  EXPECT_TRUE(t[3].stopword);
}

TEST(GoalTokens, LeadingFillersAndCompounds) {
  EXPECT_EQ(render("How to set up nginx"), "word:how~ word:to~ word:setup word:nginx");
  EXPECT_EQ(render("can you please log in"), "word:can~ word:you~ word:please~ word:login");
  EXPECT_EQ(render("I want to back up the db"),
            "word:i~ word:want~ word:to~ word:backup word:the~ word:db");
  // Only at the start: "to" inside a goal is a preposition.
  EXPECT_EQ(render("deploy to how"), "word:deploy word:to word:how~");
  // "can I" asks; it is not a filler.
  EXPECT_EQ(render("can I delete"), "word:can word:i~ word:delete");
  EXPECT_EQ(render("setting up"), "word:setup");
}

TEST(GoalTokens, FoldCaseBeyondAscii) {
  EXPECT_EQ(fold_case("\u00c9COLE Stra\u00dfe"), "\u00e9cole strasse");
  EXPECT_EQ(fold_case("ABC"), "abc");
  const std::vector<GoalToken> t = tokenize_goal("\u00c9cole");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].capitalised);
}

TEST(GoalTokens, InvalidUtf8IsKeptNotDropped) {
  const std::vector<GoalToken> t = tokenize_goal("run \xff\xfe now");
  EXPECT_EQ(t.size(), 3u);
}

bool same_word(std::string_view a, std::string_view b) {
  const auto x = inflection_bases(a);
  const auto y = inflection_bases(b);
  return std::any_of(x.begin(), x.end(), [&](const std::string& s) {
    return std::find(y.begin(), y.end(), s) != y.end();
  });
}

TEST(WordForms, InflectionsMeet) {
  EXPECT_TRUE(same_word("installing", "install"));
  EXPECT_TRUE(same_word("servers", "server"));
  EXPECT_TRUE(same_word("configuring", "configure"));
  EXPECT_TRUE(same_word("configured", "configure"));
  EXPECT_TRUE(same_word("updated", "updating"));
  EXPECT_TRUE(same_word("running", "run"));
  EXPECT_TRUE(same_word("stopped", "stop"));
  EXPECT_TRUE(same_word("policies", "policy"));
  EXPECT_TRUE(same_word("boxes", "box"));
  EXPECT_TRUE(same_word("using", "use"));
}

TEST(WordForms, DifferentWordsDoNotMeet) {
  EXPECT_FALSE(same_word("plane", "plan"));
  EXPECT_FALSE(same_word("note", "not"));
  EXPECT_FALSE(same_word("notes", "not"));
  EXPECT_FALSE(same_word("mode", "mod"));
  EXPECT_FALSE(same_word("https", "http"));
  EXPECT_FALSE(same_word("news", "new"));
  EXPECT_FALSE(same_word("string", "str"));
  EXPECT_FALSE(same_word("status", "statu"));
  EXPECT_FALSE(same_word("bigger", "big"));
  // The veto's leading-word rule: no -ed bases.
  const auto bases = inflection_bases("deleted", false);
  EXPECT_EQ(bases, std::vector<std::string>{"deleted"});
}

TEST(WordForms, LightStemIsOnePerFamily) {
  EXPECT_EQ(light_stem("installing"), light_stem("install"));
  EXPECT_EQ(light_stem("configured"), light_stem("configure"));
  EXPECT_EQ(light_stem("updates"), light_stem("update"));
  EXPECT_EQ(light_stem("running"), light_stem("run"));
  EXPECT_EQ(light_stem("caches"), light_stem("cache"));
  EXPECT_EQ(light_stem("filling"), light_stem("fill"));
  EXPECT_EQ(light_stem("https"), "https");
}

}  // namespace
}  // namespace plancache::internal

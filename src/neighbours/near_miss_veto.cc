// The near-miss veto (near_miss_veto.h).
//
// Algorithm: tokenise both goals; compare quoted strings as multisets; keep
// the meaning-bearing tokens (not stopwords; every token when a goal has no
// other); give each token its equivalence keys ("forms": a word's inflection
// bases mapped through the synonym table, anything else its kind and exact
// or canonical text); join adjacent words of one goal whose concatenation is
// a single word of the other ("web app" / "webapp"); then match tokens
// across the goals by shared form, preferring the earliest unmatched token
// after the previous match so that order survives duplicates. Unmatched
// tokens on either side veto, named by their class; a complete matching out
// of order vetoes as word_order.
//
// Invariant: two tokens match only through an explicit equivalence
// (identical canonical text, an inflection base, a listed synonym or
// compound). There is no similarity threshold anywhere in here.
#include "neighbours/near_miss_veto.h"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>

#include "neighbours/lexicon.h"
#include "neighbours/word_forms.h"

namespace plancache::internal {
namespace {

struct Item {
  GoalToken token;
  std::vector<std::string> forms;  // equivalence keys, kind-prefixed
  std::vector<std::string> bases;  // inflection bases (words), else {folded}
};

std::vector<std::string> forms_of(const GoalToken& t, const std::vector<std::string>& bases) {
  switch (t.kind) {
    case TokenKind::kWord: {
      std::vector<std::string> forms;
      for (const std::string& base : bases)
        forms.push_back("w:" + std::string(synonym_canonical(base)));
      return forms;
    }
    case TokenKind::kNumber:
      return {"n:" + t.folded};
    case TokenKind::kDate:
      return {"d:" + t.folded};
    case TokenKind::kVersion:
      return {"v:" + t.folded};
    case TokenKind::kIdentifier:
      return {"i:" + t.text};
    case TokenKind::kPath:
      return {"p:" + t.text};
    case TokenKind::kQuoted:
      return {"q:" + t.text};
    case TokenKind::kSymbol:
      return {"s:" + t.text};
  }
  return {t.text};
}

// `leading`: the goal's first meaningful token, which gets no -ed bases.
Item make_item(GoalToken t, bool leading) {
  Item item;
  item.bases = t.kind == TokenKind::kWord ? inflection_bases(t.folded, !leading)
                                          : std::vector<std::string>{t.folded};
  item.forms = forms_of(t, item.bases);
  item.token = std::move(t);
  return item;
}

std::vector<Item> meaningful_items(const std::vector<GoalToken>& tokens, bool keep_stopwords) {
  std::vector<Item> items;
  for (const GoalToken& t : tokens) {
    if (keep_stopwords || !t.stopword) items.push_back(make_item(t, items.empty()));
  }
  return items;
}

bool has_content(const std::vector<GoalToken>& tokens) {
  return std::any_of(tokens.begin(), tokens.end(), [](const GoalToken& t) { return !t.stopword; });
}

// How many tokens have each form.
std::unordered_map<std::string, int> form_counts(const std::vector<Item>& items) {
  std::unordered_map<std::string, int> counts;
  for (const Item& item : items) {
    for (const std::string& f : item.forms) ++counts[f];
  }
  return counts;
}

bool joinable(const GoalToken& t) {
  return t.kind == TokenKind::kWord && t.folded.size() >= 3 && !is_function_word(t.folded) &&
         !is_negation_marker(t.folded);
}

// Joins side[i], side[i+1] when their concatenation is a word `other` has
// more often than `side` has it on its own ("web app" vs "webapp").
// Short words and function words are never glued ("in valid" ≠ "invalid").
void join_split_words(std::vector<Item>* side, const std::vector<Item>& other) {
  const std::unordered_map<std::string, int> other_forms = form_counts(other);
  std::unordered_map<std::string, int> own_forms = form_counts(*side);
  std::vector<Item> out;
  out.reserve(side->size());
  for (size_t i = 0; i < side->size(); ++i) {
    if (i + 1 < side->size() && joinable((*side)[i].token) && joinable((*side)[i + 1].token)) {
      const GoalToken& x = (*side)[i].token;
      const GoalToken& y = (*side)[i + 1].token;
      GoalToken joined = x;
      joined.text = x.text + " " + y.text;
      joined.folded = x.folded + y.folded;
      Item item = make_item(std::move(joined), out.empty());
      const bool wanted = std::any_of(item.forms.begin(), item.forms.end(), [&](const auto& f) {
        const auto theirs = other_forms.find(f);
        const auto ours = own_forms.find(f);
        return theirs != other_forms.end() &&
               (ours == own_forms.end() || ours->second < theirs->second);
      });
      if (wanted) {
        for (const std::string& f : item.forms) ++own_forms[f];
        out.push_back(std::move(item));
        ++i;
        continue;
      }
    }
    out.push_back(std::move((*side)[i]));
  }
  *side = std::move(out);
}

struct Matching {
  std::vector<int> a_to_b;  // -1: unmatched
  std::vector<bool> b_matched;
};

// Each form keeps the ordered set of b's still unmatched tokens that have
// it, so a goal repeating a word thousands of times stays O(n log n).
Matching match_items(const std::vector<Item>& a, const std::vector<Item>& b) {
  std::unordered_map<std::string, std::set<int>> free_by_form;
  for (size_t j = 0; j < b.size(); ++j) {
    for (const std::string& f : b[j].forms) free_by_form[f].insert(static_cast<int>(j));
  }
  Matching m{std::vector<int>(a.size(), -1), std::vector<bool>(b.size(), false)};
  int last = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    int after = -1, any = -1;  // first free candidate after `last`; first free at all
    for (const std::string& f : a[i].forms) {
      const auto it = free_by_form.find(f);
      if (it == free_by_form.end() || it->second.empty()) continue;
      const auto next = it->second.upper_bound(last);
      if (next != it->second.end() && (after < 0 || *next < after)) after = *next;
      if (any < 0 || *it->second.begin() < any) any = *it->second.begin();
    }
    const int pick = after >= 0 ? after : any;
    if (pick < 0) continue;
    m.a_to_b[i] = pick;
    m.b_matched[static_cast<size_t>(pick)] = true;
    for (const std::string& f : b[static_cast<size_t>(pick)].forms) free_by_form[f].erase(pick);
    last = pick;
  }
  return m;
}

bool any_base(const Item& item, bool (*pred)(std::string_view)) {
  return std::any_of(item.bases.begin(), item.bases.end(),
                     [pred](const std::string& b) { return pred(b); });
}

bool opposite(const Item& x, const Item& y) {
  for (const std::string& p : x.bases) {
    for (const std::string& q : y.bases) {
      if (are_antonyms(p, q) || is_prefix_negation(p, q)) return true;
    }
  }
  return false;
}

bool is_environment_word(std::string_view w) { return environment_name(w).has_value(); }

bool any_of_kind(const std::vector<const Item*>& items, TokenKind kind) {
  return std::any_of(items.begin(), items.end(),
                     [kind](const Item* i) { return i->token.kind == kind; });
}

bool any_word(const std::vector<const Item*>& items, bool (*pred)(std::string_view)) {
  return std::any_of(items.begin(), items.end(), [pred](const Item* i) {
    return i->token.kind == TokenKind::kWord && any_base(*i, pred);
  });
}

// Opposites are looked for among the first kOppositeScan unmatched tokens
// of each side: this only names the reason (the veto has fired already), so
// it need not be quadratic in a long goal.
constexpr size_t kOppositeScan = 32;

bool negation_differs(const std::vector<const Item*>& left_a,
                      const std::vector<const Item*>& left_b) {
  if (any_word(left_a, is_negation_marker) || any_word(left_b, is_negation_marker)) return true;
  for (size_t i = 0; i < std::min(left_a.size(), kOppositeScan); ++i) {
    for (size_t j = 0; j < std::min(left_b.size(), kOppositeScan); ++j) {
      if (opposite(*left_a[i], *left_b[j])) return true;
    }
  }
  return false;
}

// Names what differs among the unmatched tokens of both goals.
VetoReason classify(const std::vector<const Item*>& left_a,
                    const std::vector<const Item*>& left_b) {
  std::vector<const Item*> all = left_a;
  all.insert(all.end(), left_b.begin(), left_b.end());
  if (any_of_kind(all, TokenKind::kQuoted)) return VetoReason::kQuotedString;
  if (negation_differs(left_a, left_b)) return VetoReason::kNegation;
  if (any_of_kind(all, TokenKind::kPath)) return VetoReason::kPath;
  if (any_of_kind(all, TokenKind::kIdentifier)) return VetoReason::kIdentifier;
  if (any_of_kind(all, TokenKind::kVersion)) return VetoReason::kVersion;
  if (any_of_kind(all, TokenKind::kDate) || any_word(all, is_date_word)) return VetoReason::kDate;
  if (any_of_kind(all, TokenKind::kNumber)) return VetoReason::kNumber;
  if (any_word(all, is_environment_word)) return VetoReason::kEnvironment;
  const bool entity = std::any_of(all.begin(), all.end(), [](const Item* i) {
    const GoalToken& t = i->token;
    return t.kind == TokenKind::kWord && (t.acronym || (t.capitalised && t.position > 0));
  });
  return entity ? VetoReason::kEntity : VetoReason::kContentWord;
}

std::vector<std::string> quoted_texts(const std::vector<GoalToken>& tokens) {
  std::vector<std::string> texts;
  for (const GoalToken& t : tokens) {
    if (t.kind == TokenKind::kQuoted) texts.push_back(t.text);
  }
  std::sort(texts.begin(), texts.end());
  return texts;
}

}  // namespace

std::string_view veto_reason_name(VetoReason reason) {
  switch (reason) {
    case VetoReason::kNumber:
      return "number";
    case VetoReason::kDate:
      return "date";
    case VetoReason::kVersion:
      return "version";
    case VetoReason::kQuotedString:
      return "quoted";
    case VetoReason::kIdentifier:
      return "identifier";
    case VetoReason::kPath:
      return "path";
    case VetoReason::kEnvironment:
      return "environment";
    case VetoReason::kNegation:
      return "negation";
    case VetoReason::kEntity:
      return "entity";
    case VetoReason::kContentWord:
      return "content_word";
    case VetoReason::kWordOrder:
      return "word_order";
  }
  return "content_word";
}

const std::vector<VetoReason>& all_veto_reasons() {
  static const std::vector<VetoReason> kAll = {
      VetoReason::kNumber,       VetoReason::kDate,       VetoReason::kVersion,
      VetoReason::kQuotedString, VetoReason::kIdentifier, VetoReason::kPath,
      VetoReason::kEnvironment,  VetoReason::kNegation,   VetoReason::kEntity,
      VetoReason::kContentWord,  VetoReason::kWordOrder};
  return kAll;
}

std::optional<VetoReason> veto(const std::vector<GoalToken>& a, const std::vector<GoalToken>& b) {
  if (quoted_texts(a) != quoted_texts(b)) return VetoReason::kQuotedString;
  const bool keep_stopwords = !has_content(a) || !has_content(b);
  std::vector<Item> items_a = meaningful_items(a, keep_stopwords);
  std::vector<Item> items_b = meaningful_items(b, keep_stopwords);
  join_split_words(&items_a, items_b);
  join_split_words(&items_b, items_a);
  const Matching m = match_items(items_a, items_b);
  std::vector<const Item*> left_a, left_b;
  for (size_t i = 0; i < items_a.size(); ++i) {
    if (m.a_to_b[i] < 0) left_a.push_back(&items_a[i]);
  }
  for (size_t j = 0; j < items_b.size(); ++j) {
    if (!m.b_matched[j]) left_b.push_back(&items_b[j]);
  }
  if (!left_a.empty() || !left_b.empty()) return classify(left_a, left_b);
  if (!std::is_sorted(m.a_to_b.begin(), m.a_to_b.end())) return VetoReason::kWordOrder;
  return std::nullopt;
}

std::optional<VetoReason> veto(std::string_view goal_a, std::string_view goal_b) {
  return veto(tokenize_goal(goal_a), tokenize_goal(goal_b));
}

}  // namespace plancache::internal

// Goal tokenisation (see goal_tokens.h for the steps). The design choice is
// that every step only splits, classifies or flags: no character that could
// carry meaning is thrown away except sentence punctuation at the ends of a
// piece, so the veto downstream sees everything the goal says.
#include "neighbours/goal_tokens.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <optional>

#include "neighbours/lexicon.h"
#include "neighbours/token_kind.h"
#include "neighbours/word_forms.h"

namespace plancache::internal {
namespace {

struct Piece {
  std::string text;
  bool quoted = false;
};

// Decodes the code point at s[*i] and advances *i; invalid bytes come back
// negative (treated as letters, so they are never silently dropped).
UChar32 next_code_point(std::string_view s, size_t* i) {
  UChar32 c = 0;
  int32_t pos = static_cast<int32_t>(*i);
  U8_NEXT(s.data(), pos, static_cast<int32_t>(s.size()), c);
  *i = static_cast<size_t>(pos);
  return c;
}

struct QuotePair {
  UChar32 open;
  UChar32 close;
};
constexpr std::array<QuotePair, 10> kQuotes = {{{'"', '"'},
                                                {'`', '`'},
                                                {'\'', '\''},
                                                {0x201C, 0x201D},
                                                {0x2018, 0x2019},
                                                {0x00AB, 0x00BB},
                                                {0x201E, 0x201C},
                                                {0x2039, 0x203A},
                                                {0x300C, 0x300D},
                                                {0x300E, 0x300F}}};

bool ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool is_open_bracket(UChar32 c) { return c == '(' || c == '[' || c == '{'; }
bool is_close_bracket(UChar32 c) { return c == ')' || c == ']' || c == '}'; }

bool is_separator(UChar32 c) {
  if (c < 0) return false;
  if (c < 0x80) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == ',' || c == ';' || is_open_bracket(c) ||
           is_close_bracket(c) || c == '"' || c == '`';
  }
  // U+2019 is the typographic apostrophe ("don’t"); it stays inside words.
  return u_isUWhiteSpace(c) || (u_ispunct(c) && c != 0x2019);
}

// A quote closed by ' must be followed by a boundary, so "it's 'x'" pairs
// the right marks; other quote marks close wherever they appear.
bool closes_here(std::string_view s, size_t after, UChar32 close) {
  if (close != '\'') return true;
  if (after >= s.size()) return true;
  size_t j = after;
  const UChar32 next = next_code_point(s, &j);
  return is_separator(next) || next == '.' || next == '!' || next == '?' || next == ':';
}

struct QuoteSpan {
  std::string content;
  size_t end = 0;  // byte after the closing mark
};

// A quoted span opening with `c` at s[start..open_end), if it closes.
std::optional<QuoteSpan> quote_at(std::string_view s, size_t open_end, UChar32 c,
                                  bool at_boundary) {
  for (const QuotePair& q : kQuotes) {
    if (q.open != c || (c == '\'' && !at_boundary)) continue;
    size_t i = open_end;
    while (i < s.size()) {
      const size_t before = i;
      if (next_code_point(s, &i) == q.close && closes_here(s, i, q.close)) {
        return QuoteSpan{std::string(s.substr(open_end, before - open_end)), i};
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::vector<Piece> split_pieces(std::string_view s) {
  std::vector<Piece> pieces;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) pieces.push_back({std::move(current), false});
    current.clear();
  };
  bool at_boundary = true;
  int depth = 0;  // brackets opened inside `current` ("foo(" ...)
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const UChar32 c = next_code_point(s, &i);
    // Code, not punctuation: a bracket glued to a word, and what it encloses;
    // a digit-group comma ("1,000").
    const bool group_comma = c == ',' && !current.empty() && ascii_digit(current.back()) &&
                             i < s.size() && ascii_digit(s[i]);
    const bool in_code = (is_open_bracket(c) && !current.empty()) || group_comma ||
                         (depth > 0 && (is_close_bracket(c) || c == ',' || c == ';'));
    if (auto quoted = in_code ? std::nullopt : quote_at(s, i, c, at_boundary)) {
      flush();
      depth = 0;
      pieces.push_back({std::move(quoted->content), true});
      i = quoted->end;
      at_boundary = true;
    } else if (is_separator(c) && !in_code) {
      flush();
      depth = 0;
      at_boundary = true;
    } else {
      depth += is_open_bracket(c) ? 1 : is_close_bracket(c) ? -1 : 0;
      current.append(s.substr(start, i - start));
      at_boundary = false;
    }
  }
  flush();
  return pieces;
}

// Sentence punctuation and stray quote marks at the ends of a piece.
std::string_view trim_piece(std::string_view p) {
  constexpr std::string_view kApostrophe = "\u2019";
  while (!p.empty()) {
    if (p.front() == '\'') {
      p.remove_prefix(1);
    } else if (p.starts_with(kApostrophe)) {
      p.remove_prefix(kApostrophe.size());
    } else {
      break;
    }
  }
  while (!p.empty()) {
    const char c = p.back();
    if (c == '.' || c == '!' || c == '?' || c == ':' || c == '\'' || c == ',') {
      p.remove_suffix(1);
    } else if (p.ends_with(kApostrophe)) {
      p.remove_suffix(kApostrophe.size());
    } else {
      break;
    }
  }
  return p;
}

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool letters_and(std::string_view p, char extra) {
  return std::all_of(p.begin(), p.end(), [extra](char c) {
    return ascii_alpha(c) || static_cast<unsigned char>(c) >= 0x80 || c == extra;
  });
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "don't" → do not, "cannot" → can not, "won't" → will not, "user's" → user.
std::vector<std::string> expand_contraction(std::string p) {
  for (size_t at; (at = p.find("\u2019")) != std::string::npos;) p.replace(at, 3, "'");
  const std::string low = ascii_lower(p);
  if (low == "cannot") return {p.substr(0, 3), "not"};
  if (!letters_and(p, '\'') || p.find('\'') == std::string::npos) return {p};
  if (low.ends_with("n't")) {
    const std::string base = low.substr(0, low.size() - 3);
    if (base == "ca") return {p.substr(0, 2) + "n", "not"};
    if (base == "wo") return {"will", "not"};
    if (base == "sha") return {p.substr(0, 3) + "ll", "not"};
    if (base == "ai") return {"is", "not"};
    if (base.empty()) return {"not"};
    return {p.substr(0, base.size()), "not"};
  }
  for (std::string_view suffix : {"'s", "'d", "'m", "'re", "'ve", "'ll"}) {
    if (low.ends_with(suffix) && low.size() > suffix.size()) {
      return {p.substr(0, p.size() - suffix.size())};
    }
  }
  return {p};
}

// "set-up" → set, up; "non-prod" → non, prod; but "e-mail" → email (a
// one-letter part is a prefix, not a word). Not "--force" or "host-01".
std::vector<std::string> split_hyphens(const std::string& p) {
  if (p.find('-') == std::string::npos || !letters_and(p, '-') || p.front() == '-' ||
      p.back() == '-' || p.find("--") != std::string::npos) {
    return {p};
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = p.find('-', start)) != std::string::npos; start = at + 1) {
    parts.push_back(p.substr(start, at - start));
  }
  parts.push_back(p.substr(start));
  const bool prefixed = std::any_of(parts.begin(), parts.end(),
                                    [](const std::string& part) { return part.size() == 1; });
  if (prefixed) {
    std::string joined;
    for (const std::string& part : parts) joined += part;
    return {joined};
  }
  return parts;
}

bool first_letter_upper(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const UChar32 c = next_code_point(text, &i);
    if (c >= 0 && u_isalpha(c)) return u_isupper(c) != 0;
  }
  return false;
}

bool is_acronym(std::string_view text) {
  size_t letters = 0;
  for (const char c : text) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') ++letters;
  }
  return letters >= 2;
}

GoalToken make_token(std::string text, bool quoted) {
  GoalToken t;
  t.kind = quoted ? TokenKind::kQuoted : classify_piece(text);
  t.folded = t.kind == TokenKind::kNumber ? canonical_number(text) : fold_case(text);
  if (t.kind == TokenKind::kWord) {
    if (const auto value = number_word_value(t.folded)) {
      t.kind = TokenKind::kNumber;
      t.folded = std::string(*value);
    }
  }
  t.capitalised = first_letter_upper(text);
  t.acronym = t.kind == TokenKind::kWord && is_acronym(text);
  t.stopword = (t.kind == TokenKind::kWord && !t.acronym && is_stopword(t.folded)) ||
               (t.kind == TokenKind::kSymbol && text == "&");
  t.text = std::move(text);
  return t;
}

// Leading phrasings that add nothing to the request ("how to deploy" asks
// for the plan of "deploy"). Their words are flagged as stopwords.
constexpr std::array<std::array<std::string_view, 4>, 12> kFillers = {{
    {"how", "to", "", ""},
    {"can", "you", "", ""},
    {"could", "you", "", ""},
    {"would", "you", "", ""},
    {"will", "you", "", ""},
    {"i", "want", "to", ""},
    {"i", "need", "to", ""},
    {"i", "would", "like", "to"},
    {"help", "me", "to", ""},
    {"help", "me", "", ""},
    {"tell", "me", "how", "to"},
    {"show", "me", "how", "to"},
}};

size_t filler_length(const std::vector<GoalToken>& tokens, size_t at) {
  for (const auto& filler : kFillers) {
    size_t n = 0;
    while (n < filler.size() && !filler[n].empty() && at + n < tokens.size() &&
           tokens[at + n].kind == TokenKind::kWord && tokens[at + n].folded == filler[n]) {
      ++n;
    }
    if (n == filler.size() || filler[n].empty()) return n;
  }
  return 0;
}

void flag_leading_fillers(std::vector<GoalToken>* tokens) {
  size_t at = 0;
  while (at < tokens->size()) {
    const size_t n = filler_length(*tokens, at);
    if (n > 0) {
      for (size_t k = at; k < at + n; ++k) (*tokens)[k].stopword = true;
      at += n;
    } else if ((*tokens)[at].stopword) {
      ++at;
    } else {
      break;
    }
  }
}

std::optional<std::string_view> compound_of(const GoalToken& verb, const GoalToken& particle) {
  if (verb.kind != TokenKind::kWord || particle.kind != TokenKind::kWord) return std::nullopt;
  // No -ed bases: "logged in users" (a state) is not "log in users" (an act).
  for (const std::string& base : inflection_bases(verb.folded, /*past_tense=*/false)) {
    if (const auto compound = phrasal_compound(base, particle.folded)) return compound;
  }
  return std::nullopt;
}

// "set up" (or "setting up") → one token "setup", so both spellings match.
// Rebuilds the list (linear even for a goal of many compounds).
void join_compounds(std::vector<GoalToken>* tokens) {
  std::vector<GoalToken> out;
  out.reserve(tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) {
    GoalToken& t = (*tokens)[i];
    if (i + 1 < tokens->size()) {
      if (const auto compound = compound_of(t, (*tokens)[i + 1])) {
        t.text += " " + (*tokens)[i + 1].text;
        t.folded = std::string(*compound);
        t.stopword = false;
        ++i;
      }
    }
    out.push_back(std::move(t));
  }
  *tokens = std::move(out);
}

}  // namespace

std::string fold_case(std::string_view text) {
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return ascii_lower(text);
  }
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  std::string out;
  u.foldCase(U_FOLD_CASE_DEFAULT).toUTF8String(out);
  return out;
}

std::vector<GoalToken> tokenize_goal(std::string_view normalized_goal) {
  std::vector<GoalToken> tokens;
  for (Piece& piece : split_pieces(normalized_goal)) {
    if (piece.quoted) {
      tokens.push_back(make_token(std::move(piece.text), true));
      continue;
    }
    const std::string_view trimmed = trim_piece(piece.text);
    if (trimmed.empty()) continue;
    for (std::string& word : expand_contraction(std::string(trimmed))) {
      for (std::string& part : split_hyphens(word)) {
        if (!part.empty()) tokens.push_back(make_token(std::move(part), false));
      }
    }
  }
  flag_leading_fillers(&tokens);
  join_compounds(&tokens);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i].position = static_cast<uint32_t>(i);
  return tokens;
}

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord:
      return "word";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kDate:
      return "date";
    case TokenKind::kVersion:
      return "version";
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kPath:
      return "path";
    case TokenKind::kQuoted:
      return "quoted";
    case TokenKind::kSymbol:
      return "symbol";
  }
  return "word";
}

}  // namespace plancache::internal

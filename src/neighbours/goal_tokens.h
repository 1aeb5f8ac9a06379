// Goal tokens: the words of a normalised goal, as the similarity scorer and
// the near-miss veto both see them.
//
// Input is the server's normalised goal (KeyBuilder::normalize_goal: NFC,
// whitespace collapsed); any UTF-8 is accepted. The tokeniser
//  1. takes quoted spans ('…' "…" `…` “…” ‘…’ «…» „…“) whole, as one
//     kQuoted token holding the verbatim content (an apostrophe inside a
//     word, as in "don't", never opens a quote);
//  2. splits the rest at white space, , ; ( ) [ ] { } (between pieces) and
//     non-ASCII punctuation, and trims sentence punctuation (. , ! ? : and
//     stray quotes) from the ends of each piece;
//  3. expands contractions ("don't" → "do" "not", "cannot" → "can" "not",
//     "user's" → "user"), splits letter-only hyphenated words ("set-up" →
//     "set" "up"; but "e-mail" → "email"), and classifies each piece
//     (TokenKind);
//  4. marks stopwords (lexicon.h), a leading filler ("how to", "can you",
//     "i want to", "help me") and joins verb + particle compounds
//     ("set up" → "setup").
// Brackets and commas inside a piece ("foo(bar)", "arr[0]", "f(a,b)") stay
// part of it: there they are code, not punctuation.
// Nothing is dropped: stopwords are flagged, not removed.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plancache::internal {

enum class TokenKind : uint8_t {
  kWord,        // letters of any script: "deploy", "Pakistan", "café"
  kNumber,      // 42, 1,000, 3.5, -2, 50%, $20, 2nd, 10gb; number words ("three")
  kDate,        // 2024-05-01, 12/25/2024, 10:30, 3pm, 1999, 1990s
  kVersion,     // v1.2, 1.2.3, python3.11
  kIdentifier,  // host-01, user_id, fooBar, CVE-2021-44228, 0xff, uuids, emails, urls, --force
  kPath,        // /etc/x, C:\x, ./x, ~/x, a/b, .env, file.ext
  kQuoted,      // the content of a quoted span, verbatim
  kSymbol,      // no letter or digit: > < = + -> &
};

struct GoalToken {
  TokenKind kind = TokenKind::kWord;
  // As written (quoted: the content; a joined compound: "set up").
  std::string text;
  // Case-folded text; for kNumber the canonical value ("three" → "3",
  // "1,000" → "1000"); for a compound its one-word form ("setup").
  std::string folded;
  bool capitalised = false;  // the first letter is upper case
  bool acronym = false;      // 2+ letters, all upper case ("AWS", "US")
  bool stopword = false;     // ignorable (lexicon.h); never an acronym
  uint32_t position = 0;     // index in the token list
};

// Unicode default case folding (ICU); ASCII is lowered without ICU.
std::string fold_case(std::string_view text);

// The tokens of `normalized_goal`, in order.
std::vector<GoalToken> tokenize_goal(std::string_view normalized_goal);

// Stable lowercase name of a kind ("word", "number", ...), for tests and logs.
std::string_view token_kind_name(TokenKind kind);

}  // namespace plancache::internal

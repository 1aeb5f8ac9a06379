// The classification step of goal tokenisation: what one whitespace-free
// piece of a goal is (a number, a date, a path, ...), and its canonical
// number text. Split from goal_tokens.cc to keep each file about one thing.
//
// Only ASCII drives the rules; a non-ASCII byte counts as a letter, so words
// in other scripts are kWord and a currency sign may open a number.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "neighbours/goal_tokens.h"

namespace plancache::internal {

// REQUIRES: `piece` is non-empty, has no white space, and contractions and
// hyphenated words are already split off (goal_tokens.cc does both).
TokenKind classify_piece(std::string_view piece);

// "1,000" → "1000", "$1,000.50" → "$1000.50", "10GB" → "10gb".
// REQUIRES: classify_piece(piece) == TokenKind::kNumber.
std::string canonical_number(std::string_view piece);

}  // namespace plancache::internal

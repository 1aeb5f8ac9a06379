// Word forms: English inflection, for telling "installing" from "install"
// (the same word) and "plane" from "plan" (not the same word).
//
// Two uses, two strengths:
//  - inflection_bases() is for the near-miss veto, which must never call two
//    different words equal. It lists the word itself and every base its
//    inflectional suffix (-s, -es, -ies, -ing, -ed, -ied) could have come
//    from; two words are inflections of one another when their lists meet.
//    A word without a suffix is only its own base, so "plane" and "plan",
//    "note" and "not", "mode" and "mod" never meet.
//  - light_stem() is for the similarity scorer: one deterministic stem per
//    word (suffix stripped, a final "e" dropped, "runn" → "run"). It may map
//    two different words to one stem ("plane", "plan"); that only raises a
//    score, and a score alone never serves a neighbour.
// Only lowercase ASCII words of 4+ letters are inflected; everything else
// (identifiers, other scripts, short words) is returned as is.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plancache::internal {

// The word first, then its possible bases (each 3+ letters, never a
// stopword, "not", "non" or "none"), without duplicates. Without `past_tense`
// the -ed/-ied rules are skipped: the veto uses that for a goal's leading
// word, where "deleted users" (a noun phrase) is not "delete users" (an
// order).
std::vector<std::string> inflection_bases(std::string_view folded_word, bool past_tense = true);

// The scorer's stem of a word.
std::string light_stem(std::string_view folded_word);

}  // namespace plancache::internal

// Lexicon: the small English word tables behind goal tokenisation, the
// similarity scorer and the near-miss veto.
//
// Every table is deliberately short. The veto treats every word that is not
// in the stopword table as meaning-bearing, so a word missing from a table
// can only make the veto stricter, never looser; the tables that *loosen*
// (stopwords, synonyms, compounds, number words) are the ones kept tiny and
// reviewed word by word. All lookups take case-folded ASCII words; anything
// else simply is not found.
//
// Thread-safety: immutable tables; every function may be called from any
// thread.
#pragma once

#include <optional>
#include <string_view>

namespace plancache::internal {

// Words whose presence or absence never changes what a goal asks for:
// articles, politeness, subject pronouns, a few auxiliaries ("is", "do",
// "can"), "and". Never negations, prepositions, quantifiers, possessives or
// tense-bearing auxiliaries ("was", "will", "should").
bool is_stopword(std::string_view folded);

// Words that negate or exclude: not, no, never, without, except, none,
// nothing, avoid, skip, disable, exclude, ... ("don't" arrives as "do not").
bool is_negation_marker(std::string_view folded);

// Prepositions, particles and conjunctions (in, on, to, for, with, from, up,
// out, and, or, then, ...): never glued to a neighbour to form a word
// ("in valid" is not "invalid", "with out" not "without").
bool is_function_word(std::string_view folded);

// Pairs of opposites (enable/disable, add/remove, start/stop, increase/
// decrease, ascending/descending, before/after, ...), in either order.
bool are_antonyms(std::string_view a, std::string_view b);

// True when one word is the other with a negating prefix (unread/read,
// deactivate/activate, invalid/valid, nonprod/prod). Only used to name a
// veto; both words already differ.
bool is_prefix_negation(std::string_view a, std::string_view b);

// The canonical name of a deployment environment word (dev, development →
// "dev"; prod, production → "prod"; stage, staging → "staging"; test,
// testing → "test"; qa, uat, local, sandbox, preview, canary, preprod, ...),
// or nullopt.
std::optional<std::string_view> environment_name(std::string_view folded);

// The canonical spelling of a word with a paraphrase-safe synonym or
// abbreviation (application → "app", database → "db", directory/folder →
// "dir", configuration → "config", ...), including environment words; the
// word itself otherwise.
std::string_view synonym_canonical(std::string_view folded);

// The canonical digits of a simple number word: "three" → "3",
// "twelve" → "12", "third" → "3rd"; nullopt for anything else (compound
// numbers such as "twenty three" are left as words, which only vetoes).
std::optional<std::string_view> number_word_value(std::string_view folded);

// Month and weekday names, relative days (today, tomorrow, yesterday,
// tonight), time units (minute, hour, day, week, month, year and their
// abbreviations) and calendar words (daily, weekly, quarter, ...). Used to
// name a veto.
bool is_date_word(std::string_view folded);

// The one-word spelling of a verb + particle compound ("set" + "up" →
// "setup", "log" + "in" → "login", "roll" + "back" → "rollback"), or
// nullopt. `verb` is a base form, `particle` folded.
std::optional<std::string_view> phrasal_compound(std::string_view verb, std::string_view particle);

// Inflected forms that are not inflections (https ≠ http, news ≠ new,
// string ≠ str, during, speed, ...): the inflection rules leave them alone.
bool is_inflection_exception(std::string_view folded);

}  // namespace plancache::internal

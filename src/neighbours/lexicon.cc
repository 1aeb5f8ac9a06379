// The word tables of lexicon.h. Each table says in its comment why a word is
// in it; when in doubt a word stays out, because leaving a word out of a
// loosening table (stopwords, synonyms, compounds) only makes the veto veto
// more.
#include "neighbours/lexicon.h"

#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace plancache::internal {
namespace {

using WordSet = std::unordered_set<std::string_view>;
using WordMap = std::unordered_map<std::string_view, std::string_view>;

// Ignorable words. Kept out on purpose: prepositions (to/from/on/in/of/for:
// "copy to" vs "copy from"), quantifiers (all/some/any/only), possessives
// (my/your/their), "or", "was"/"will"/"should" (tense and mood), "can"/
// "could" ("can I delete the db" asks, "delete the db" orders; "can you" is a
// filler, goal_tokens.cc), "here"/"there", question words other than "how".
const WordSet& stopwords() {
  static const WordSet kSet = {"a",     "an",     "the",   "please", "kindly", "just", "simply",
                               "i",     "me",     "we",    "you",    "it",     "its",  "is",
                               "are",   "am",     "be",    "do",     "does",   "this", "that",
                               "these", "those",  "and",   "so",     "also",   "hey",  "hi",
                               "hello", "thanks", "thank", "let",    "us",     "how"};
  return kSet;
}

const WordSet& negation_markers() {
  static const WordSet kSet = {
      "not",      "no",     "never",    "without",   "except",  "excluding", "exclude",
      "excluded", "none",   "nothing",  "nobody",    "nowhere", "neither",   "nor",
      "cannot",   "unless", "avoid",    "avoiding",  "skip",    "skipping",  "ignore",
      "ignoring", "omit",   "omitting", "prevent",   "disable", "disabled",  "disabling",
      "disallow", "forbid", "prohibit", "deny",      "non",     "minus",     "lacking",
      "lack",     "stop",   "instead",  "excepting", "barring", "nope",      "false",
      "negative", "undo",   "revert",   "against",   "off",     "opposite"};
  return kSet;
}

// Opposites, as base forms. Both orders are checked.
constexpr std::pair<std::string_view, std::string_view> kAntonyms[] = {
    {"enable", "disable"},
    {"add", "remove"},
    {"add", "delete"},
    {"include", "exclude"},
    {"include", "except"},
    {"allow", "deny"},
    {"allow", "block"},
    {"allow", "disallow"},
    {"accept", "reject"},
    {"approve", "reject"},
    {"start", "stop"},
    {"start", "end"},
    {"open", "close"},
    {"lock", "unlock"},
    {"show", "hide"},
    {"install", "uninstall"},
    {"install", "remove"},
    {"mount", "unmount"},
    {"encrypt", "decrypt"},
    {"connect", "disconnect"},
    {"import", "export"},
    {"upload", "download"},
    {"push", "pull"},
    {"increase", "decrease"},
    {"increment", "decrement"},
    {"up", "down"},
    {"in", "out"},
    {"on", "off"},
    {"min", "max"},
    {"minimum", "maximum"},
    {"first", "last"},
    {"1st", "last"},
    {"before", "after"},
    {"above", "below"},
    {"over", "under"},
    {"more", "less"},
    {"more", "fewer"},
    {"most", "least"},
    {"higher", "lower"},
    {"high", "low"},
    {"greater", "less"},
    {"greater", "smaller"},
    {"larger", "smaller"},
    {"largest", "smallest"},
    {"bigger", "smaller"},
    {"biggest", "smallest"},
    {"longest", "shortest"},
    {"longer", "shorter"},
    {"newest", "oldest"},
    {"latest", "earliest"},
    {"latest", "oldest"},
    {"new", "old"},
    {"asc", "desc"},
    {"ascending", "descending"},
    {"true", "false"},
    {"yes", "no"},
    {"pass", "fail"},
    {"success", "failure"},
    {"succeed", "fail"},
    {"win", "lose"},
    {"buy", "sell"},
    {"input", "output"},
    {"upgrade", "downgrade"},
    {"attach", "detach"},
    {"grant", "revoke"},
    {"public", "private"},
    {"inbound", "outbound"},
    {"ingress", "egress"},
    {"read", "write"},
    {"create", "delete"},
    {"create", "destroy"},
    {"create", "drop"},
    {"always", "never"},
    {"all", "none"},
    {"with", "without"},
    {"plus", "minus"},
    {"positive", "negative"},
    {"internal", "external"},
    {"send", "receive"},
    {"subscribe", "unsubscribe"},
    {"follow", "unfollow"},
    {"block", "unblock"},
    {"pause", "resume"},
    {"freeze", "unfreeze"},
    {"valid", "invalid"},
    {"like", "dislike"},
    {"fast", "slow"},
    {"hot", "cold"},
    {"light", "dark"},
    {"cheap", "expensive"},
    {"cheapest", "expensive"},
    {"best", "worst"},
    {"better", "worse"},
    {"early", "late"},
    {"inner", "outer"},
    {"left", "right"},
    {"north", "south"},
    {"east", "west"},
    {"horizontal", "vertical"},
    {"encode", "decode"},
    {"compress", "decompress"},
    {"serialize", "deserialize"},
    {"zip", "unzip"},
    {"activate", "deactivate"},
    {"to", "from"},
    {"into", "from"},
};

// Deployment environments, with the spellings that name the same one.
const WordMap& environments() {
  static const WordMap kMap = {{"dev", "dev"},
                               {"development", "dev"},
                               {"prod", "prod"},
                               {"production", "prod"},
                               {"prd", "prod"},
                               {"stage", "staging"},
                               {"staging", "staging"},
                               {"stg", "staging"},
                               {"test", "test"},
                               {"testing", "test"},
                               {"qa", "qa"},
                               {"uat", "uat"},
                               {"local", "local"},
                               {"sandbox", "sandbox"},
                               {"preview", "preview"},
                               {"canary", "canary"},
                               {"preprod", "preprod"},
                               {"nonprod", "nonprod"},
                               {"beta", "beta"},
                               {"alpha", "alpha"},
                               {"demo", "demo"},
                               {"live", "live"},
                               {"integration", "integration"}};
  return kMap;
}

// Abbreviations and spellings of one thing. Only nouns whose two spellings
// are interchangeable in any goal; no verb synonyms except show/display.
const WordMap& synonyms() {
  static const WordMap kMap = {
      {"application", "app"},  {"database", "db"},         {"directory", "dir"},
      {"folder", "dir"},       {"repository", "repo"},     {"configuration", "config"},
      {"cfg", "config"},       {"conf", "config"},         {"documentation", "docs"},
      {"information", "info"}, {"administrator", "admin"}, {"environment", "env"},
      {"kubernetes", "k8s"},   {"javascript", "js"},       {"typescript", "ts"},
      {"message", "msg"},      {"display", "show"},        {"e-mail", "email"},
      {"website", "site"},     {"webpage", "page"}};
  return kMap;
}

const WordMap& number_words() {
  static const WordMap kMap = {
      {"zero", "0"},      {"one", "1"},         {"two", "2"},       {"three", "3"},
      {"four", "4"},      {"five", "5"},        {"six", "6"},       {"seven", "7"},
      {"eight", "8"},     {"nine", "9"},        {"ten", "10"},      {"eleven", "11"},
      {"twelve", "12"},   {"thirteen", "13"},   {"fourteen", "14"}, {"fifteen", "15"},
      {"sixteen", "16"},  {"seventeen", "17"},  {"eighteen", "18"}, {"nineteen", "19"},
      {"twenty", "20"},   {"thirty", "30"},     {"forty", "40"},    {"fifty", "50"},
      {"sixty", "60"},    {"seventy", "70"},    {"eighty", "80"},   {"ninety", "90"},
      {"hundred", "100"}, {"thousand", "1000"}, {"million", "1e6"}, {"billion", "1e9"},
      {"dozen", "12"},    {"first", "1st"},     {"third", "3rd"},   {"fourth", "4th"},
      {"fifth", "5th"},   {"sixth", "6th"},     {"seventh", "7th"}, {"eighth", "8th"},
      {"ninth", "9th"},   {"tenth", "10th"},    {"half", "0.5"},    {"twice", "2x"},
      {"once", "1x"},     {"double", "2x"},     {"triple", "3x"},   {"quarter", "0.25"}};
  return kMap;
}

const WordSet& date_words() {
  static const WordSet kSet = {
      "january",   "february", "march",    "april",     "june",      "july",     "august",
      "september", "october",  "november", "december",  "jan",       "feb",      "mar",
      "apr",       "jun",      "jul",      "aug",       "sep",       "sept",     "oct",
      "nov",       "dec",      "monday",   "tuesday",   "wednesday", "thursday", "friday",
      "saturday",  "sunday",   "mon",      "tue",       "tues",      "wed",      "thu",
      "thur",      "thurs",    "fri",      "sat",       "sun",       "today",    "tomorrow",
      "yesterday", "tonight",  "now",      "weekend",   "weekday",   "morning",  "afternoon",
      "evening",   "night",    "noon",     "midnight",  "daily",     "weekly",   "monthly",
      "yearly",    "annually", "hourly",   "quarterly", "second",    "sec",      "minute",
      "hour",      "hr",       "day",      "week",      "month",     "year",     "yr",
      "decade",    "century",  "ago",      "am",        "pm",        "utc",      "date",
      "time",      "q1",       "q2",       "q3",        "q4",        "ms"};
  return kSet;
}

struct PairHash {
  size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
    return std::hash<std::string_view>()(p.first) * 31 + std::hash<std::string_view>()(p.second);
  }
};

const std::unordered_map<std::pair<std::string_view, std::string_view>, std::string_view, PairHash>&
compounds() {
  static const std::unordered_map<std::pair<std::string_view, std::string_view>, std::string_view,
                                  PairHash>
      kMap = {{{"set", "up"}, "setup"},       {{"log", "in"}, "login"},
              {{"log", "on"}, "logon"},       {{"log", "out"}, "logout"},
              {{"log", "off"}, "logoff"},     {{"sign", "in"}, "signin"},
              {{"sign", "up"}, "signup"},     {{"sign", "out"}, "signout"},
              {{"sign", "on"}, "signon"},     {{"sign", "off"}, "signoff"},
              {{"back", "up"}, "backup"},     {{"clean", "up"}, "cleanup"},
              {{"start", "up"}, "startup"},   {{"shut", "down"}, "shutdown"},
              {{"roll", "back"}, "rollback"}, {{"roll", "out"}, "rollout"},
              {{"check", "out"}, "checkout"}, {{"check", "in"}, "checkin"},
              {{"look", "up"}, "lookup"},     {{"tear", "down"}, "teardown"},
              {{"warm", "up"}, "warmup"},     {{"fail", "over"}, "failover"},
              {{"fall", "back"}, "fallback"}, {{"pop", "up"}, "popup"},
              {{"drop", "down"}, "dropdown"}, {{"time", "out"}, "timeout"},
              {{"hand", "off"}, "handoff"},   {{"hand", "over"}, "handover"},
              {{"print", "out"}, "printout"}, {{"walk", "through"}, "walkthrough"}};
  return kMap;
}

// Words the suffix rules would wrongly reduce to another word.
const WordSet& inflection_exceptions() {
  static const WordSet kSet = {
      "https",   "news",      "cors",     "windows",    "series",  "species",   "always",
      "perhaps", "various",   "previous", "string",     "strings", "thing",     "things",
      "king",    "ring",      "spring",   "bring",      "during",  "morning",   "evening",
      "nothing", "something", "anything", "everything", "ceiling", "ping",      "wing",
      "swing",   "sting",     "sing",     "pudding",    "wedding", "offspring", "lightning",
      "need",    "seed",      "speed",    "feed",       "embed",   "hundred",   "bed",
      "red",     "shed",      "breed",    "bleed",      "greed",   "naked",     "wicked",
      "sacred",  "shred",     "sled",     "weed",       "deed",    "indeed",    "exceed",
      "proceed", "succeed",   "wings",    "kings",      "rings",   "stings",    "pings",
      "ids",     "ips",       "pos",      "ads",        "ms",      "gas",       "yes"};
  return kSet;
}

// Prepositions, particles and conjunctions.
const WordSet& function_words() {
  static const WordSet kSet = {"in",   "on",   "at",   "to",   "of",   "for",  "by",   "up",
                               "out",  "off",  "with", "from", "into", "onto", "over", "under",
                               "down", "back", "away", "via",  "per",  "and",  "or",   "nor",
                               "but",  "then", "than", "as",   "if",   "so",   "yet"};
  return kSet;
}

bool in(const WordSet& set, std::string_view word) { return set.count(word) != 0; }

}  // namespace

bool is_stopword(std::string_view folded) { return in(stopwords(), folded); }

bool is_negation_marker(std::string_view folded) { return in(negation_markers(), folded); }

bool is_function_word(std::string_view folded) { return in(function_words(), folded); }

bool are_antonyms(std::string_view a, std::string_view b) {
  for (const auto& [x, y] : kAntonyms) {
    if ((a == x && b == y) || (a == y && b == x)) return true;
  }
  return false;
}

bool is_prefix_negation(std::string_view a, std::string_view b) {
  if (a.size() < b.size()) std::swap(a, b);
  if (b.size() < 3 || !a.ends_with(b)) return false;
  const std::string_view prefix = a.substr(0, a.size() - b.size());
  for (std::string_view p : {"un", "dis", "de", "in", "im", "il", "ir", "non", "anti", "mis"}) {
    if (prefix == p) return true;
  }
  return false;
}

std::optional<std::string_view> environment_name(std::string_view folded) {
  const auto it = environments().find(folded);
  if (it == environments().end()) return std::nullopt;
  return it->second;
}

std::string_view synonym_canonical(std::string_view folded) {
  if (const auto env = environment_name(folded)) return *env;
  const auto it = synonyms().find(folded);
  return it == synonyms().end() ? folded : it->second;
}

std::optional<std::string_view> number_word_value(std::string_view folded) {
  const auto it = number_words().find(folded);
  if (it == number_words().end()) return std::nullopt;
  return it->second;
}

bool is_date_word(std::string_view folded) { return in(date_words(), folded); }

std::optional<std::string_view> phrasal_compound(std::string_view verb, std::string_view particle) {
  const auto it = compounds().find({verb, particle});
  if (it == compounds().end()) return std::nullopt;
  return it->second;
}

bool is_inflection_exception(std::string_view folded) {
  return in(inflection_exceptions(), folded);
}

}  // namespace plancache::internal

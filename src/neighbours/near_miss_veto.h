// Near-miss veto: may a plan cached for one goal answer another?
//
// veto(a, b) is nullopt only when b is a rewording of a: the same
// meaning-bearing tokens, in the same order, differing only in
//  - stopwords (articles, politeness, "is"/"do"/"can", "and"; lexicon.h)
//    and a leading filler ("how to", "i want to", "help me");
//  - case ("Docker" = "docker"; an acronym such as "US" is never a
//    stopword, so "US" ≠ "us") and sentence punctuation;
//  - inflection ("installing" = "install", "servers" = "server";
//    word_forms.h) and spelling of simple numbers ("3" = "three");
//  - joined or split compounds ("set up" = "setup" = "set-up",
//    "web app" = "webapp") and a short list of paraphrase-safe synonyms
//    ("database" = "db", "production" = "prod").
// Anything else vetoes. Numbers, dates, versions, identifiers, paths and
// quoted strings must be equal as written (numbers by canonical value);
// reordering vetoes too ("convert celsius to fahrenheit" is not
// "convert fahrenheit to celsius"). The reason names what differs:
// the most telling class present among the differing tokens, in the order
// quoted, negation, path, identifier, version, date, number, environment,
// entity, content word; word_order when the tokens are the same but not in
// the same order.
//
// The rule is one-sided on purpose: a plan cache must never answer the wrong
// question, and a missed reuse only costs a planner call.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "neighbours/goal_tokens.h"

namespace plancache::internal {

enum class VetoReason : uint8_t {
  kNumber,        // "3 replicas" / "5 replicas", "2nd" / "3rd", "50%" / "60%", "$5" / "$50"
  kDate,          // "2024-05-01" / "2024-06-01", "monday" / "friday", "today" / "tomorrow"
  kVersion,       // "v1.2" / "v1.3", "1.2.3" / "1.2.4", "python3.11" / "python3.12"
  kQuotedString,  // 'foo' / 'bar', or quoted in one goal only
  kIdentifier,    // host-01 / host-02, user_id / user_name, fooBar, CVE ids, emails, urls
  kPath,          // /etc/x / /etc/y, C:\x, ./x, config.yaml / config.yml
  kEnvironment,   // staging / production, dev / qa (dev = development is fine)
  kNegation,      // not, never, without, except, don't; enable / disable, add / remove
  kEntity,        // a capitalised word or acronym in one goal only: Pakistan / India
  kContentWord,   // any other meaning-bearing word: restart nginx / restart apache
  kWordOrder,     // same tokens, different order: celsius to fahrenheit / fahrenheit to celsius
};

// Stable metric label: "number", "date", "version", "quoted", "identifier",
// "path", "environment", "negation", "entity", "content_word", "word_order".
std::string_view veto_reason_name(VetoReason reason);

// Every reason, in declaration order (for metrics registration and tests).
const std::vector<VetoReason>& all_veto_reasons();

// Why a cached plan for `goal_b` must not answer `goal_a`, or nullopt when
// it may. Symmetric. Inputs are normalised goals (any UTF-8 is accepted).
std::optional<VetoReason> veto(std::string_view goal_a, std::string_view goal_b);

// The same on already-tokenised goals (tokenize_goal).
std::optional<VetoReason> veto(const std::vector<GoalToken>& a, const std::vector<GoalToken>& b);

}  // namespace plancache::internal

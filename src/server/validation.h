// Validation of what clients send, done once at the edge (SPEC §3, §5 "bad
// input"): JSON bodies, namespaces, user keys, tags, TTLs, query strings.
// Every error is invalid_argument with a message naming the field and, where
// it is safe to echo, the offending value.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

// Deeper JSON is refused: it would only serve to exhaust the stack of a
// recursive serialiser.
inline constexpr size_t kMaxRequestJsonDepth = 256;

// plancache::validate_namespace_name (1–64 bytes of [A-Za-z0-9_.-], not
// starting with '.' or '-'), its message prefixed with the quoted name. The
// server's one namespace check: run where a request's namespace is read
// (plan fields, entry paths, selectors); nothing after it checks again.
Status validate_namespace(std::string_view ns);
// plancache::validate_user_key, the printable part of a bad key quoted.
Status validate_user_key(std::string_view key);

// Parses a request body as JSON. Rejects an empty body, NUL bytes, invalid
// UTF-8, nesting deeper than kMaxRequestJsonDepth and malformed JSON.
Result<nlohmann::json> parse_json_body(std::string_view body);
// The same checks without building a document (for raw values stored as is).
Status check_json_text(std::string_view body);

// The fields shared by the plan endpoints: {"goal","context"?,"namespace"?}.
struct PlanFields {
  std::string ns = "default";
  const nlohmann::json* context = nullptr;  // points into the body; null = absent
  std::string goal;
};
// REQUIRES: body outlives the result (context points into it).
Result<PlanFields> parse_plan_fields(const nlohmann::json& body);

// body must be an object (else an error naming `what`).
Status require_object(const nlohmann::json& body, std::string_view what);

// Optional members; nullopt when absent. Errors name the field.
Result<std::optional<std::string>> optional_string(const nlohmann::json& body,
                                                   std::string_view field);
Result<std::optional<int64_t>> optional_non_negative(const nlohmann::json& body,
                                                     std::string_view field, int64_t max);
Result<std::vector<std::string>> optional_tags(const nlohmann::json& body);
Status validate_tag(std::string_view tag, std::string_view field);

// Parses "123" as a non-negative integer ≤ max; the error names `field`.
Result<int64_t> parse_non_negative(std::string_view text, std::string_view field, int64_t max);

// An entry's eviction hint: "important" or "temporary" ("normal", the
// default, is accepted too); the error names `field`.
Result<EntryPriority> parse_priority(std::string_view text, std::string_view field);

// Percent-decoding of a path segment or query component ('+' is kept in
// paths, a space in queries). nullopt on a malformed %XX escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y" → {{"a","1"},{"b","x y"}}. Errors: malformed escapes.
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace plancache::internal

// Canonical JSON for plan-key contexts, and JSON parsing with a depth limit.
// JSON only: the key material and digest are KeyBuilder's (key_builder.cc).
//
// The canonical form (docs/key_format.md § "Canonical context") is one line
// of JSON: object members sorted by key in UTF-8 byte order (= code point
// order), ignored member names dropped at every depth, no whitespace,
// strings escaped as in RFC 8785, integers that fit int64/uint64 printed as
// plain decimal, every other number as ECMAScript's Number::toString (so 1,
// 1.0 and 1e0 all print "1"). Strings are kept verbatim (not NFC-normalised).
// With set-array rules (a lane's KeyRules::set_arrays), an array that is the
// value of a member so named is written sorted (docs/key_format.md § "Lane
// key rules").
//
// Thread-safety: pure functions; safe to call from any thread.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"

namespace plancache::internal {

// Deepest nesting of arrays/objects accepted in a context: `[[1]]` has depth
// 2. Deeper input is rejected with invalid_argument.
inline constexpr int kMaxJsonDepth = 128;

// Deepest bracket nesting in `text`, counting only brackets outside strings;
// stops early once `limit` is exceeded. Cheap pre-check before parsing.
int bracket_depth(std::string_view text, int limit);

// Parses JSON text. Errors (invalid_argument): malformed JSON (the message
// names the parser's line/column), invalid UTF-8 in a string, nesting deeper
// than `max_depth`. `what` names the input in messages ("context").
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what = "context",
                                  int max_depth = kMaxJsonDepth);

// Set-array rules: member name -> sort member ("" = the whole element).
using SetArrays = std::map<std::string, std::string, std::less<>>;

// The canonical text of an already-parsed value (the server parses request
// bodies once). `set_arrays` null or empty: no array is sorted.
// Errors (invalid_argument): a string or key that is not valid UTF-8,
// NaN/infinity, binary values, nesting deeper than kMaxJsonDepth.
Result<std::string> canonical_json(const nlohmann::json& value,
                                   const std::vector<std::string>& ignored_fields,
                                   const SetArrays* set_arrays = nullptr);

// Parses `text` and returns its canonical text; empty text is `null`.
Result<std::string> canonical_json_text(std::string_view text,
                                        const std::vector<std::string>& ignored_fields,
                                        const SetArrays* set_arrays = nullptr);

// ECMAScript Number::toString of a finite double ("1", "0.1", "1e+21").
std::string format_double(double value);

}  // namespace plancache::internal

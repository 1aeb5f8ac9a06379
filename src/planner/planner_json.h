// The JSON side of every planner: checking and normalising a planner's
// answer, and short excerpts of what a failing planner said for error
// messages. Shared by the HTTP and command planners.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::internal {

// `answer` parsed (nesting bounded by kMaxJsonDepth) and re-serialised as
// compact JSON. Errors: bad_gateway "<who>: planner answered with invalid
// JSON: <parser detail> (answer starts with '...')".
Result<std::string> normalize_planner_answer(std::string_view answer, std::string_view who);

// The start of `text` for an error message: at most `max_bytes` bytes,
// surrounding whitespace trimmed, non-printable bytes escaped ("\xNN"),
// "..." when cut. Empty text gives "(empty)".
std::string excerpt(std::string_view text, size_t max_bytes = 200);

}  // namespace plancache::internal

// The near-miss parts of the plan answers (docs/http_api.md, "Near-miss
// reuse"): the client's similar-goal floor, and the members a lookup or a
// read-through answer gains in a lane with near-miss reuse. Every member
// text is JSON members each preceded by a comma (",\"match\":\"exact\""),
// ready to be spliced before an answer's closing brace; "" = nothing.
//
// Thread-safety: pure functions, except that exact_hit_members counts.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "plancache/status.h"
#include "server/near_miss.h"

namespace plancache::internal {

// The client's floor for a similar-goal answer in namespace `ns`: the
// body's "min_score" (a number) or the query's min_score=, the body first.
// A client may raise the lane's floor, never lower it
// (NearMissLane::similar_options). nullopt when neither is given or the
// lane has no similar-goal lookup (then nothing is read).
// Errors: invalid_argument naming the field when it is not a number.
Result<std::optional<double>> similar_min_score(const NearMiss* near_miss, std::string_view ns,
                                                const nlohmann::json& body, std::string_view query);

// A hit of the exact key: counted in its near-miss lane; ,"match":"exact"
// in a lane with similar-goal lookup.
std::string exact_hit_members(const NearMiss* near_miss, std::string_view ns);
// A neighbour's plan served for a miss:
// ,"match":"similar","score":s,"matched_goal":"...","matched_key":"<hex>".
std::string similar_hit_members(const SimilarFind& find);
// A miss the similar-goal lookup could not answer:
// ,"best_near_miss_score":x, and ,"veto":"<reason>" when the veto fired
// between the goal and the best candidate.
std::string near_miss_members(const SimilarResult& result);
// `members` as the `lead` of reply_hit: "{" then the members, each followed
// by a comma.
std::string hit_lead(std::string_view members);

}  // namespace plancache::internal

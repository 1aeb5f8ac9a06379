// Change impact: how much of a context changed between two JSON documents,
// as one number in [0, 1], for incremental planning ("reuse the plan of the
// nearest context and patch it" is only worth it when little changed).
//
// Definition. A document's leaves are its scalars (null, booleans, numbers,
// strings) and its empty arrays and objects; a scalar document is one leaf.
// The two documents are aligned as RFC 6902 diffs align them (nlohmann's
// json::diff): object members by name, array elements by index, anything
// else compared whole. Changed leaves are counted as
//   - both scalars (or a type change): 0 if equal, else the larger leaf
//     count of the two sides (a replaced subtree counts all of its leaves);
//   - a member or element on one side only: its leaf count (added/removed).
// impact = min(1, changed / max(leaves(before), leaves(after))).
// So one field changed in a flat 10-field object is 0.1, equal documents
// are 0, and unrelated documents are 1.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>

namespace plancache::internal {

// The impact above. When `patch_out` is not null it receives
// json::diff(before, after), the RFC 6902 patch from `before` to `after`.
// Does not throw.
double change_impact(const nlohmann::json& before, const nlohmann::json& after,
                     nlohmann::json* patch_out);

// The leaf count of the definition above.
size_t json_leaf_count(const nlohmann::json& value);

}  // namespace plancache::internal

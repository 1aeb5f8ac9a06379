// Merging the Tier::list() rows of several sources into one listing.
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <vector>

#include "plancache/tier.h"

namespace plancache::internal {

// Merges `sources` (each ordered by CacheKey::encoded(), as Tier::list
// returns them) into one list in that order with one row per key -- the row
// of the earliest source that has the key (the fastest tier, the pending
// write) -- cut to the first `limit` rows.
std::vector<ListedEntry> merge_listings(std::vector<std::vector<ListedEntry>> sources,
                                        size_t limit);

}  // namespace plancache::internal

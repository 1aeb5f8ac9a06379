// Matching of invalidation selectors against keys and entry metadata; shared
// by every tier so that they agree on what a selector removes.
#pragma once

#include <string_view>

#include "plancache/entry.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache::internal {

// Glob match in the style of Redis KEYS / fnmatch: `*` any run, `?` one byte,
// `[abc]`, `[a-z]`, `[!a]` / `[^a]` classes, `\` escapes the next byte.
// Linear in practice; worst case O(pattern * text), never exponential.
bool glob_match(std::string_view pattern, std::string_view text);

// Rejects malformed selectors (empty tag/prefix/pattern strings, unbalanced
// `[` in a pattern, negative ages) with invalid_argument naming the field.
Status validate_selector(const Selector& selector);

// True when `key` with metadata `meta` matches every field that `selector` sets.
// prefix / pattern only ever match kUser keys.
bool selector_matches(const Selector& selector, const CacheKey& key, const EntryMeta& meta);

// True when the selector needs only the namespace of a key (no tag, prefix,
// pattern or age): a tier may then drop a namespace wholesale.
bool selector_is_namespace_only(const Selector& selector);

}  // namespace plancache::internal

// Which namespaces GET /v1/stats and GET /metrics show one by one: every
// configured namespace (lane), and of the others -- names clients made up --
// the `max_unconfigured` holding the most entries. The rest are summed into
// one row named kOtherNamespaces, so that the size of both answers and the
// number of Prometheus series stay bounded whatever names clients send.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plancache/cache.h"
#include "plancache/namespace_policy.h"

namespace plancache::internal {

// The row of the folded namespaces. Never a namespace's name: '(' is not
// allowed in one (validate_namespace_name).
inline constexpr std::string_view kOtherNamespaces = "(other)";

// Folds *stats in place. Unconfigured namespaces are ranked by their
// entries over all tiers, then bytes (most first), then name; the first
// `max_unconfigured` keep their rows, and in every tier the others' counters
// (entries, bytes, hits, misses, evictions) are summed into a kOtherNamespaces row.
// `policies` null = only the default namespace is configured. Returns how
// many namespaces were folded (0: nothing changed, no kOtherNamespaces row).
uint64_t fold_namespaces(CacheStats* stats, const NamespacePolicies* policies,
                         size_t max_unconfigured);

}  // namespace plancache::internal

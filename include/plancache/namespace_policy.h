// NamespacePolicy: the per-namespace ("lane") rules of SPEC §2.
//
// Every namespace has a policy: the configured one, or the `default` policy
// for namespaces nobody configured. Presets `docs`, `standard`, `heavy`,
// `checkpoints` and `default` exist from the start; the TOML config can
// override any field of a preset or add namespaces of its own.
//
// Thread-safety: NamespacePolicies is immutable once built; share it as
// std::shared_ptr<const NamespacePolicies>.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/memory_tier.h"
#include "plancache/status.h"

namespace plancache {

struct NamespacePolicy {
  // L1 bound for this namespace (configured namespaces get an L1 of their
  // own; unconfigured ones share the default namespace's); 0 = unbounded.
  // Default: 100,000.
  uint64_t max_entries = 100'000;
  // L1 byte bound for this namespace; 0 = unbounded. Default: 256 MiB.
  uint64_t max_bytes = 256ull << 20;
  // TTL of puts that give none; 0 = never expires. Default: 1 hour.
  int64_t default_ttl_ms = 3'600'000;
  // Compress large values in tiers that leave the process. Default: true.
  bool compress = true;
  // Tier names this namespace uses, from "l1", "l2", "shared".
  // Default: all three.
  std::vector<std::string> tiers = {"l1", "l2", "shared"};
  // A computed value is cached only when computing it took at least this
  // long (the old PLAN_CACHE_MIN_GEN_TIME). Default: 0 (always cache).
  int64_t min_compute_ms = 0;
  // L1 eviction policy. Default: kTinyLfu.
  EvictionPolicy eviction = EvictionPolicy::kTinyLfu;
  // false: the namespace's disk entries are wiped when the server starts.
  // Default: true.
  bool persistent = true;
  // Read-through (issue 4). After an entry's TTL, keep serving it for this
  // many seconds while one compute refreshes it in the background
  // (stale-while-revalidate). Default: 0 (off).
  int64_t stale_while_revalidate_s = 0;
  // After an entry's TTL, serve it for this many seconds when recomputing
  // it fails (stale-if-error). Default: 0 (off).
  int64_t stale_if_error_s = 0;
  // This namespace's planner; "" = the server-wide --planner-url /
  // --planner-cmd. At most one of the two may be set. Default: "".
  std::string planner_url;
  std::string planner_cmd;

  bool uses_tier(std::string_view tier) const;
};

class NamespacePolicies {
 public:
  // The presets: default, docs, standard, heavy, checkpoints.
  NamespacePolicies();

  // Adds or replaces the policy of `name`.
  // Errors: invalid_argument for a bad name (see validate_namespace_name) or
  // policy (negative TTL, min compute time or stale periods,
  // unknown tier name, both planner_url and planner_cmd set).
  Status set(const std::string& name, NamespacePolicy policy);

  // The policy of `ns`: its own when configured, else the default one.
  const NamespacePolicy& get(std::string_view ns) const;
  bool configured(std::string_view ns) const;
  const std::map<std::string, NamespacePolicy, std::less<>>& all() const { return policies_; }

 private:
  std::map<std::string, NamespacePolicy, std::less<>> policies_;
};

inline constexpr std::string_view kDefaultNamespace = "default";
inline constexpr std::string_view kCheckpointsNamespace = "checkpoints";

// A namespace name is 1–64 bytes of [A-Za-z0-9_.-] that does not start with
// '.' or '-' (so "../x", "a/b", "" and ".hidden" are rejected).
// Errors: invalid_argument naming the problem.
Status validate_namespace_name(std::string_view name);

// Parses "tinylfu" / "lru".
Result<EvictionPolicy> parse_eviction_policy(std::string_view name);

}  // namespace plancache

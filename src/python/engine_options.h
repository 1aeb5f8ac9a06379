// EngineOptions and compose_engine(): the composition root of the
// in-process engine (plancache.Engine, python/plancache/engine.py), as
// server/composition.h is the server's. It turns what Engine(...) was given
// into the running objects: the lane policies (the presets, the default
// lane from the engine-wide settings, then the `lanes` tables), the key
// builder, L1 with one memory lane per configured namespace (the server's
// layout), the optional disk tier (L2) and the Cache over them. There is no
// shared tier in the engine.
//
// Python checks the types and ranges of what the user passed
// (engine.py: _lane_options) and names the argument to blame; what is
// checked here, once, is what the library rules on (namespace names, policy
// consistency, eviction and hash names, the disk tier opening).
//
// Thread-safety: compose_engine() is a plain function; what it returns is
// thread-safe (Cache) or immutable (policies, key builder).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/lane_keys.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"
#include "plancache/status.h"

namespace plancache::internal {

// One `lanes={name: {...}}` table: each field that is set overrides the
// lane's preset (docs, standard, heavy, checkpoints, default) or, for a new
// name, the built-in default policy. Keys as in a [namespaces.<name>] table
// of the server's TOML config.
struct LaneOptions {
  std::optional<uint64_t> max_entries;            // L1 entries; 0 = unbounded
  std::optional<uint64_t> max_bytes;              // L1 bytes; 0 = unbounded
  std::optional<std::string> eviction;            // "tinylfu" or "lru"
  std::optional<int64_t> default_ttl_ms;          // 0 = never expires
  std::optional<int64_t> min_compute_ms;          // store a computed plan only above this
  std::optional<std::vector<std::string>> tiers;  // of "l1", "l2"
  std::optional<bool> compress;                   // large values zstd-compressed on disk
  // NamespacePolicy::keys: the lane's own ignored context members and set
  // arrays (member name -> sort member, "" = the whole element).
  std::optional<std::vector<std::string>> key_ignored_fields;
  std::optional<std::map<std::string, std::string>> key_set_arrays;
};

struct EngineOptions {
  // The default lane's L1 bounds and eviction policy. Defaults: 100,000
  // entries, 256 MiB, "tinylfu" (MemoryLanePolicy's).
  uint64_t memory_max_entries = 100'000;
  uint64_t memory_max_bytes = 256ull << 20;
  std::string eviction = "tinylfu";
  // Directory of the disk tier (RocksDB); "" = no disk tier. Default: "".
  std::string disk_dir;
  // DiskTierOptions::max_bytes and sync_writes. Defaults: 1 GiB, false.
  uint64_t disk_max_bytes = 1ull << 30;
  bool disk_sync_writes = false;
  // The default lane's TTL (and the cache's); 0 = never. Default: 1 hour.
  int64_t default_ttl_ms = 3'600'000;
  // CacheOptions::max_value_bytes; 0 = no bound. Default: 0.
  uint64_t max_value_bytes = 0;
  // KeyBuilderOptions: "sha256" or "xxh3-128", and the ignored context
  // fields. Defaults: "sha256", none.
  std::string hash = "sha256";
  std::vector<std::string> ignored_fields;
  // Lane tables by namespace name, applied after the settings above (so a
  // "default" table overrides them). Default: none.
  std::map<std::string, LaneOptions> lanes;
};

// The running objects of one engine.
struct EngineParts {
  std::shared_ptr<const NamespacePolicies> policies;  // never null
  LaneKeys keys;                 // each lane's key builder (with its key rules)
  std::unique_ptr<Cache> cache;  // never null
};

// Errors: invalid_argument for a bad lane name or policy, eviction or hash
// name (the message names the lane or setting); the disk tier's errors
// (new_disk_tier: failed_precondition when another process holds the
// directory, data_loss, unavailable), prefixed with the directory.
Result<EngineParts> compose_engine(const EngineOptions& options);

}  // namespace plancache::internal

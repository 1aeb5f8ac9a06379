// The `[namespaces.<name>]` tables of the `plancache serve` config file
// (docs/http_api.md, "Namespaces (lanes)"), and how the server-wide
// settings (--l1-max-entries, --l1-max-bytes, --default-ttl-s,
// --min-compute-ms) become the policy of the `default` namespace.
//
// A table overrides only the keys it gives, on top of the preset of that
// name (default, docs, standard, heavy, checkpoints) or, for a new name, on
// top of the built-in `default` preset (not of the file's
// [namespaces.default]: what a new lane inherits does not depend on another
// table or on a flag).
//
// Thread-safety: plain functions over values.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "plancache/namespace_policy.h"
#include "plancache/status.h"
#include "server/config.h"

namespace plancache::internal {

// What the config file said about namespaces.
struct NamespaceTables {
  // The presets with every table applied and validated.
  NamespacePolicies policies;
  // The keys (snake_case) that [namespaces.default] gave explicitly.
  std::set<std::string, std::less<>> default_keys;
  // The lanes that name a planner of their own.
  std::map<std::string, server::LanePlanner, std::less<>> planners;
};

// Applies `node`, the value of the file's top-level `namespaces` key, to
// `*out`. Errors: invalid_argument naming the file, the table and the key
// (not a table, bad namespace name, unknown key, wrong type or value).
Status apply_namespace_tables(const toml::node& node, const std::string& path,
                              NamespaceTables* out);

// Sets the `default` namespace's max_entries, max_bytes, default TTL and
// min compute time, and the matching ServerConfig fields, by this
// precedence (highest first):
//   1. the server-wide setting given by a flag, a PLANCACHE_* variable or a
//      seed variable (PLAN_CACHE_MAXSIZE, PLAN_CACHE_TTL,
//      PLAN_CACHE_MIN_GEN_TIME): `given_above_file(setting)` is true;
//   2. the key in [namespaces.default];
//   3. the server-wide key at the top level of the file
//      (`given_in_file(setting)`);
//   4. the built-in default.
// Afterwards config.namespaces holds the policies and is the one truth;
// config.l1_max_entries etc. are then only a one-way mirror of the default
// lane (written here and nowhere else, never read back by the server).
Status finish_namespaces(NamespaceTables tables,
                         const std::function<bool(std::string_view)>& given_above_file,
                         const std::function<bool(std::string_view)>& given_in_file,
                         server::ServerConfig& config);

// The policies of a ServerConfig built without resolve_server_config
// (config.namespaces null): the presets, with the default namespace taking
// config.l1_max_entries, l1_max_bytes, default_ttl_s and min_compute_ms.
// When config.namespaces is set, returns it.
// Errors: invalid_argument for values the policy refuses.
Result<std::shared_ptr<const NamespacePolicies>> effective_namespaces(
    const server::ServerConfig& config);

}  // namespace plancache::internal

// LaneKeys: the KeyBuilder of every lane. A lane whose policy has key rules
// (NamespacePolicy::keys) builds its plan keys with them, on top of the
// shared options (hash, server-wide ignored fields); a lane without rules
// builds version-1 keys with the shared options alone. A namespace nobody
// configured uses the default lane's builder, as NamespacePolicies::get
// gives it the default lane's policy. Every path that builds a plan key for
// a namespace (the server's plan endpoints, the in-process engine) asks
// of(ns), so the lane's rules apply to all of them.
//
// Thread-safety: immutable once constructed; const methods may be called
// from any thread at once.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"

namespace plancache::internal {

class LaneKeys {
 public:
  // Every namespace uses one builder of `shared` (no lane rules).
  explicit LaneKeys(KeyBuilderOptions shared = {});
  // One builder per lane of `lanes`: `shared` with the lane's rules.
  // REQUIRES: shared.lane_rules is empty; the lanes' rules are valid (as
  // NamespacePolicies::set ensures).
  LaneKeys(const KeyBuilderOptions& shared, const NamespacePolicies& lanes);

  // The builder of namespace `ns`. The reference lives as long as this.
  const KeyBuilder& of(std::string_view ns) const;

 private:
  // Every configured lane's builder; always holds kDefaultNamespace.
  std::map<std::string, KeyBuilder, std::less<>> lanes_;
};

}  // namespace plancache::internal

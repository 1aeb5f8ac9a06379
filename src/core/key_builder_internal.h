// KeyBuilder's internal entry points: the key material, and plan_key for a
// context the caller has already parsed (the server parses each request body
// once and keeps the JSON).
//
// Thread-safety: pure functions of an immutable KeyBuilder.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plancache/key_builder.h"
#include "plancache/status.h"

namespace plancache::internal {

// The bytes a plan key digests (docs/key_format.md § "Key material"):
//   "plancache-key-v1\n" ns-netstring goal-netstring ctx-netstring
// where a netstring is <decimal byte length> ":" <bytes> ","; with lane rules
// (`rules_text` = KeyBuilder::rules_text(), not empty):
//   "plancache-key-v2\n" ns-netstring goal-netstring ctx-netstring rules-netstring
std::string plan_key_material(std::string_view ns, std::string_view normalized_goal,
                              std::string_view canonical_context, std::string_view rules_text = {});

// KeyBuilder::plan_key for an already-parsed context; the same key for the
// same value. The namespace is not checked again: the caller's edge did it.
// REQUIRES: validate_namespace_name(ns).is_ok().
// Errors: those of KeyBuilder::plan_key for the goal and the context.
Result<PlanKey> plan_key_from_json(const KeyBuilder& builder, std::string_view ns,
                                   std::string_view goal, const nlohmann::json& context);

}  // namespace plancache::internal

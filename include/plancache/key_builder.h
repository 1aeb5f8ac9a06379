// KeyBuilder: turns (namespace, goal text, JSON context) into a plan key.
//
// The goal is Unicode NFC-normalised, whitespace runs collapsed to one space
// and trimmed (never truncated). The context is any JSON value, canonicalised:
// object keys sorted by code point, numbers in one form, configured ignored
// fields dropped at every depth. The digest covers the key format version,
// the namespace, the normalised goal and the canonical context; it is shown as
// lowercase hex. A builder with a lane's KeyRules (set arrays, ignored fields
// of its own) makes key format version 2, whose digest covers the rules too.
// docs/key_format.md specifies the bytes; tests pin vectors.
//
// Thread-safety: immutable once constructed; const methods may be called
// from any thread at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache {

// The key format of keys built without lane rules (KeyRules empty).
inline constexpr uint32_t kKeyFormatVersion = 1;
// The key format of keys built with lane rules: the digest covers the rules.
inline constexpr uint32_t kKeyFormatVersionWithRules = 2;

enum class HashAlgorithm {
  kSha256,   // default; 64 hex chars
  kXxh3_128, // fast option; 32 hex chars
};

// A lane's own rules for its contexts (NamespacePolicy::keys;
// docs/key_format.md § "Lane key rules"). Rules that are not empty() make
// keys of kKeyFormatVersionWithRules.
struct KeyRules {
  // Object member names dropped at every depth, on top of
  // KeyBuilderOptions::ignored_fields. Default: none.
  std::vector<std::string> ignored_fields{};
  // Arrays that are multisets: an array that is the value of a member of one
  // of these names, at any depth, is written sorted (duplicates kept). The
  // mapped name is the sort member: "" sorts the elements by their canonical
  // text; "name" sorts objects by the canonical text of their "name" member
  // (elements without it after them), ties by the whole canonical text.
  // Default: none.
  std::map<std::string, std::string, std::less<>> set_arrays{};

  bool empty() const { return ignored_fields.empty() && set_arrays.empty(); }
};

// Errors: invalid_argument naming the rule when a field or member name is
// empty (only the sort member of a set array may be "") or not UTF-8.
Status validate_key_rules(const KeyRules& rules);

struct KeyBuilderOptions {
  // Default: kSha256.
  HashAlgorithm hash = HashAlgorithm::kSha256;
  // Object member names dropped from the context at every depth before
  // hashing (e.g. "request_id", "timestamp"). Not part of the key material.
  // Default: none.
  std::vector<std::string> ignored_fields{};
  // The lane's rules; not empty: keys of format version 2, whose material
  // covers these rules and ignored_fields. Default: none (version 1).
  // REQUIRES: validate_key_rules(lane_rules).is_ok().
  KeyRules lane_rules{};
};

struct PlanKey {
  CacheKey key;             // (namespace, kPlan, hex digest)
  std::string normalized_goal;
  std::string canonical_context;  // canonical JSON text ("null" when absent)
};

class KeyBuilder {
 public:
  explicit KeyBuilder(KeyBuilderOptions options = {});

  // Errors: invalid_argument when `ns` breaks validate_namespace_name (entry.h),
  // the goal is not valid UTF-8, is empty after normalisation, or contains
  // NUL; or the context is not valid JSON.
  Result<PlanKey> plan_key(std::string_view ns, std::string_view goal,
                           std::string_view context_json) const;

  // The pieces, for tests and tools.
  Result<std::string> normalize_goal(std::string_view goal) const;
  Result<std::string> canonical_context(std::string_view context_json) const;
  std::string digest_hex(std::string_view canonical_bytes) const;

  const KeyBuilderOptions& options() const { return options_; }
  // kKeyFormatVersion, or kKeyFormatVersionWithRules with lane rules.
  uint32_t key_format_version() const;
  // Every member name dropped: options().ignored_fields, and with lane rules
  // also lane_rules.ignored_fields (then sorted, without duplicates).
  const std::vector<std::string>& ignored_fields() const { return ignored_; }
  // The canonical text of the rules that version-2 key material ends with
  // (docs/key_format.md); "" for version 1.
  const std::string& rules_text() const { return rules_text_; }

 private:
  KeyBuilderOptions options_;
  std::vector<std::string> ignored_;
  std::string rules_text_;
};

// Parses "sha256" / "xxh3-128".
Result<HashAlgorithm> parse_hash_algorithm(std::string_view name);

}  // namespace plancache

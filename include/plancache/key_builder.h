// KeyBuilder: turns (namespace, goal text, JSON context) into a plan key.
//
// The goal is Unicode NFC-normalised, whitespace runs collapsed to one space
// and trimmed (never truncated). The context is any JSON value, canonicalised:
// object keys sorted by code point, numbers in one form, configured ignored
// fields dropped at every depth. The digest covers the key format version,
// the namespace, the normalised goal and the canonical context; it is shown as
// lowercase hex. docs/key_format.md specifies the bytes; tests pin vectors.
//
// Thread-safety: immutable once constructed; const methods may be called
// from any thread at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache {

inline constexpr uint32_t kKeyFormatVersion = 1;

enum class HashAlgorithm {
  kSha256,   // default; 64 hex chars
  kXxh3_128, // fast option; 32 hex chars
};

struct KeyBuilderOptions {
  // Default: kSha256.
  HashAlgorithm hash = HashAlgorithm::kSha256;
  // Object member names dropped from the context at every depth before
  // hashing (e.g. "request_id", "timestamp"). Default: none.
  std::vector<std::string> ignored_fields;
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

 private:
  KeyBuilderOptions options_;
};

// Parses "sha256" / "xxh3-128".
Result<HashAlgorithm> parse_hash_algorithm(std::string_view name);

}  // namespace plancache

#include "plancache/entry.h"

#include "core/utf8.h"

#include <xxhash.h>

#include <cassert>
#include <string>

namespace plancache {
namespace {
// Per-entry bookkeeping charged on top of the payload: the Entry object, its
// control block and the tier's node. Measured with heaptrack on the memory
// tier (docs/decisions.md); an estimate, not an exact malloc size.
constexpr size_t kEntryOverheadBytes = 160;

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
}  // namespace

Status validate_user_key(std::string_view key) {
  if (key.empty()) return Status::invalid_argument("key must not be empty");
  if (key.size() > kMaxUserKeyBytes) {
    return Status::invalid_argument("key is longer than 512 bytes (" + std::to_string(key.size()) +
                                    ")");
  }
  if (!internal::is_valid_utf8(key)) return Status::invalid_argument("key is not valid UTF-8");
  for (char ch : key) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f) {
      return Status::invalid_argument("key contains a NUL or control character");
    }
  }
  return Status::ok();
}

Status validate_namespace_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("namespace must not be empty");
  if (name.size() > kMaxNamespaceBytes) {
    return Status::invalid_argument("namespace is longer than 64 characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return Status::invalid_argument("namespace must not start with '.' or '-'");
  }
  for (char c : name) {
    if (!valid_name_char(c)) {
      return Status::invalid_argument(
          "namespace may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::ok();
}

CacheKey::CacheKey(std::string_view ns, KeyKind kind, std::string_view id) {
  assert(!ns.empty() && ns.find('\0') == std::string_view::npos);
  encoded_.reserve(ns.size() + 2 + id.size());
  encoded_.append(ns);
  encoded_.push_back('\0');
  encoded_.push_back(static_cast<char>(kind));
  encoded_.append(id);
  ns_len_ = static_cast<uint32_t>(ns.size());
  hash_ = XXH3_64bits(encoded_.data(), encoded_.size());
}

bool CacheKey::decode(std::string_view encoded, CacheKey* out) {
  const size_t nul = encoded.find('\0');
  if (nul == std::string_view::npos || nul == 0 || nul + 1 >= encoded.size()) return false;
  const char kind = encoded[nul + 1];
  if (kind != static_cast<char>(KeyKind::kPlan) && kind != static_cast<char>(KeyKind::kUser)) {
    return false;
  }
  CacheKey key;
  key.encoded_ = std::string(encoded);
  key.ns_len_ = static_cast<uint32_t>(nul);
  key.hash_ = XXH3_64bits(key.encoded_.data(), key.encoded_.size());
  *out = std::move(key);
  return true;
}

size_t Entry::charge() const {
  size_t total = kEntryOverheadBytes + (value ? value->size() : 0);
  for (const auto& tag : meta.tags) total += tag.size() + sizeof(std::string);
  return total;
}

EntryPtr make_entry(BytesPtr value, int64_t now_ms, int64_t ttl_ms, uint32_t compute_ms,
                    std::vector<std::string> tags, int64_t stale_grace_ms,
                    EntryPriority priority) {
  auto entry = std::make_shared<Entry>();
  entry->value = std::move(value);
  entry->meta.created_ms = now_ms;
  entry->meta.expires_ms = ttl_ms > 0 ? now_ms + ttl_ms : 0;
  if (ttl_ms > 0 && stale_grace_ms > 0) {
    entry->meta.fresh_until_ms = entry->meta.expires_ms;
    entry->meta.expires_ms += stale_grace_ms;
  }
  entry->meta.compute_ms = compute_ms;
  entry->meta.tags = std::move(tags);
  entry->meta.priority = priority;
  return entry;
}

std::string_view entry_priority_name(EntryPriority priority) {
  switch (priority) {
    case EntryPriority::kNormal: return "normal";
    case EntryPriority::kImportant: return "important";
    case EntryPriority::kTemporary: return "temporary";
  }
  return "normal";
}

Result<EntryPriority> parse_entry_priority(std::string_view name) {
  for (EntryPriority p :
       {EntryPriority::kNormal, EntryPriority::kImportant, EntryPriority::kTemporary}) {
    if (name == entry_priority_name(p)) return p;
  }
  return Status::invalid_argument("priority must be \"important\", \"temporary\" or \"normal\"");
}

std::string_view removal_cause_name(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kExplicit: return "explicit";
    case RemovalCause::kReplaced: return "replaced";
    case RemovalCause::kExpired: return "expired";
    case RemovalCause::kSize: return "size";
    case RemovalCause::kInvalidated: return "invalidated";
    case RemovalCause::kCorrupt: return "corrupt";
  }
  return "unknown";
}

}  // namespace plancache

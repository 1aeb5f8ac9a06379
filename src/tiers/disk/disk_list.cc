// DiskTier::list: the live entries matching a selector, in key order.
//
// Idea: `meta` is keyed like `entries` (CacheKey::encoded(), "<ns>\0<kind><id>")
// but holds only small records (created, expires, tags), so the walk reads
// `meta`, not the envelopes. It covers the narrowest key range the selector
// allows: `<ns>\0` for a namespace, `<ns>\0u<literal prefix>` for a prefix or
// pattern within a namespace, the whole family otherwise; a tag without a
// namespace walks the `tags` index instead (`<tag>\0`, not in key order: a
// max-heap keeps the `limit` smallest keys). A `meta` walk is in key order,
// so it stops after `limit` matches. Only a row that is returned pays for a
// point read of its envelope, for the value size (the one figure `meta` does
// not hold): peek_entry reads it from the checked header, so a listing never
// inflates a compressed value.
//
// Invariants: every read of one call uses one RocksDB snapshot, so a row's
// meta record and envelope belong to the same write. list() is read-only: an
// expired, corrupt or unreadable entry is skipped here and left to get() and
// purge_expired() to remove (and count).
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

#include "core/selector_match.h"
#include "tiers/disk/disk_tier_impl.h"

namespace plancache::internal {
namespace {

// The first key of the range a selector can match in `meta` ("" = from the
// start); the range ends at prefix_successor() of it.
std::string meta_lower_bound(const Selector& selector) {
  if (!selector.ns) return "";
  std::string lower = *selector.ns + '\0';
  if (selector.prefix) {
    lower += static_cast<char>(KeyKind::kUser) + *selector.prefix;
  } else if (selector.pattern) {
    lower += static_cast<char>(KeyKind::kUser);
    lower += glob_literal_prefix(*selector.pattern);
  }
  return lower;
}

// The row of a live key matching the selector (value size still 0), or nullopt.
std::optional<ListedEntry> candidate(const Selector& selector, int64_t now,
                                     std::string_view encoded_key, const MetaRecord& meta) {
  CacheKey key("-", KeyKind::kUser, "-");
  if (meta.expired_at(now) || !CacheKey::decode(encoded_key, &key)) return std::nullopt;
  EntryMeta m;
  m.created_ms = meta.created_ms;
  m.expires_ms = meta.expires_ms;
  m.tags = meta.tags;
  if (!selector_matches(selector, key, m)) return std::nullopt;
  return ListedEntry{std::move(key), meta.created_ms, meta.expires_ms, 0, std::move(m.tags)};
}

bool by_key(const ListedEntry& a, const ListedEntry& b) {
  return a.key.encoded() < b.key.encoded();
}

}  // namespace

Result<std::vector<ListedEntry>> DiskTier::list(const Selector& selector, size_t limit) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  std::vector<ListedEntry> rows;
  if (limit == 0) return rows;
  const int64_t now = options_.clock->now_ms();
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  ro.fill_cache = false;
  PLANCACHE_RETURN_IF_ERROR(selector.tag && !selector.ns
                                ? list_by_tag(selector, limit, now, ro, &rows)
                                : list_in_key_order(selector, limit, now, ro, &rows));
  return rows;
}

bool DiskTier::fill_value_size(const rocksdb::ReadOptions& ro, ListedEntry* row) {
  rocksdb::PinnableSlice envelope;
  if (!db_->Get(ro, cf(kEntriesCf), row->key.encoded(), &envelope).ok()) return false;
  Result<EntryPeek> peek = peek_entry(envelope.ToStringView());
  if (!peek.is_ok() || !(peek->key == row->key)) return false;
  row->value_bytes = peek->value_size;
  return true;
}

Status DiskTier::list_by_tag(const Selector& selector, size_t limit, int64_t now,
                             const rocksdb::ReadOptions& ro, std::vector<ListedEntry>* rows) {
  // Tag index order is not key order: keep the `limit` smallest keys in a
  // max-heap, then read the envelopes of those only.
  const std::string lower = *selector.tag + '\0';
  const std::string upper = prefix_successor(lower);
  Status walked = scan(
      kTagsCf, lower, upper,
      [&](std::string_view k, std::string_view) {
        const std::string_view encoded_key = k.substr(lower.size());
        if (rows->size() >= limit && encoded_key >= rows->front().key.encoded()) return true;
        rocksdb::PinnableSlice value;
        if (!db_->Get(ro, cf(kMetaCf), encoded_key, &value).ok()) return true;
        const auto meta = decode_meta(value.ToStringView());
        std::optional<ListedEntry> row =
            meta ? candidate(selector, now, encoded_key, *meta) : std::nullopt;
        if (!row) return true;
        rows->push_back(std::move(*row));
        std::push_heap(rows->begin(), rows->end(), by_key);
        if (rows->size() > limit) {
          std::pop_heap(rows->begin(), rows->end(), by_key);
          rows->pop_back();
        }
        return true;
      },
      &ro);
  std::sort_heap(rows->begin(), rows->end(), by_key);
  std::erase_if(*rows, [&](ListedEntry& row) { return !fill_value_size(ro, &row); });
  return walked;
}

Status DiskTier::list_in_key_order(const Selector& selector, size_t limit, int64_t now,
                                   const rocksdb::ReadOptions& ro,
                                   std::vector<ListedEntry>* rows) {
  // Key order: stop after `limit` rows.
  const std::string lower = meta_lower_bound(selector);
  const std::string upper = lower.empty() ? "" : prefix_successor(lower);
  return scan(
      kMetaCf, lower, upper,
      [&](std::string_view k, std::string_view v) {
        const auto meta = decode_meta(v);
        std::optional<ListedEntry> row = meta ? candidate(selector, now, k, *meta) : std::nullopt;
        if (row && fill_value_size(ro, &*row)) rows->push_back(std::move(*row));
        return rows->size() < limit;
      },
      &ro);
}

}  // namespace plancache::internal

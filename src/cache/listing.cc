#include "cache/listing.h"

#include <algorithm>
#include <iterator>

namespace plancache::internal {

std::vector<ListedEntry> merge_listings(std::vector<std::vector<ListedEntry>> sources,
                                        size_t limit) {
  std::vector<ListedEntry> rows;
  for (auto& source : sources) {
    rows.insert(rows.end(), std::make_move_iterator(source.begin()),
                std::make_move_iterator(source.end()));
  }
  // Stable: among equal keys the earliest source's row comes first and is
  // the one unique() keeps.
  auto key_less = [](const ListedEntry& a, const ListedEntry& b) {
    return a.key.encoded() < b.key.encoded();
  };
  std::stable_sort(rows.begin(), rows.end(), key_less);
  auto last = std::unique(rows.begin(), rows.end(), [](const ListedEntry& a, const ListedEntry& b) {
    return a.key == b.key;
  });
  rows.erase(last, rows.end());
  if (rows.size() > limit)
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(limit), rows.end());
  return rows;
}

}  // namespace plancache::internal

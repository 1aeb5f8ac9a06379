// How a composite tier answers an operation it sends to each of its parts:
// MultiTierCache over its levels (memory, disk, shared), NamespacedTier over
// its lanes. One rule for both, so that a tier behaves the same whether it is
// a level of the cache or a lane inside a level:
//  - a part that fails never stops the others (a broken shared tier or lane
//    degrades the answer instead of leaving the healthy parts untouched);
//  - counts (invalidate, evict_fraction): every part is asked, then the first
//    error is returned if any part failed, since the caller must learn that
//    the operation did not reach everything; otherwise the combined count;
//  - listings: the parts that answered are merged (merge_listings) and a
//    failed part is skipped; the listing fails, with the first error, only
//    when every part asked failed.
//
// Thread-safety: one gatherer per call; not shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache::internal {

class CountFanOut {
 public:
  // How the parts' counts combine: kSum for parts holding distinct entries
  // (lanes), kMax for parts holding copies of the same entries (levels).
  enum class Combine { kSum, kMax };

  explicit CountFanOut(Combine combine) : combine_(combine) {}

  void add(const Result<uint64_t>& part);
  Result<uint64_t> result() const;

 private:
  const Combine combine_;
  uint64_t count_ = 0;
  Status first_error_;
};

class ListingFanOut {
 public:
  void add(Result<std::vector<ListedEntry>> part);
  // REQUIRES: called once, last.
  Result<std::vector<ListedEntry>> merged(size_t limit);

 private:
  std::vector<std::vector<ListedEntry>> answered_;
  Status first_error_;
};

}  // namespace plancache::internal

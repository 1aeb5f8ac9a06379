// Belady's MIN (Belady, "A study of replacement algorithms for a virtual-
// storage computer", 1966), with bypass.
//
// The idea. On a miss with a full cache, evict the entry whose next request
// is farthest in the future -- or do not admit the new one, if its own next
// request is farther than all of theirs. A key never requested again is
// never admitted, and leaves on its last hit. By entries this is optimal:
// every entry costs one slot, and exchanging any decision for one that keeps
// a later-used entry can only lose hits.
//
// Data structure. The cached entries are indexed by the position of their
// next request. Every position is the next use of at most one earlier
// request, so these are unique, and at request i every cached position is
// >= i: request i hits exactly when the smallest cached position is i. The
// farthest next use is the largest. A std::map gives both ends in O(log n).
//
// By bytes (charge = the memory tier's charged bytes). The same rule: make
// room by evicting, farthest first, entries whose next use is farther than
// the new entry's; if those are not enough, evict nothing and bypass. With
// sizes, optimal caching is NP-hard and this greedy rule can be beaten (a
// small entry needed a little later may be worth more than a big one needed
// sooner), so the figures are a heuristic bound, not the optimum; a real
// policy may even exceed them.
#include "sim/optimal.h"

namespace plancache::internal {

bool BeladyCache::access(uint64_t position, uint64_t next_use, uint64_t charge) {
  bool hit = false;
  const auto first = by_next_use_.begin();
  if (first != by_next_use_.end() && first->first == position) {
    used_ -= first->second;
    by_next_use_.erase(first);
    hit = true;
  }
  // A hit re-admits the entry under its new next use (and current charge).
  admit(next_use, charge);
  return hit;
}

void BeladyCache::admit(uint64_t next_use, uint64_t charge) {
  if (next_use == NextUses::kNever || charge > capacity_) return;
  // Find the room first: the entries used after next_use, farthest first.
  auto victims = by_next_use_.end();
  uint64_t freed = 0;
  while (used_ - freed + charge > capacity_) {
    if (victims == by_next_use_.begin()) return;
    --victims;
    if (victims->first < next_use) return;  // what is left is needed sooner: bypass
    freed += victims->second;
  }
  by_next_use_.erase(victims, by_next_use_.end());
  used_ = used_ - freed + charge;
  by_next_use_.emplace(next_use, charge);
}

}  // namespace plancache::internal

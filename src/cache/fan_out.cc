#include "cache/fan_out.h"

#include <algorithm>
#include <utility>

#include "cache/listing.h"

namespace plancache::internal {

void CountFanOut::add(const Result<uint64_t>& part) {
  if (!part.is_ok()) {
    if (first_error_.is_ok()) first_error_ = part.status();
    return;
  }
  count_ = combine_ == Combine::kSum ? count_ + *part : std::max(count_, *part);
}

Result<uint64_t> CountFanOut::result() const {
  if (!first_error_.is_ok()) return first_error_;
  return count_;
}

void ListingFanOut::add(Result<std::vector<ListedEntry>> part) {
  if (part.is_ok()) {
    answered_.push_back(std::move(part).value());
  } else if (first_error_.is_ok()) {
    first_error_ = part.status();
  }
}

Result<std::vector<ListedEntry>> ListingFanOut::merged(size_t limit) {
  if (answered_.empty() && !first_error_.is_ok()) return first_error_;
  return merge_listings(std::move(answered_), limit);
}

}  // namespace plancache::internal

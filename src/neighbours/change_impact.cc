// Change impact (change_impact.h). Counted by a walk of our own rather than
// from the patch's operations, because a patch op does not say how many
// leaves it touches (a "replace" of a subtree is one op); the walk aligns the
// documents exactly as json::diff does, so the count and the patch describe
// the same change.
#include "neighbours/change_impact.h"

#include <algorithm>

namespace plancache::internal {
namespace {

using nlohmann::json;

bool is_container(const json& v) { return v.is_object() || v.is_array(); }

size_t changed_leaves(const json& a, const json& b) {
  if (a.type() != b.type() || !is_container(a)) {
    return a == b ? 0 : std::max(json_leaf_count(a), json_leaf_count(b));
  }
  if (a.empty() || b.empty()) {
    return a.empty() && b.empty() ? 0 : std::max(json_leaf_count(a), json_leaf_count(b));
  }
  size_t changed = 0;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      changed += other == b.end() ? json_leaf_count(*it) : changed_leaves(*it, *other);
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) changed += json_leaf_count(*it);
    }
    return changed;
  }
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) changed += changed_leaves(a[i], b[i]);
  for (size_t i = common; i < a.size(); ++i) changed += json_leaf_count(a[i]);
  for (size_t i = common; i < b.size(); ++i) changed += json_leaf_count(b[i]);
  return changed;
}

}  // namespace

size_t json_leaf_count(const json& value) {
  if (!is_container(value) || value.empty()) return 1;
  size_t n = 0;
  for (const json& child : value) n += json_leaf_count(child);
  return n;
}

double change_impact(const json& before, const json& after, json* patch_out) {
  if (patch_out != nullptr) {
    try {
      *patch_out = json::diff(before, after);
    } catch (const json::exception&) {
      // json::diff does not throw on valid values; keep the no-throw promise.
      *patch_out = json::array();
    }
  }
  const size_t total = std::max(json_leaf_count(before), json_leaf_count(after));
  const size_t changed = changed_leaves(before, after);
  return std::min(1.0, static_cast<double>(changed) / static_cast<double>(total));
}

}  // namespace plancache::internal

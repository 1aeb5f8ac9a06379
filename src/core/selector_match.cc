#include "core/selector_match.h"

#include <algorithm>
#include <vector>

namespace plancache::internal {
namespace {

// Matches one bracket class starting at pattern[p] == '['. Sets *next to the
// index after ']' and returns whether `c` is in the class. Returns false with
// *next = npos when the class is unterminated.
bool match_class(std::string_view pattern, size_t p, char c, size_t* next) {
  size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      if (hi == '\\' && i + 3 < pattern.size()) {
        hi = pattern[i + 3];
        ++i;
      }
      i += 2;
    }
    const auto uc = static_cast<unsigned char>(c);
    const auto ulo = static_cast<unsigned char>(std::min(lo, hi));
    const auto uhi = static_cast<unsigned char>(std::max(lo, hi));
    if (uc >= ulo && uc <= uhi) matched = true;
    ++i;
  }
  if (i >= pattern.size()) {
    *next = std::string_view::npos;
    return false;
  }
  *next = i + 1;
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Classic two-pointer matcher: on a mismatch, backtrack to the last `*`
  // and let it swallow one more byte. Only the last star needs remembering,
  // so the worst case is O(|pattern| * |text|).
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t next = 0;
        const bool in = match_class(pattern, p, text[t], &next);
        if (next != std::string_view::npos && in) {
          p = next;
          ++t;
          continue;
        }
        if (next == std::string_view::npos && text[t] == '[') {  // literal '['
          ++p;
          ++t;
          continue;
        }
      } else {
        char lit = pc;
        size_t adv = 1;
        if (pc == '\\' && p + 1 < pattern.size()) {
          lit = pattern[p + 1];
          adv = 2;
        }
        if (lit == text[t]) {
          p += adv;
          ++t;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Status validate_selector(const Selector& s) {
  if (s.tag && s.tag->empty()) return Status::invalid_argument("tag must not be empty");
  if (s.prefix && s.prefix->empty()) return Status::invalid_argument("prefix must not be empty");
  if (s.pattern) {
    if (s.pattern->empty()) return Status::invalid_argument("pattern must not be empty");
    for (size_t i = 0; i < s.pattern->size(); ++i) {
      if ((*s.pattern)[i] == '\\') {
        ++i;
        continue;
      }
      if ((*s.pattern)[i] == '[') {
        size_t next = 0;
        match_class(*s.pattern, i, 'x', &next);
        if (next == std::string_view::npos) {
          return Status::invalid_argument("pattern has an unterminated '[' class");
        }
        i = next - 1;
      }
    }
  }
  if (s.ns && s.ns->empty()) return Status::invalid_argument("namespace must not be empty");
  return Status::ok();
}

bool selector_matches(const Selector& s, const CacheKey& key, const EntryMeta& meta) {
  if (s.ns && key.ns() != *s.ns) return false;
  if ((s.prefix || s.pattern) && key.kind() != KeyKind::kUser) return false;
  if (s.prefix && !key.id().starts_with(*s.prefix)) return false;
  if (s.pattern && !glob_match(*s.pattern, key.id())) return false;
  if (s.created_before_ms && meta.created_ms >= *s.created_before_ms) return false;
  if (s.tag && std::find(meta.tags.begin(), meta.tags.end(), *s.tag) == meta.tags.end()) {
    return false;
  }
  return true;
}

bool selector_is_namespace_only(const Selector& s) {
  return !s.tag && !s.prefix && !s.pattern && !s.created_before_ms;
}

}  // namespace plancache::internal

// libFuzzer target: goal normalisation and context canonicalisation on
// arbitrary bytes.
//
// Properties checked (a violation aborts):
//  - no crash, over-read or unbounded recursion (ASan/UBSan);
//  - canonical(canonical(x)) == canonical(x), and the canonical text is valid
//    UTF-8 that nlohmann parses back, without and with lane key rules (set
//    arrays sorted, lane ignored fields);
//  - normalize(normalize(g)) == normalize(g), and a normalised goal is
//    non-empty valid UTF-8 with no leading, trailing or doubled space;
//  - plan_key succeeds exactly when both pieces do, and is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/canonical_json.h"
#include "core/utf8.h"
#include "plancache/key_builder.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "key_builder_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

const plancache::KeyBuilder& builder() {
  static const plancache::KeyBuilder b(
      plancache::KeyBuilderOptions{plancache::HashAlgorithm::kXxh3_128, {"ignored", "ts"}});
  return b;
}

// A lane with key rules (version-2 keys): set arrays by text and by member.
const plancache::KeyBuilder& rules_builder() {
  static const plancache::KeyBuilder b(plancache::KeyBuilderOptions{
      .hash = plancache::HashAlgorithm::kXxh3_128,
      .ignored_fields = {"ts"},
      .lane_rules = {.ignored_fields = {"ignored"}, .set_arrays = {{"a", ""}, {"b", "k"}}}});
  return b;
}

void check_context(const plancache::KeyBuilder& b, std::string_view input) {
  auto canonical = b.canonical_context(input);
  if (!canonical.is_ok()) {
    check(canonical.status().code() == plancache::StatusCode::kInvalidArgument,
          "bad context is invalid_argument");
    return;
  }
  check(plancache::internal::is_valid_utf8(*canonical), "canonical context is UTF-8");
  auto again = b.canonical_context(*canonical);
  check(again.is_ok(), "canonical context re-parses");
  check(*again == *canonical, "canonicalisation is idempotent");
  auto parsed = plancache::internal::parse_json(*canonical);
  check(parsed.is_ok(), "canonical context parses");
  auto from_parsed = plancache::internal::canonical_json(*parsed, b.ignored_fields(),
                                                         &b.options().lane_rules.set_arrays);
  check(from_parsed.is_ok() && *from_parsed == *canonical, "parsed overload agrees");
}

void check_goal(std::string_view input) {
  auto goal = builder().normalize_goal(input);
  if (!goal.is_ok()) {
    check(goal.status().code() == plancache::StatusCode::kInvalidArgument,
          "bad goal is invalid_argument");
    return;
  }
  const std::string& g = *goal;
  check(!g.empty() && g.front() != ' ' && g.back() != ' ', "goal is trimmed");
  check(g.find("  ") == std::string::npos, "goal has no doubled space");
  check(plancache::internal::is_valid_utf8(g), "goal is UTF-8");
  auto again = builder().normalize_goal(g);
  check(again.is_ok() && *again == g, "normalisation is idempotent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_context(builder(), input);
  check_context(rules_builder(), input);
  check_goal(input);
  auto k1 = builder().plan_key("ns", input, input);
  const bool pieces_ok =
      builder().normalize_goal(input).is_ok() && builder().canonical_context(input).is_ok();
  check(k1.is_ok() == pieces_ok, "plan_key succeeds exactly when its pieces do");
  if (k1.is_ok()) {
    auto k2 = builder().plan_key("ns", input, input);
    check(k2.is_ok() && k2->key == k1->key, "plan_key is deterministic");
  }
  return 0;
}

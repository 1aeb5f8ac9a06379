// KeyBuilder: goal normalisation, key material and plan-key digests; the
// canonical context comes from canonical_json (JSON only).
//
// Goal normalisation, in this order (docs/key_format.md § "Goal"):
//  1. reject invalid UTF-8 and NUL bytes (nothing is silently replaced);
//  2. Unicode NFC (ICU; skipped for pure ASCII, where NFC is the identity);
//  3. every maximal run of White_Space code points (Unicode property: ASCII
//     \t \n \v \f \r and space, U+0085, U+00A0, U+1680, U+2000..U+200A,
//     U+2028, U+2029, U+202F, U+205F, U+3000) becomes one U+0020, and leading
//     and trailing runs are dropped. Nothing is ever truncated.
// The result is stable: normalising a normalised goal returns it unchanged
// (NFC never composes a White_Space character with its neighbours, and
// swapping one starter for another keeps NFC intact).
//
// The namespace is checked once per key: by plan_key (a public entry point),
// or at the caller's edge before plan_key_from_json (the server's request
// validation), never both.
//
// Lane rules (KeyBuilderOptions::lane_rules) are resolved once, here in the
// constructor: the ignored names of the server and of the lane merged, and
// the canonical text of the rules that version-2 key material ends with, so
// building a key with rules costs only the sorting of its set arrays.
#include "plancache/key_builder.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "core/canonical_json.h"
#include "core/hashing.h"
#include "core/key_builder_internal.h"
#include "core/utf8.h"

namespace plancache {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

uint64_t load_word(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

bool is_ascii(std::string_view s) {
  size_t i = 0;
  for (; s.size() - i >= 8; i += 8) {
    if ((load_word(s.data() + i) & kHighBits) != 0) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  }
  return true;
}

// Decodes the code point at s[*i] and advances *i past it.
// REQUIRES: s is valid UTF-8 and *i < s.size().
UChar32 next_code_point(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  if (b0 < 0x80) {
    *i += 1;
    return b0;
  }
  const int len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  UChar32 cp = b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]) & 0x3F);
  }
  *i += static_cast<size_t>(len);
  return cp;
}

// Byte classes for collapse_white_space: ASCII word byte, ASCII
// White_Space (\t \n \v \f \r and space), or the start/inside of a
// non-ASCII sequence.
enum ByteClass : unsigned char { kWord = 0, kAsciiSpace = 1, kNonAscii = 2 };
constexpr std::array<unsigned char, 256> kByteClass = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0x80; c < 0x100; ++c) table[static_cast<size_t>(c)] = kNonAscii;
  for (int c : {' ', '\t', '\n', '\v', '\f', '\r'}) table[static_cast<size_t>(c)] = kAsciiSpace;
  return table;
}();

unsigned char byte_class(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

// Step 3 above. REQUIRES: s is valid UTF-8. The output is never longer than
// the input, so it is written through a raw cursor into a buffer of that
// size; runs of ASCII word bytes are copied in bulk and only non-ASCII bytes
// are decoded to code points.
std::string collapse_white_space(std::string_view s) {
  std::string out(s.size(), '\0');
  char* const begin = out.data();
  char* d = begin;
  bool pending_space = false;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = i;
    bool space = false;
    switch (byte_class(s[i])) {
      case kWord:
        while (end < s.size() && byte_class(s[end]) == kWord) ++end;
        break;
      case kAsciiSpace:
        space = true;
        ++end;
        break;
      default:
        space = u_isUWhiteSpace(next_code_point(s, &end)) != 0;
    }
    if (space) {
      pending_space = d != begin;
    } else {
      if (pending_space) *d++ = ' ';
      pending_space = false;
      std::memcpy(d, s.data() + i, end - i);
      d += end - i;
    }
    i = end;
  }
  out.resize(static_cast<size_t>(d - begin));
  return out;
}

// Step 3 for pure-ASCII text, branch-free (a goal's word lengths are too
// irregular for branch prediction): each byte is written, a space as ' ',
// and the cursor advances unless it is a space following a space.
// Starting with prev_space = true drops a leading run; a trailing space is
// cut at the end. REQUIRES: s is ASCII.
std::string collapse_ascii_white_space(std::string_view s) {
  std::string out(s.size(), '\0');
  char* const begin = out.data();
  char* d = begin;
  bool prev_space = true;
  for (const char c : s) {
    const bool space = byte_class(c) == kAsciiSpace;
    *d = space ? ' ' : c;
    d += static_cast<ptrdiff_t>(!(space && prev_space));
    prev_space = space;
  }
  if (d != begin && d[-1] == ' ') --d;
  out.resize(static_cast<size_t>(d - begin));
  return out;
}

Result<std::string> nfc(std::string_view s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    return Status::internal(std::string("ICU NFC normaliser unavailable: ") + u_errorName(status));
  }
  std::string out;
  out.reserve(s.size());
  icu::StringByteSink<std::string> sink(&out);
  normalizer->normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink,
                            nullptr, status);
  if (U_FAILURE(status)) {
    return Status::internal(std::string("ICU NFC normalisation failed: ") + u_errorName(status));
  }
  return out;
}

// The key of already-normalised pieces: the digest of their key material.
// REQUIRES: ns is a valid namespace name.
PlanKey assemble(const KeyBuilder& builder, std::string_view ns, std::string normalized_goal,
                 std::string canonical_context) {
  const std::string hex = builder.digest_hex(
      internal::plan_key_material(ns, normalized_goal, canonical_context, builder.rules_text()));
  return PlanKey{CacheKey(ns, KeyKind::kPlan, hex), std::move(normalized_goal),
                 std::move(canonical_context)};
}

// The server's and the lane's ignored names, sorted, without duplicates.
std::vector<std::string> merged_ignored(const KeyBuilderOptions& options) {
  std::vector<std::string> out = options.ignored_fields;
  out.insert(out.end(), options.lane_rules.ignored_fields.begin(),
             options.lane_rules.ignored_fields.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// {"ignored_fields":[...],"set_arrays":{...}} in canonical JSON: what the
// digest of a version-2 key covers besides the key's own fields.
std::string encode_rules(const std::vector<std::string>& ignored,
                         const internal::SetArrays& set_arrays) {
  nlohmann::json rules = nlohmann::json::object();
  rules["ignored_fields"] = ignored;
  rules["set_arrays"] = nlohmann::json::object();
  for (const auto& [name, member] : set_arrays) rules["set_arrays"][name] = member;
  Result<std::string> text = internal::canonical_json(rules, {});
  // Fails only for a name that is not UTF-8 (validate_key_rules refuses
  // those in lane rules; a server-wide one from a flag may be): U+FFFD then
  // stands for the bad bytes, as such a name matches no valid member anyway.
  return text.is_ok() ? std::move(text).value()
                      : rules.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Status validate_key_rules(const KeyRules& rules) {
  const auto check = [](std::string_view name, const char* what) {
    if (name.empty()) return Status::invalid_argument(std::string(what) + ": empty name");
    if (internal::find_invalid_utf8(name) != std::string_view::npos) {
      return Status::invalid_argument(std::string(what) + ": name is not valid UTF-8");
    }
    return Status::ok();
  };
  for (const std::string& name : rules.ignored_fields) {
    PLANCACHE_RETURN_IF_ERROR(check(name, "key_ignored_fields"));
  }
  for (const auto& [name, member] : rules.set_arrays) {
    PLANCACHE_RETURN_IF_ERROR(check(name, "key_set_arrays"));
    if (!member.empty()) PLANCACHE_RETURN_IF_ERROR(check(member, "key_set_arrays"));
  }
  return Status::ok();
}

KeyBuilder::KeyBuilder(KeyBuilderOptions options) : options_(std::move(options)) {
  if (options_.lane_rules.empty()) {
    ignored_ = options_.ignored_fields;
    return;
  }
  ignored_ = merged_ignored(options_);
  rules_text_ = encode_rules(ignored_, options_.lane_rules.set_arrays);
}

uint32_t KeyBuilder::key_format_version() const {
  return rules_text_.empty() ? kKeyFormatVersion : kKeyFormatVersionWithRules;
}

Result<std::string> KeyBuilder::normalize_goal(std::string_view goal) const {
  const size_t bad = internal::find_invalid_utf8(goal);
  if (bad != std::string_view::npos) {
    return Status::invalid_argument("goal is not valid UTF-8 (bad byte at offset " +
                                    std::to_string(bad) + ")");
  }
  const size_t nul = goal.find('\0');
  if (nul != std::string_view::npos) {
    return Status::invalid_argument("goal must not contain NUL bytes (NUL at offset " +
                                    std::to_string(nul) + ")");
  }
  if (goal.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::resource_exhausted("goal is longer than 2 GiB");
  }
  std::string collapsed;
  if (is_ascii(goal)) {
    collapsed = collapse_ascii_white_space(goal);
  } else {
    Result<std::string> composed = nfc(goal);
    if (!composed.is_ok()) return composed.status();
    collapsed = collapse_white_space(*composed);
  }
  if (collapsed.empty()) return Status::invalid_argument("goal must not be empty");
  return collapsed;
}

Result<std::string> KeyBuilder::canonical_context(std::string_view context_json) const {
  return internal::canonical_json_text(context_json, ignored_, &options_.lane_rules.set_arrays);
}

std::string KeyBuilder::digest_hex(std::string_view canonical_bytes) const {
  switch (options_.hash) {
    case HashAlgorithm::kXxh3_128: return internal::xxh3_128_hex(canonical_bytes);
    case HashAlgorithm::kSha256: break;
  }
  return internal::sha256_hex(canonical_bytes);
}

Result<PlanKey> KeyBuilder::plan_key(std::string_view ns, std::string_view goal,
                                     std::string_view context_json) const {
  PLANCACHE_RETURN_IF_ERROR(validate_namespace_name(ns));
  Result<std::string> normalized = normalize_goal(goal);
  if (!normalized.is_ok()) return normalized.status();
  Result<std::string> canonical = canonical_context(context_json);
  if (!canonical.is_ok()) return canonical.status();
  return assemble(*this, ns, std::move(*normalized), std::move(*canonical));
}

namespace internal {

std::string plan_key_material(std::string_view ns, std::string_view normalized_goal,
                              std::string_view canonical_context, std::string_view rules_text) {
  const uint32_t version = rules_text.empty() ? kKeyFormatVersion : kKeyFormatVersionWithRules;
  std::string out = "plancache-key-v" + std::to_string(version) + "\n";
  out.reserve(out.size() + ns.size() + normalized_goal.size() + canonical_context.size() +
              rules_text.size() + 50);
  const auto append = [&out](std::string_view part) {
    out += std::to_string(part.size());
    out.push_back(':');
    out.append(part);
    out.push_back(',');
  };
  for (std::string_view part : {ns, normalized_goal, canonical_context}) append(part);
  if (!rules_text.empty()) append(rules_text);
  return out;
}

Result<PlanKey> plan_key_from_json(const KeyBuilder& builder, std::string_view ns,
                                   std::string_view goal, const nlohmann::json& context) {
  assert(validate_namespace_name(ns).is_ok());
  Result<std::string> normalized = builder.normalize_goal(goal);
  if (!normalized.is_ok()) return normalized.status();
  Result<std::string> canonical =
      canonical_json(context, builder.ignored_fields(), &builder.options().lane_rules.set_arrays);
  if (!canonical.is_ok()) return canonical.status();
  return assemble(builder, ns, std::move(*normalized), std::move(*canonical));
}

}  // namespace internal

Result<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "xxh3-128") return HashAlgorithm::kXxh3_128;
  return Status::invalid_argument("unknown hash algorithm \"" +
                                  internal::printable_ascii(name, 40) +
                                  "\" (expected \"sha256\" or \"xxh3-128\")");
}

}  // namespace plancache

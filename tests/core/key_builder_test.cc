// KeyBuilder: golden vectors (docs/key_format.md) and normalisation rules.
#include "plancache/key_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/canonical_json.h"
#include "core/hashing.h"
#include "core/key_builder_internal.h"

namespace plancache {
namespace {

using ::testing::HasSubstr;

KeyBuilder sha_builder(std::vector<std::string> ignored = {}) {
  return KeyBuilder(KeyBuilderOptions{HashAlgorithm::kSha256, std::move(ignored)});
}
KeyBuilder xxh_builder() { return KeyBuilder(KeyBuilderOptions{HashAlgorithm::kXxh3_128, {}}); }

std::string key_id(const KeyBuilder& b, std::string_view ns, std::string_view goal,
                   std::string_view ctx) {
  Result<PlanKey> k = b.plan_key(ns, goal, ctx);
  EXPECT_TRUE(k.is_ok()) << k.status().to_string();
  return k.is_ok() ? std::string(k->key.id()) : std::string();
}

// Golden vectors. Each digest was computed once and checked independently
// with coreutils sha256sum and xxhsum -H2 over the documented key material,
// e.g.  printf 'plancache-key-v1\n7:default,11:hello world,4:null,' | sha256sum
struct Golden {
  const char* ns;
  const char* goal;
  const char* context;
  const char* material;
  const char* sha256;
  const char* xxh3_128;
};

const Golden kGolden[] = {
    {"default", "hello world", "", "plancache-key-v1\n7:default,11:hello world,4:null,",
     "69bd9ecfb8e31e6215d3b325226779aba9ca0836248d8cd0635ee5c19f364119",
     "cf6fd8a5c035cda172f06f500a044dcd"},
    {"default", "  Deploy   the\tweb app\n", "{\"env\":\"prod\",\"replicas\":3}",
     "plancache-key-v1\n7:default,18:Deploy the web app,27:{\"env\":\"prod\",\"replicas\":3},",
     "b3c08dc8ae29831b244cf4a2b33e3da056b7a6d5306c4c47d4cf15bfad3f1da7",
     "506c1d23c67ff631085292499437db17"},
    {"standard", "Cafe\xcc\x81 menu",  // "Cafe" + U+0301: NFC makes it "Café"
     "{\"b\":[1,2.5,true,null],\"a\":{\"y\":\"\\u00e9\\n\",\"x\":1.0}}",
     "plancache-key-v1\n8:standard,10:Caf\xc3\xa9 menu,"
     "46:{\"a\":{\"x\":1,\"y\":\"\xc3\xa9\\n\"},\"b\":[1,2.5,true,null]},",
     "f6420165944d6dfc7c8ae7de6a928aeae7b90ea64d8f9bdbe27f4785077a2aa5",
     "25b06b0795e6c19abcb6fee52ed8365a"},
};

TEST(KeyBuilderGolden, PinnedVectors) {
  for (const Golden& g : kGolden) {
    SCOPED_TRACE(g.material);
    Result<PlanKey> k = sha_builder().plan_key(g.ns, g.goal, g.context);
    ASSERT_TRUE(k.is_ok()) << k.status().to_string();
    EXPECT_EQ(internal::plan_key_material(g.ns, k->normalized_goal, k->canonical_context),
              g.material);
    EXPECT_EQ(k->key.id(), g.sha256);
    EXPECT_EQ(k->key.ns(), g.ns);
    EXPECT_EQ(k->key.kind(), KeyKind::kPlan);
    EXPECT_EQ(key_id(xxh_builder(), g.ns, g.goal, g.context), g.xxh3_128);
    EXPECT_EQ(sha_builder().digest_hex(g.material), g.sha256);
  }
}

TEST(KeyBuilderGolden, HashPrimitivesMatchPublishedVectors) {
  // FIPS 180-2 "abc"; xxHash's own test vectors (xxhsum -H2 / -H3).
  EXPECT_EQ(internal::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(internal::xxh3_128_hex(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(internal::xxh3_128_hex("abc"), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(internal::xxh3_64(""), 0x2d06800538d394c2ULL);
  EXPECT_EQ(internal::xxh3_64("abc"), 0x78af5f94892f3950ULL);
}

TEST(KeyBuilder, DigestLengthsAndAlphabet) {
  const std::string sha = key_id(sha_builder(), "ns", "goal", "");
  const std::string xxh = key_id(xxh_builder(), "ns", "goal", "");
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(xxh.size(), 32u);
  EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(xxh.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(KeyBuilder().options().hash, HashAlgorithm::kSha256);
}

TEST(NormalizeGoal, NfcMakesComposedAndDecomposedEqual) {
  const KeyBuilder b = sha_builder();
  EXPECT_EQ(*b.normalize_goal("e\xcc\x81"), "\xc3\xa9");  // e + U+0301 -> é
  EXPECT_EQ(key_id(b, "ns", "caf\xc3\xa9", ""), key_id(b, "ns", "cafe\xcc\x81", ""));
  // Hangul jamo compose; U+212B ANGSTROM SIGN -> U+00C5.
  EXPECT_EQ(*b.normalize_goal("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"), "\xed\x95\x9c");
  EXPECT_EQ(*b.normalize_goal("\xe2\x84\xab"), "\xc3\x85");
  // NFC, not NFKC: the ligature "ﬁ" stays.
  EXPECT_EQ(*b.normalize_goal("\xef\xac\x81"), "\xef\xac\x81");
}

TEST(NormalizeGoal, CollapsesEveryWhiteSpaceRunAndTrims) {
  const KeyBuilder b = sha_builder();
  EXPECT_EQ(*b.normalize_goal("  a \t\n\r\v\f b  "), "a b");
  // U+00A0, U+2003, U+3000, U+2028, U+2029, U+0085, U+200A between words.
  EXPECT_EQ(*b.normalize_goal("a\xc2\xa0" "b\xe2\x80\x83" "c\xe3\x80\x80" "d\xe2\x80\xa8"
                              "e\xe2\x80\xa9" "f\xc2\x85" "g\xe2\x80\x8a" "h"),
            "a b c d e f g h");
  EXPECT_EQ(*b.normalize_goal("\xe3\x80\x80 x \xc2\xa0"), "x");
  // U+200B ZERO WIDTH SPACE is not White_Space: kept.
  EXPECT_EQ(*b.normalize_goal("a\xe2\x80\x8b" "b"), "a\xe2\x80\x8b" "b");
  EXPECT_EQ(key_id(b, "ns", "plan  the\ttrip", ""), key_id(b, "ns", " plan the trip ", ""));
}

// ASCII goals take a separate fast path: it must agree with the general one
// (forced by appending a non-ASCII letter).
TEST(NormalizeGoal, AsciiFastPathAgreesWithGeneralPath) {
  const KeyBuilder b = sha_builder();
  const char alphabet[] = {'a', 'b', ' ', '\t', '\n', '\v', '\f', '\r', '\x01', '~'};
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const size_t len = rng() % 24;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % sizeof(alphabet)]);
    Result<std::string> ascii = b.normalize_goal(s);
    Result<std::string> general = b.normalize_goal(s + "\xc3\xa9");
    ASSERT_TRUE(general.is_ok());
    std::string expected = "\xc3\xa9";
    if (ascii.is_ok()) {
      const bool trailing_space = std::string(" \t\n\v\f\r").find(s.back()) != std::string::npos;
      expected = *ascii + (trailing_space ? " " : "") + expected;
    }
    EXPECT_EQ(*general, expected) << "input: " << ::testing::PrintToString(s);
  }
}

TEST(NormalizeGoal, IsIdempotent) {
  const KeyBuilder b = sha_builder();
  for (const char* goal : {"  Cafe\xcc\x81 \xe2\x80\x80 x ", "a\xe2\x80\x80\xcc\x81", "\xcc\x81 a"}) {
    Result<std::string> once = b.normalize_goal(goal);
    ASSERT_TRUE(once.is_ok());
    EXPECT_EQ(*b.normalize_goal(*once), *once);
  }
}

TEST(NormalizeGoal, NeverTruncates) {
  const KeyBuilder b = sha_builder();
  const std::string base(5000, 'x');
  const std::string long_a = base + "a";
  const std::string long_b = base + "b";
  EXPECT_EQ(b.normalize_goal(long_a)->size(), 5001u);
  EXPECT_NE(key_id(b, "ns", long_a, ""), key_id(b, "ns", long_b, ""));
  EXPECT_NE(key_id(xxh_builder(), "ns", long_a, ""), key_id(xxh_builder(), "ns", long_b, ""));
}

TEST(NormalizeGoal, RejectsInvalidUtf8NulAndEmpty) {
  const KeyBuilder b = sha_builder();
  for (std::string_view bad : {std::string_view("ab\xff"), std::string_view("\xc3"),
                               std::string_view("\xc0\xaf"),           // overlong '/'
                               std::string_view("\xed\xa0\x80"),       // surrogate
                               std::string_view("\xf4\x90\x80\x80")}) {  // > U+10FFFF
    Result<std::string> r = b.normalize_goal(bad);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos) << r.status().message();
  }
  Result<std::string> nul = b.normalize_goal(std::string_view("a\0b", 3));
  ASSERT_FALSE(nul.is_ok());
  EXPECT_EQ(nul.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nul.status().message().find("NUL"), std::string::npos);
  for (std::string_view empty : {"", "   ", "\t\n", "\xe3\x80\x80\xc2\xa0"}) {
    Result<std::string> r = b.normalize_goal(empty);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().message(), "goal must not be empty");
  }
  EXPECT_EQ(b.plan_key("ns", "\xff", "").status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyBuilderContext, KeyOrderAndWhitespaceDoNotMatter) {
  const KeyBuilder b = sha_builder();
  EXPECT_EQ(key_id(b, "ns", "g", R"({"a":1,"b":{"x":[1,2],"y":null}})"),
            key_id(b, "ns", "g", " { \"b\" : {\"y\":null, \"x\":[1, 2]}, \"a\": 1 }\n"));
  EXPECT_NE(key_id(b, "ns", "g", "[1,2]"), key_id(b, "ns", "g", "[2,1]"));
}

TEST(KeyBuilderContext, IgnoredFieldsDroppedAtEveryDepth) {
  const KeyBuilder b = sha_builder({"request_id", "timestamp"});
  const std::string with = key_id(
      b, "ns", "g",
      R"({"request_id":"r1","a":{"timestamp":5,"b":[{"request_id":7,"c":1}]}})");
  const std::string without = key_id(b, "ns", "g", R"({"a":{"b":[{"c":1}]}})");
  EXPECT_EQ(with, without);
  EXPECT_EQ(*b.canonical_context(R"({"request_id":"r1","a":{"timestamp":5}})"), R"({"a":{}})");
  // Only member names are ignored, never string values.
  EXPECT_EQ(*b.canonical_context(R"(["request_id"])"), R"(["request_id"])");
  // Without the option the fields count.
  EXPECT_NE(key_id(sha_builder(), "ns", "g", R"({"request_id":"r1"})"),
            key_id(sha_builder(), "ns", "g", "{}"));
}

TEST(KeyBuilderContext, OneNumberForm) {
  const KeyBuilder b = sha_builder();
  const std::string one = key_id(b, "ns", "g", R"({"n":1})");
  for (const char* same : {R"({"n":1.0})", R"({"n":1e0})", R"({"n":10E-1})", R"({"n":0.1e1})"}) {
    EXPECT_EQ(key_id(b, "ns", "g", same), one) << same;
  }
  EXPECT_NE(key_id(b, "ns", "g", R"({"n":1.5})"), one);
  EXPECT_NE(key_id(b, "ns", "g", R"({"n":"1"})"), one);
}

TEST(KeyBuilderContext, EmptyContextIsNull) {
  const KeyBuilder b = sha_builder();
  EXPECT_EQ(*b.canonical_context(""), "null");
  EXPECT_EQ(key_id(b, "ns", "g", ""), key_id(b, "ns", "g", "null"));
  EXPECT_NE(key_id(b, "ns", "g", ""), key_id(b, "ns", "g", "{}"));
}

TEST(KeyBuilderContext, RejectsBadJsonWithPosition) {
  const KeyBuilder b = sha_builder();
  Result<PlanKey> r = b.plan_key("ns", "g", "{\"a\":1,}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(r.status().message().find("column 8"), std::string::npos) << r.status().message();
  for (const char* bad : {"{", "[1,2", "nul", "1 2", "{'a':1}", "\"\xff\"", " ", "1e999"}) {
    EXPECT_EQ(b.canonical_context(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(KeyBuilderContext, DepthLimit) {
  const KeyBuilder b = sha_builder();
  const int limit = internal::kMaxJsonDepth;
  const std::string ok = std::string(static_cast<size_t>(limit), '[') +
                         std::string(static_cast<size_t>(limit), ']');
  EXPECT_TRUE(b.canonical_context(ok).is_ok());
  const std::string deep = "[" + ok + "]";
  Result<std::string> r = b.canonical_context(deep);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("deeper than 128"), std::string::npos);
  // A million brackets: rejected quickly, no stack overflow.
  EXPECT_FALSE(b.canonical_context(std::string(1000000, '[')).is_ok());
  // Brackets inside strings do not count.
  const std::string in_string = "\"" + std::string(1000, '[') + "\"";
  EXPECT_TRUE(b.canonical_context(in_string).is_ok());
}

TEST(KeyBuilder, NamespaceSeparatesKeys) {
  const KeyBuilder b = sha_builder();
  EXPECT_NE(key_id(b, "docs", "g", ""), key_id(b, "heavy", "g", ""));
  // Length prefixes: moving bytes between fields changes the key.
  EXPECT_NE(key_id(b, "ab", "c d", ""), key_id(b, "a", "bc d", ""));
  Result<PlanKey> k = b.plan_key("docs", "g", "");
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(k->key.ns(), "docs");
  EXPECT_EQ(b.plan_key("", "g", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b.plan_key(std::string_view("a\0b", 3), "g", "").status().code(),
            StatusCode::kInvalidArgument);
}

// The public entry point applies the one namespace rule (entry.h), the same
// the server applies at its edge before plan_key_from_json.
TEST(KeyBuilder, PlanKeyRejectsWhatTheNamespaceRuleRejects) {
  const KeyBuilder b = sha_builder();
  for (const char* bad : {"a b", "../x", ".hidden", "-x", "a/b", "caf\xc3\xa9"}) {
    EXPECT_FALSE(validate_namespace_name(bad).is_ok()) << bad;
    EXPECT_EQ(b.plan_key(bad, "g", "").status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(b.plan_key(std::string(kMaxNamespaceBytes + 1, 'a'), "g", "").is_ok());
  EXPECT_TRUE(b.plan_key(std::string(kMaxNamespaceBytes, 'a'), "g", "").is_ok());
  EXPECT_TRUE(b.plan_key("team-a.v2_x", "g", "").is_ok());
}

TEST(KeyMaterial, NetstringLayout) {
  using internal::plan_key_material;
  EXPECT_EQ(plan_key_material("ns", "a b", "null"), "plancache-key-v1\n2:ns,3:a b,4:null,");
  EXPECT_EQ(plan_key_material("n", "", ""), "plancache-key-v1\n1:n,0:,0:,");
}

TEST(KeyBuilder, ParsedContextGivesTheSameKey) {
  const KeyBuilder b = sha_builder({"ts"});
  const char* ctx = R"({"b":2.0,"a":[true,"x"],"ts":9})";
  Result<PlanKey> from_text = b.plan_key("ns", " g  h ", ctx);
  Result<PlanKey> from_json =
      internal::plan_key_from_json(b, "ns", " g  h ", nlohmann::json::parse(ctx));
  ASSERT_TRUE(from_text.is_ok());
  ASSERT_TRUE(from_json.is_ok());
  EXPECT_EQ(from_text->key, from_json->key);
  EXPECT_EQ(from_json->canonical_context, R"({"a":[true,"x"],"b":2})");
  EXPECT_EQ(from_json->normalized_goal, "g h");
}

// Lane key rules (docs/key_format.md § 6): set arrays, lane ignored fields,
// version-2 key material.

KeyBuilder rules_builder(KeyRules rules, std::vector<std::string> ignored = {},
                         HashAlgorithm hash = HashAlgorithm::kSha256) {
  return KeyBuilder(KeyBuilderOptions{
      .hash = hash, .ignored_fields = std::move(ignored), .lane_rules = std::move(rules)});
}
KeyRules set_arrays(std::map<std::string, std::string, std::less<>> sets,
                    std::vector<std::string> ignored = {}) {
  return KeyRules{.ignored_fields = std::move(ignored), .set_arrays = std::move(sets)};
}
std::string canonical(const KeyBuilder& b, std::string_view ctx) {
  Result<std::string> r = b.canonical_context(ctx);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? *r : std::string();
}

// Version-2 golden vectors. `rules` is JSON: the server's
// ignored_context_fields and the lane's key_ignored_fields and
// key_set_arrays, as a config file gives them. Each digest was checked with
// coreutils sha256sum and with libxxhash's XXH3_128bits over the material.
struct GoldenV2 {
  const char* ns;
  const char* goal;
  const char* context;
  const char* rules;
  const char* material;
  const char* sha256;
  const char* xxh3_128;
};

const GoldenV2 kGoldenV2[] = {
    {"ops", "deploy  the site",
     "{\"plays\":[{\"name\":\"web\",\"hosts\":[\"web2\",\"web1\"]},{\"hosts\":[\"db1\"],"
     "\"name\":\"db\"}],\"hosts\":[\"web2\",\"db1\",\"web1\"]}",
     "{\"key_set_arrays\":{\"plays\":\"name\",\"hosts\":\"\"}}",
     "plancache-key-v2\n3:ops,15:deploy the site,"
     "110:{\"hosts\":[\"db1\",\"web1\",\"web2\"],\"plays\":[{\"hosts\":[\"db1\"],\"name\":\"db\"},"
     "{\"hosts\":[\"web1\",\"web2\"],\"name\":\"web\"}]},"
     "62:{\"ignored_fields\":[],\"set_arrays\":{\"hosts\":\"\",\"plays\":\"name\"}},",
     "e957b95fefef10aa32504cb4c0d1a0970333c296c73106320b0647129c151df2",
     "108274ff785f5620ae9d3fa2843bc556"},
    {"ops", "run tasks",
     "{\"request_id\":\"r-9\",\"timestamp\":17,\"tasks\":[{\"id\":2,\"do\":\"b\"},\"note\","
     "{\"do\":\"a\"},{\"id\":10,\"do\":\"c\"},{\"id\":2,\"do\":\"a\"},\"note\"]}",
     "{\"ignored_context_fields\":[\"timestamp\"],\"key_ignored_fields\":[\"request_id\"],"
     "\"key_set_arrays\":{\"tasks\":\"id\"}}",
     "plancache-key-v2\n3:ops,9:run tasks,"
     "91:{\"tasks\":[{\"do\":\"c\",\"id\":10},{\"do\":\"a\",\"id\":2},{\"do\":\"b\",\"id\":2},"
     "\"note\",\"note\",{\"do\":\"a\"}]},"
     "73:{\"ignored_fields\":[\"request_id\",\"timestamp\"],\"set_arrays\":{\"tasks\":\"id\"}},",
     "617e7d6b05f42e9ac294ddb0d9516957b8296e9e099b80c399f1a76823298d70",
     "d96b8b1a86b852dd7c04fbc2d6ccfc9b"},
    {"default", "hello world", "{\"request_id\":\"r-1\"}",
     "{\"key_ignored_fields\":[\"request_id\"]}",
     "plancache-key-v2\n7:default,11:hello world,2:{},"
     "49:{\"ignored_fields\":[\"request_id\"],\"set_arrays\":{}},",
     "38a8926bc24c63bfb9869c615206d4f372aac60a5a454e311073d9818b5c02d0",
     "11a90801e7b71148f38cc29c3201eee4"},
};

// The builder a GoldenV2 row's rules describe.
KeyBuilder golden_builder(const GoldenV2& g, HashAlgorithm hash) {
  const nlohmann::json rules = nlohmann::json::parse(g.rules);
  KeyRules lane;
  lane.ignored_fields = rules.value("key_ignored_fields", std::vector<std::string>{});
  const nlohmann::json sets = rules.value("key_set_arrays", nlohmann::json::object());
  for (const auto& [name, member] : sets.items()) lane.set_arrays[name] = member.get<std::string>();
  return rules_builder(std::move(lane),
                       rules.value("ignored_context_fields", std::vector<std::string>{}), hash);
}

TEST(KeyRulesGolden, PinnedVersion2Vectors) {
  for (const GoldenV2& g : kGoldenV2) {
    SCOPED_TRACE(g.material);
    const KeyBuilder b = golden_builder(g, HashAlgorithm::kSha256);
    EXPECT_EQ(b.key_format_version(), kKeyFormatVersionWithRules);
    Result<PlanKey> k = b.plan_key(g.ns, g.goal, g.context);
    ASSERT_TRUE(k.is_ok()) << k.status().to_string();
    EXPECT_EQ(
        internal::plan_key_material(g.ns, k->normalized_goal, k->canonical_context, b.rules_text()),
        g.material);
    EXPECT_EQ(k->key.id(), g.sha256);
    EXPECT_EQ(b.digest_hex(g.material), g.sha256);
    EXPECT_EQ(key_id(golden_builder(g, HashAlgorithm::kXxh3_128), g.ns, g.goal, g.context),
              g.xxh3_128);
  }
}

TEST(KeyRules, NoRulesKeepVersion1KeysByteForByte) {
  const KeyBuilder empty = rules_builder(KeyRules{});
  EXPECT_EQ(empty.key_format_version(), kKeyFormatVersion);
  EXPECT_EQ(empty.rules_text(), "");
  for (const Golden& g : kGolden) {
    EXPECT_EQ(key_id(empty, g.ns, g.goal, g.context), g.sha256) << g.material;
  }
  // Server-wide ignored fields alone stay version 1, as before.
  EXPECT_EQ(sha_builder({"ts"}).key_format_version(), kKeyFormatVersion);
}

TEST(KeyRules, SetArraysSortByMemberThenByText) {
  const KeyBuilder b = rules_builder(set_arrays({{"plays", "name"}, {"hosts", ""}}));
  EXPECT_EQ(canonical(b, R"({"hosts":["b","a",3,{"x":1},null,"a"]})"),
            R"({"hosts":["a","a","b",3,null,{"x":1}]})")
      << "by text, unsigned bytes; duplicates kept";
  EXPECT_EQ(canonical(b, R"({"plays":[{"name":"web"},{"name":"db","x":2},{"name":"db","x":1}]})"),
            R"({"plays":[{"name":"db","x":1},{"name":"db","x":2},{"name":"web"}]})")
      << "by the member, ties by the whole text";
  EXPECT_EQ(canonical(b, R"({"plays":[{"x":1},"s",{"name":"b"},{"name":"a"},7]})"),
            R"({"plays":[{"name":"a"},{"name":"b"},"s",7,{"x":1}]})")
      << "elements without the member after, by text";
  EXPECT_EQ(canonical(b, R"({"plays":[{"name":10},{"name":9}]})"),
            R"({"plays":[{"name":10},{"name":9}]})")
      << "the member's canonical text, not its number";
  EXPECT_EQ(key_id(b, "ns", "g", R"({"plays":[{"name":"a"},{"name":"b"}],"hosts":["x","y"]})"),
            key_id(b, "ns", "g", R"({"hosts":["y","x"],"plays":[{"name":"b"},{"name":"a"}]})"));
  EXPECT_NE(key_id(b, "ns", "g", R"({"hosts":["x"]})"),
            key_id(b, "ns", "g", R"({"hosts":["x","x"]})"))
      << "a multiset: duplicates count";
}

TEST(KeyRules, SetArraysAtEveryDepthAndOnlyThere) {
  const KeyBuilder b = rules_builder(set_arrays({{"plays", "name"}, {"hosts", ""}}));
  // Nested: hosts inside each play, plays inside arrays and objects.
  EXPECT_EQ(canonical(b, R"([{"run":{"plays":[{"name":"b","hosts":["2","1"]},{"name":"a"}]}}])"),
            R"([{"run":{"plays":[{"name":"a"},{"hosts":["1","2"],"name":"b"}]}}])");
  EXPECT_EQ(canonical(b, R"(["b","a"])"), R"(["b","a"])") << "a top-level array keeps its order";
  EXPECT_EQ(canonical(b, R"({"other":["b","a"]})"), R"({"other":["b","a"]})");
  EXPECT_EQ(canonical(b, R"({"hosts":[["b","a"],["a"]]})"), R"({"hosts":[["a"],["b","a"]]})")
      << "only the member's own array is a set, not the arrays inside it";
  EXPECT_EQ(canonical(b, R"({"hosts":"a","plays":{"name":"x"}})"),
            R"({"hosts":"a","plays":{"name":"x"}})")
      << "a member that is not an array is written as it is";
  const std::string nested =
      R"({"plays":[{"name":"b","plays":[{"name":"z"},{"name":"y"}]},{"name":"a"}]})";
  const std::string once = canonical(b, nested);
  EXPECT_EQ(once, R"({"plays":[{"name":"a"},{"name":"b","plays":[{"name":"y"},{"name":"z"}]}]})");
  EXPECT_EQ(canonical(b, once), once) << "canonicalising a canonical text changes nothing";
}

TEST(KeyRules, LaneIgnoredFieldsAddToTheServerWideOnes) {
  const KeyBuilder b = rules_builder(set_arrays({}, {"request_id"}), {"timestamp"});
  EXPECT_EQ(b.key_format_version(), kKeyFormatVersionWithRules);
  EXPECT_EQ(canonical(b, R"({"request_id":1,"timestamp":2,"a":{"request_id":3,"b":4}})"),
            R"({"a":{"b":4}})");
  EXPECT_EQ(b.ignored_fields(), (std::vector<std::string>{"request_id", "timestamp"}));
  // The same effective rules, however they are split between server and
  // lane, give the same keys.
  const KeyBuilder same = rules_builder(set_arrays({}, {"timestamp", "request_id", "timestamp"}));
  EXPECT_EQ(same.rules_text(), b.rules_text());
  EXPECT_EQ(key_id(same, "ns", "g", R"({"a":1})"), key_id(b, "ns", "g", R"({"a":1})"));
  // An ignored sort member is not a sort member: those elements sort by text.
  const KeyBuilder hidden = rules_builder(set_arrays({{"plays", "rank"}}, {"rank"}));
  EXPECT_EQ(canonical(hidden, R"({"plays":[{"rank":1,"n":"b"},{"rank":2,"n":"a"}]})"),
            R"({"plays":[{"n":"a"},{"n":"b"}]})");
}

TEST(KeyRules, RulesAreInTheKeyMaterial) {
  // One canonical text ({"a":1}: no array, no ignored member), four rules:
  // four keys, so no two rule sets ever share a key.
  const std::string ctx = R"({"a":1})";
  const std::vector<KeyBuilder> builders = {
      sha_builder(), rules_builder(set_arrays({{"plays", "name"}})),
      rules_builder(set_arrays({{"plays", ""}})), rules_builder(set_arrays({}, {"zzz"}))};
  std::set<std::string> keys;
  for (const KeyBuilder& b : builders) {
    EXPECT_EQ(canonical(b, ctx), ctx);
    keys.insert(key_id(b, "ns", "g", ctx));
  }
  EXPECT_EQ(keys.size(), builders.size());
  EXPECT_EQ(builders[1].rules_text(), R"({"ignored_fields":[],"set_arrays":{"plays":"name"}})");
}

TEST(KeyRules, ParsedContextGivesTheSameKey) {
  const KeyBuilder b = rules_builder(set_arrays({{"hosts", ""}}, {"rid"}), {"ts"});
  const char* ctx = R"({"hosts":["b","a"],"rid":1,"ts":2})";
  Result<PlanKey> from_text = b.plan_key("ns", "g", ctx);
  Result<PlanKey> from_json =
      internal::plan_key_from_json(b, "ns", "g", nlohmann::json::parse(ctx));
  ASSERT_TRUE(from_text.is_ok());
  ASSERT_TRUE(from_json.is_ok());
  EXPECT_EQ(from_text->key, from_json->key);
  EXPECT_EQ(from_json->canonical_context, R"({"hosts":["a","b"]})");
}

TEST(KeyRules, ValidateRefusesEmptyNames) {
  EXPECT_TRUE(validate_key_rules(set_arrays({{"plays", ""}}, {"a"})).is_ok());
  EXPECT_EQ(validate_key_rules(set_arrays({}, {""})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validate_key_rules(set_arrays({{"", "name"}})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validate_key_rules(set_arrays({}, {"\xff"})).code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(validate_key_rules(set_arrays({{"", "x"}})).message(), HasSubstr("key_set_arrays"));
}

TEST(ParseHashAlgorithm, KnownAndUnknownNames) {
  EXPECT_EQ(*parse_hash_algorithm("sha256"), HashAlgorithm::kSha256);
  EXPECT_EQ(*parse_hash_algorithm("xxh3-128"), HashAlgorithm::kXxh3_128);
  for (const char* bad : {"", "SHA256", "md5", "xxh3"}) {
    Result<HashAlgorithm> r = parse_hash_algorithm(bad);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace plancache

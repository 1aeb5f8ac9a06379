// Canonical JSON: number and string forms, idempotence, rejected inputs.
#include "core/canonical_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/utf8.h"

namespace plancache::internal {
namespace {

std::string canon(std::string_view text, const std::vector<std::string>& ignored = {}) {
  Result<std::string> r = canonical_json_text(text, ignored);
  EXPECT_TRUE(r.is_ok()) << text << ": " << r.status().to_string();
  return r.is_ok() ? *r : std::string("<error>");
}

TEST(CanonicalJson, NumberForms) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"0", "0"}, {"-0", "0"}, {"-0.0", "0"}, {"1", "1"}, {"1.0", "1"}, {"1e0", "1"},
      {"1E2", "100"}, {"0.5e1", "5"}, {"12.5", "12.5"}, {"-12.5", "-12.5"}, {"0.1", "0.1"},
      {"1e20", "100000000000000000000"}, {"1e21", "1e+21"}, {"1.5e300", "1.5e+300"},
      {"0.000001", "0.000001"}, {"1e-7", "1e-7"}, {"1.5e-7", "1.5e-7"}, {"5e-324", "5e-324"},
      {"1.7976931348623157e308", "1.7976931348623157e+308"},
      {"9007199254740993", "9007199254740993"},        // int: exact
      {"18446744073709551615", "18446744073709551615"},  // uint64 max
      {"18446744073709551616", "18446744073709552000"},  // beyond: a double
      {"-9223372036854775808", "-9223372036854775808"},  // int64 min
      {"-9223372036854775809", "-9223372036854776000"},
      {"123456789012345678901234567890", "1.2345678901234568e+29"},
      {"0.30000000000000004", "0.30000000000000004"},
  };
  for (const Case& c : cases) EXPECT_EQ(canon(c.in), c.out) << c.in;
}

TEST(CanonicalJson, FormatDoubleMatchesEcmaScript) {
  // Values from ECMAScript's Number.prototype.toString.
  EXPECT_EQ(format_double(123e-20), "1.23e-18");
  EXPECT_EQ(format_double(1e6), "1000000");
  EXPECT_EQ(format_double(123456.789), "123456.789");
  EXPECT_EQ(format_double(-1e-6), "-0.000001");
  EXPECT_EQ(format_double(4.35), "4.35");
  EXPECT_EQ(format_double(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(format_double(2.0 / 3), "0.6666666666666666");
}

TEST(CanonicalJson, StringsEscapedMinimally) {
  EXPECT_EQ(canon(R"("a\"b\\c\/d")"), R"("a\"b\\c/d")");
  EXPECT_EQ(canon(R"("\b\f\n\r\t\u0001\u001f\u007f")"), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  EXPECT_EQ(canon(R"("\u00e9\u20ac\ud83d\ude00")"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  EXPECT_EQ(canon("\"\xc3\xa9\""), "\"\xc3\xa9\"");
  EXPECT_EQ(canon(R"("\u0000")"), R"("\u0000")");
  EXPECT_EQ(canon(R"("\u2028")"), "\"\xe2\x80\xa8\"");
}

TEST(CanonicalJson, StringsAreNotUnicodeNormalised) {
  EXPECT_NE(canon("\"e\xcc\x81\""), canon("\"\xc3\xa9\""));
}

TEST(CanonicalJson, KeysSortedByCodePoint) {
  // "Z" < "a" < "é" (U+00E9) < "€" (U+20AC) < "😀" (U+1F600) in code point order.
  EXPECT_EQ(canon("{\"\xf0\x9f\x98\x80\":5,\"\xe2\x82\xac\":4,\"\xc3\xa9\":3,\"a\":2,\"Z\":1}"),
            "{\"Z\":1,\"a\":2,\"\xc3\xa9\":3,\"\xe2\x82\xac\":4,\"\xf0\x9f\x98\x80\":5}");
  EXPECT_EQ(canon(R"({"b":1,"a":2,"":0,"aa":3})"), R"({"":0,"a":2,"aa":3,"b":1})");
}

TEST(CanonicalJson, DuplicateKeysLastWins) {
  EXPECT_EQ(canon(R"({"a":1,"a":2})"), R"({"a":2})");
}

TEST(CanonicalJson, Scalars) {
  EXPECT_EQ(canon("true"), "true");
  EXPECT_EQ(canon(" false "), "false");
  EXPECT_EQ(canon("null"), "null");
  EXPECT_EQ(canon("\"s\""), "\"s\"");
  EXPECT_EQ(canon("[ ]"), "[]");
  EXPECT_EQ(canon("{ }"), "{}");
}

TEST(CanonicalJson, Idempotent) {
  const char* inputs[] = {
      R"({"z":[1.0,2.50,-0,1e400000000000000000000000000000000000000000000000000000000000]})",
      R"({"b":{"d":[{"y":1e-7,"x":"\u0001"}],"c":18446744073709551616},"a":0.1})",
      R"([1e21,1e20,123456789012345678901234567890,-9223372036854775809])",
  };
  for (const char* in : inputs) {
    Result<std::string> once = canonical_json_text(in, {});
    if (!once.is_ok()) continue;  // the first one overflows: rejected, fine
    EXPECT_EQ(canon(*once), *once) << in;
  }
}

TEST(CanonicalJson, ParsedOverloadRejectsWhatTextCannotHold) {
  nlohmann::json bad_string = std::string("\xff");
  EXPECT_EQ(canonical_json(bad_string, {}).status().code(), StatusCode::kInvalidArgument);
  nlohmann::json bad_key = nlohmann::json::object();
  bad_key[std::string("k\xc3")] = 1;
  EXPECT_EQ(canonical_json(bad_key, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(canonical_json(nlohmann::json(std::nan("")), {}).is_ok());
  EXPECT_FALSE(canonical_json(nlohmann::json(INFINITY), {}).is_ok());
  EXPECT_FALSE(canonical_json(nlohmann::json::binary({1, 2}), {}).is_ok());
  nlohmann::json deep = 1;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) deep = nlohmann::json::array({deep});
  EXPECT_FALSE(canonical_json(deep, {}).is_ok());
}

TEST(CanonicalJson, LoneSurrogateEscapesRejected) {
  for (const char* bad : {R"("\ud800")", R"("\udc00")", R"("\ud800x")", R"("\ud83d\u0041")"}) {
    EXPECT_EQ(canonical_json_text(bad, {}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CanonicalJson, ErrorMessagesAreAscii) {
  // nlohmann echoes the bytes it read; the message must still be safe JSON text.
  for (const char* bad : {"\"\xff\xfe\"", "[\xc3\xa9", "\xe2\x82"}) {
    Result<std::string> r = canonical_json_text(bad, {});
    ASSERT_FALSE(r.is_ok());
    const Status status = r.status();  // status() returns a copy: keep it alive
    for (char c : status.message()) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << status.message();
    }
  }
}

TEST(CanonicalJson, ParseJsonNamesTheInput) {
  Result<nlohmann::json> r = parse_json("{", "body");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message().rfind("body is not valid JSON", 0), 0u) << r.status().message();
}

TEST(Utf8, FindInvalid) {
  EXPECT_EQ(find_invalid_utf8(""), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8(std::string_view("a\0b", 3)), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);               // lone continuation
  EXPECT_EQ(find_invalid_utf8("a\xc1\xbf"), 1u);            // overlong 2-byte
  EXPECT_EQ(find_invalid_utf8("\xe0\x9f\xbf"), 0u);         // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xf0\x8f\xbf\xbf"), 0u);     // overlong 4-byte
  EXPECT_EQ(find_invalid_utf8("x\xed\xbf\xbf"), 1u);        // surrogate
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);     // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xf5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("\xe2\x82"), 0u);             // truncated
  EXPECT_EQ(find_invalid_utf8("\xe2\x28\xa1"), 0u);         // bad continuation
  EXPECT_EQ(find_invalid_utf8("\xf4\x8f\xbf\xbf"), std::string_view::npos);  // U+10FFFF
}

TEST(Utf8, PrintableAscii) {
  EXPECT_EQ(printable_ascii("a\xff\n"), "a\\xff\\x0a");
  EXPECT_EQ(printable_ascii("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace plancache::internal

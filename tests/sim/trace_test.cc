// Trace formats: every format parses, detection by name and by first line,
// gzip and xz (also concatenated and truncated), and bad lines reported with
// their line numbers.
#include "sim/trace.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/hashing.h"
#include "sim_test_util.h"

namespace plancache::internal {
namespace {

using plancache::testing::TempDir;
using testing::keys_of;
using testing::read_all;
using testing::shell;
using testing::write_file;

TEST(TraceFormats, KeysIntegersAndHashedTokens) {
  TempDir dir;
  const std::string path =
      write_file(dir, "t.txt", "# a comment\n7\n\n  42  \nplan-a\n18446744073709551615\n-3\n");
  std::string error;
  TraceFormat detected = TraceFormat::kAuto;
  const auto got = read_all(path, TraceFormat::kAuto, &error, &detected);
  EXPECT_EQ(error, "");
  EXPECT_EQ(detected, TraceFormat::kKeys);
  EXPECT_EQ(keys_of(got), (std::vector<uint64_t>{7, 42, xxh3_64("plan-a"), 18446744073709551615ull,
                                                 xxh3_64("-3")}));
  EXPECT_EQ(got[0].size, 1u);
  EXPECT_EQ(got[0].cost_ms, 0u);
  EXPECT_EQ(got[0].time_ms, -1);
  EXPECT_EQ(got[0].ns, "");
}

TEST(TraceFormats, CsvWithHeaderSizesAndCosts) {
  TempDir dir;
  const std::string path = write_file(
      dir, "t.csv", "key,size,cost_ms\r\n1,100,250\r\n\"plan-b\", 2048 ,12.6\r\n3\r\n4,5\r\n");
  std::string error;
  const auto got = read_all(path, TraceFormat::kAuto, &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].key, 1u);
  EXPECT_EQ(got[0].size, 100u);
  EXPECT_EQ(got[0].cost_ms, 250u);
  EXPECT_EQ(got[1].key, xxh3_64("plan-b"));
  EXPECT_EQ(got[1].size, 2048u);
  EXPECT_EQ(got[1].cost_ms, 13u);  // rounded
  EXPECT_EQ(got[2].size, 1u);
  EXPECT_EQ(got[3].size, 5u);
  EXPECT_EQ(got[3].cost_ms, 0u);
}

TEST(TraceFormats, CsvDetectedByContentWithoutHeader) {
  TempDir dir;
  const std::string path = write_file(dir, "trace.txt", "9,10,11\n");
  TraceFormat detected = TraceFormat::kAuto;
  const auto got = read_all(path, TraceFormat::kAuto, nullptr, &detected);
  EXPECT_EQ(detected, TraceFormat::kCsv);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].cost_ms, 11u);
}

TEST(TraceFormats, JsonlEveryField) {
  TempDir dir;
  const std::string path = write_file(
      dir, "access.log",
      "{\"key\":5}\n"
      "{\"key\":\"wf:step_5\",\"size\":300,\"cost_ms\":1500,\"t\":1790000000123,\"ns\":\"heavy\","
      "\"hit\":false}\n"
      "\n"
      "{\"key\":6,\"size\":null}\n"
      "{\"t\":1,\"ns\":\"docs\",\"key\":\"k\",\"op\":\"put\",\"size\":9}\n"
      "{\"t\":2,\"ns\":\"docs\",\"key\":\"k\",\"op\":\"get\",\"hit\":true}\n");
  std::string error;
  TraceFormat detected = TraceFormat::kAuto;
  const auto got = read_all(path, TraceFormat::kAuto, &error, &detected);
  ASSERT_EQ(error, "");
  EXPECT_EQ(detected, TraceFormat::kJsonl);
  ASSERT_EQ(got.size(), 4u);  // the put is not a request
  EXPECT_EQ(got[3].key, xxh3_64("k"));
  EXPECT_EQ(got[3].ns, "docs");
  EXPECT_EQ(got[0].key, 5u);
  EXPECT_EQ(got[1].key, xxh3_64("wf:step_5"));
  EXPECT_EQ(got[1].size, 300u);
  EXPECT_EQ(got[1].cost_ms, 1500u);
  EXPECT_EQ(got[1].time_ms, 1790000000123);
  EXPECT_EQ(got[1].ns, "heavy");
  EXPECT_EQ(got[2].size, 1u);
}


// The server's access log: a miss is logged before the plan exists, so it
// has no size or cost; the put that follows has both. The reader gives the
// miss the put's figures (the last put of the key, in its namespace).
TEST(TraceFormats, JsonlAccessLogMissesTakeSizeAndCostFromTheirPut) {
  TempDir dir;
  const std::string path = write_file(
      dir, "access.jsonl",
      "{\"t\":1,\"ns\":\"heavy\",\"key\":\"a\",\"op\":\"get\",\"hit\":false}\n"
      "{\"t\":2,\"ns\":\"heavy\",\"key\":\"a\",\"op\":\"put\",\"size\":4096,\"cost_ms\":2500}\n"
      "{\"t\":3,\"ns\":\"heavy\",\"key\":\"a\",\"op\":\"get\",\"hit\":true,\"size\":4096,"
      "\"cost_ms\":2500}\n"
      "{\"t\":4,\"ns\":\"docs\",\"key\":\"a\",\"op\":\"get\",\"hit\":false}\n"
      "{\"t\":5,\"ns\":\"heavy\",\"key\":\"b\",\"op\":\"get\",\"hit\":false}\n");
  std::string error;
  const auto got = read_all(path, TraceFormat::kAuto, &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].size, 4096u);  // filled from the put at t=2
  EXPECT_EQ(got[0].cost_ms, 2500u);
  EXPECT_EQ(got[1].size, 4096u);  // as logged
  EXPECT_EQ(got[2].size, 1u);     // same key, other lane: never put there
  EXPECT_EQ(got[2].cost_ms, 0u);
  EXPECT_EQ(got[3].size, 1u);     // never put at all
}
TEST(TraceFormats, ArcLinesExpandToRuns) {
  TempDir dir;
  const std::string path = write_file(dir, "arc-small.trace", "100 3 0 1\n7 1 0 2\n5 0 0 3\n");
  TraceFormat detected = TraceFormat::kAuto;
  const auto got = read_all(path, TraceFormat::kAuto, nullptr, &detected);
  EXPECT_EQ(detected, TraceFormat::kArc);
  EXPECT_EQ(keys_of(got), (std::vector<uint64_t>{100, 101, 102, 7}));
}

TEST(TraceFormats, ArcDetectedByContent) {
  TempDir dir;
  const std::string path = write_file(dir, "oltp.txt", "1 2 0 0\n");
  TraceFormat detected = TraceFormat::kAuto;
  EXPECT_EQ(read_all(path, TraceFormat::kAuto, nullptr, &detected).size(), 2u);
  EXPECT_EQ(detected, TraceFormat::kArc);
}

TEST(TraceFormats, PenaltiesAddressSizeAndMissPenalty) {
  TempDir dir;
  const std::string path =
      write_file(dir, "gcc.trace", "s 0x1fffff50 1 1 100\nl 0x1FFFFF88 6 1 10\n");
  TraceFormat detected = TraceFormat::kAuto;
  std::string error;
  const auto got = read_all(path, TraceFormat::kAuto, &error, &detected);
  ASSERT_EQ(error, "");
  EXPECT_EQ(detected, TraceFormat::kPenalties);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].key, 0x1fffff50u);
  EXPECT_EQ(got[0].size, 1u);
  EXPECT_EQ(got[0].cost_ms, 100u);
  EXPECT_EQ(got[1].key, 0x1fffff88u);
  EXPECT_EQ(got[1].size, 6u);
  EXPECT_EQ(got[1].cost_ms, 10u);
}

TEST(TraceFormats, LirsSkipsMarkersAndBlankLines) {
  TempDir dir;
  const std::string path = write_file(dir, "lirs-x.trace", "0\r\n1\r\n*\r\n2\r\n\r\n");
  TraceFormat detected = TraceFormat::kAuto;
  EXPECT_EQ(keys_of(read_all(path, TraceFormat::kAuto, nullptr, &detected)),
            (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(detected, TraceFormat::kLirs);
}

TEST(TraceFormats, ForcedFormatBeatsTheName) {
  TempDir dir;
  const std::string path = write_file(dir, "arc-looking.csv", "1 2 0 0\n");
  // By name it is arc; forced to keys, the whole line is one token.
  EXPECT_EQ(keys_of(read_all(path, TraceFormat::kKeys)),
            (std::vector<uint64_t>{xxh3_64("1 2 0 0")}));
}

TEST(TraceFormats, NamesRoundTrip) {
  for (const char* name : {"auto", "keys", "csv", "jsonl", "arc", "penalties", "lirs"}) {
    Result<TraceFormat> f = parse_trace_format(name);
    ASSERT_TRUE(f.is_ok()) << name;
    EXPECT_EQ(trace_format_name(*f), name);
  }
  Result<TraceFormat> bad = parse_trace_format("parquet");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("expected one of auto, keys"), std::string::npos);
}

TEST(TraceFormats, UnterminatedLastLineAndBom) {
  TempDir dir;
  const std::string path = write_file(dir, "k.txt",
                                      "\xEF\xBB\xBF"
                                      "11\n12");
  EXPECT_EQ(keys_of(read_all(path, TraceFormat::kAuto)), (std::vector<uint64_t>{11, 12}));
}

// --- compression ---------------------------------------------------------------

TEST(TraceCompression, GzipAndXzReadDirectly) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 50'000; ++i) text += std::to_string(i % 977) + "," + std::to_string(i) + "\n";
  const std::string plain = write_file(dir, "big.csv", text);
  ASSERT_TRUE(shell("gzip -n -k -c '" + plain + "' > '" + plain + ".gz'"));
  ASSERT_TRUE(shell("xz -k -c '" + plain + "' > '" + plain + ".xz'"));
  const auto expected = read_all(plain, TraceFormat::kAuto);
  ASSERT_EQ(expected.size(), 50'000u);
  for (const std::string suffix : {".gz", ".xz"}) {
    std::string error;
    TraceFormat detected = TraceFormat::kAuto;
    const auto got = read_all(plain + suffix, TraceFormat::kAuto, &error, &detected);
    EXPECT_EQ(error, "") << suffix;
    EXPECT_EQ(detected, TraceFormat::kCsv) << suffix;  // the name without .gz / .xz
    ASSERT_EQ(got.size(), expected.size()) << suffix;
    EXPECT_EQ(keys_of(got), keys_of(expected)) << suffix;
    EXPECT_EQ(got.back().size, 49'999u) << suffix;
  }
}

TEST(TraceCompression, ProgressCountsCompressedBytes) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20'000; ++i) text += std::to_string(i) + "\n";
  const std::string plain = write_file(dir, "k.txt", text);
  ASSERT_TRUE(shell("gzip -n -c '" + plain + "' > '" + plain + ".gz'"));
  auto reader = open_trace(plain + ".gz");
  ASSERT_TRUE(reader.is_ok());
  const uint64_t size = std::filesystem::file_size(plain + ".gz");
  EXPECT_EQ((*reader)->total_bytes(), size);
  EXPECT_EQ((*reader)->compression(), Compression::kGzip);
  Access a;
  while (true) {
    Result<bool> more = (*reader)->next(&a);
    ASSERT_TRUE(more.is_ok());
    if (!*more) break;
  }
  EXPECT_EQ((*reader)->bytes_read(), size);
}

TEST(TraceCompression, ConcatenatedGzipMembersReadAsOne) {
  TempDir dir;
  const std::string a = write_file(dir, "a", "1\n2\n");
  const std::string b = write_file(dir, "b", "3\n");
  ASSERT_TRUE(shell("gzip -n -c '" + a + "' > '" + dir.file("ab.gz") + "' && gzip -n -c '" + b +
                    "' >> '" + dir.file("ab.gz") + "'"));
  EXPECT_EQ(keys_of(read_all(dir.file("ab.gz"), TraceFormat::kKeys)),
            (std::vector<uint64_t>{1, 2, 3}));
}

TEST(TraceCompression, TruncatedFilesAreErrors) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 30'000; ++i) text += std::to_string(i * 7919) + "\n";
  const std::string plain = write_file(dir, "k.txt", text);
  ASSERT_TRUE(shell("gzip -n -c '" + plain + "' | head -c 2000 > '" + dir.file("cut.gz") + "'"));
  ASSERT_TRUE(shell("xz -c '" + plain + "' | head -c 2000 > '" + dir.file("cut.xz") + "'"));
  std::string error;
  read_all(dir.file("cut.gz"), TraceFormat::kKeys, &error);
  EXPECT_NE(error.find("corrupt gzip data: unexpected end of file"), std::string::npos) << error;
  error.clear();
  read_all(dir.file("cut.xz"), TraceFormat::kKeys, &error);
  EXPECT_NE(error.find("corrupt xz data"), std::string::npos) << error;
}

TEST(TraceCompression, PublicLirsGliTrace) {
  const char* env = std::getenv("PLANCACHE_TRACES_DIR");
  const std::string path =
      std::string(env != nullptr ? env : PLANCACHE_TRACES_DIR) + "/lirs-gli.trace.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  std::string error;
  TraceFormat detected = TraceFormat::kAuto;
  const auto got = read_all(path, TraceFormat::kAuto, &error, &detected);
  EXPECT_EQ(error, "");
  EXPECT_EQ(detected, TraceFormat::kLirs);
  // 6,016 lines: 6,015 keys and an empty last line.
  EXPECT_EQ(got.size(), 6'015u);
  EXPECT_EQ(got.front().key, 0u);
  EXPECT_EQ(got.back().key, 2528u);
}

// --- bad input -----------------------------------------------------------------

struct BadLine {
  TraceFormat format;
  const char* text;
  const char* expected;  // "LINE: message start"
};

TEST(TraceErrors, BadLinesNameTheirLineNumber) {
  const BadLine cases[] = {
      {TraceFormat::kCsv, "key,size\n1,2\n2,big\n", "3: size 'big' is not a non-negative integer"},
      {TraceFormat::kCsv, "1,2,3,4\n", "1: expected key,size,cost_ms"},
      {TraceFormat::kCsv, "1,2,-4\n", "1: cost_ms '-4' is not a number"},
      {TraceFormat::kJsonl, "{\"key\":1}\n{\"key\":\n", "2: not valid JSON: "},
      {TraceFormat::kJsonl, "[1]\n", "1: expected a JSON object"},
      {TraceFormat::kJsonl, "{\"size\":3}\n", "1: missing \"key\""},
      {TraceFormat::kJsonl, "{\"key\":-1}\n", "1: \"key\" must be a non-negative integer"},
      {TraceFormat::kJsonl, "{\"key\":1,\"size\":1.5}\n", "1: \"size\" must be a non-negative"},
      {TraceFormat::kJsonl, "{\"key\":1,\"ns\":\"../x\"}\n", "1: namespace"},
      {TraceFormat::kJsonl, "{\"key\":1,\"op\":7}\n", "1: \"op\" must be a string"},
      {TraceFormat::kArc, "1 1 0 0\n\nx 1 0 0\n", "3: expected 'start_block block_count"},
      {TraceFormat::kArc, "1 99999999999 0 0\n", "1: block_count '99999999999' is out of range"},
      {TraceFormat::kPenalties, "l 0x10 1 1\n", "1: expected 'op 0xADDRESS size"},
      {TraceFormat::kPenalties, "l 0xZZ 1 1 1\n", "1: address '0xZZ' is not a hexadecimal"},
      {TraceFormat::kLirs, "1\n2\nthree\n", "3: expected an integer key (lirs format)"},
  };
  TempDir dir;
  int n = 0;
  for (const BadLine& c : cases) {
    const std::string path = write_file(dir, "bad" + std::to_string(n++), c.text);
    std::string error;
    read_all(path, c.format, &error);
    EXPECT_EQ(error.rfind(path + ":" + c.expected, 0), 0u)
        << "format " << trace_format_name(c.format) << ": got '" << error << "'";
  }
}

TEST(TraceErrors, MissingFileAndDirectory) {
  TempDir dir;
  std::string error;
  read_all(dir.file("nope.txt"), TraceFormat::kAuto, &error);
  EXPECT_EQ(error, "cannot open trace '" + dir.file("nope.txt") + "': No such file or directory");
  read_all(dir.path(), TraceFormat::kKeys, &error);
  EXPECT_EQ(error, "cannot open trace '" + dir.path() + "': it is a directory");
}

TEST(TraceErrors, OverlongLine) {
  TempDir dir;
  const std::string path =
      write_file(dir, "long.txt", "1\n" + std::string(LineReader::kMaxLineBytes + 10, 'x') + "\n");
  std::string error;
  read_all(path, TraceFormat::kKeys, &error);
  EXPECT_EQ(error, path + ":2: line longer than 1048576 bytes");
}

}  // namespace
}  // namespace plancache::internal

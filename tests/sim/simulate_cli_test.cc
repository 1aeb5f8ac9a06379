// `plancache simulate` in-process: the table and --json on a hand-checked
// trace, exit code 2 with FILE:LINE for a bad line, usage errors, --sizes
// auto, --plot and --print-keys.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_runner.h"
#include "sim_test_util.h"

namespace plancache::internal {
namespace {

using cli::test_support::run_plancache;
using plancache::testing::TempDir;
using testing::write_file;

// A B C A D B E A B C D E: LRU(3) 2 hits, optimal(3) 5 (replay_test.cc).
constexpr const char* kTwelve = "1\n2\n3\n1\n4\n2\n5\n1\n2\n3\n4\n5\n";

TEST(SimulateCli, TableOnAHandCheckedTrace) {
  TempDir dir;
  const std::string path = write_file(dir, "twelve.txt", kTwelve);
  const auto run =
      run_plancache({"simulate", "--trace", path, "--sizes", "3", "--policies", "lru,optimal"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_NE(run.out.find("trace twelve.txt (keys): 12 requests, 5 distinct keys; sizes in entries"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("lru                   3    16.67 %        16.67 %                -   "
                         "40.00 %"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("optimal               3    41.67 %"), std::string::npos) << run.out;
}

TEST(SimulateCli, Json) {
  TempDir dir;
  const std::string path = write_file(dir, "twelve.txt", kTwelve);
  const auto run = run_plancache(
      {"simulate", "--trace", path, "--sizes", "3,5", "--policies", "lru,optimal", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const nlohmann::json doc = nlohmann::json::parse(run.out);
  EXPECT_EQ(doc["requests"], 12);
  EXPECT_EQ(doc["unique_keys"], 5);
  EXPECT_EQ(doc["format"], "keys");
  ASSERT_EQ(doc["results"].size(), 4u);
  EXPECT_EQ(doc["results"][0]["policy"], "lru");
  EXPECT_EQ(doc["results"][0]["size"], 3);
  EXPECT_EQ(doc["results"][0]["hits"], 2);
  EXPECT_EQ(doc["results"][1]["hits"], 5);
  EXPECT_EQ(doc["results"][3]["hits"], 7);  // optimal @ 5: every key fits
  EXPECT_FALSE(doc.contains("knee"));
}

TEST(SimulateCli, BadLineExitsTwoWithItsNumber) {
  TempDir dir;
  const std::string path = write_file(dir, "bad.csv", "key,size\n1,10\n2,ten\n");
  const auto run = run_plancache({"simulate", "--trace", path, "--sizes", "3"});
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.err, "error: " + path + ":3: size 'ten' is not a non-negative integer\n");
  EXPECT_EQ(run.out, "");
}

TEST(SimulateCli, UsageErrorsExitTwo) {
  TempDir dir;
  const std::string path = write_file(dir, "k.txt", kTwelve);
  const auto unknown = run_plancache({"simulate", "--trace", path, "--policies", "lru,mru"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("unknown policy 'mru'"), std::string::npos) << unknown.err;
  const auto sizes = run_plancache({"simulate", "--trace", path, "--sizes", "0"});
  EXPECT_EQ(sizes.code, 2);
  EXPECT_NE(sizes.err.find("size '0' must be at least 1"), std::string::npos) << sizes.err;
  const auto missing = run_plancache({"simulate", "--trace", dir.file("none")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot open trace"), std::string::npos) << missing.err;
  const auto no_trace = run_plancache({"simulate"});
  EXPECT_EQ(no_trace.code, 2);
  const auto plot = run_plancache(
      {"simulate", "--trace", path, "--plot", dir.file("no/such/dir/p.svg"), "--sizes", "3"});
  EXPECT_EQ(plot.code, 2);
  EXPECT_NE(plot.err.find("cannot write the plot"), std::string::npos) << plot.err;
}

TEST(SimulateCli, AutoSizesFindTheKneeAndPlot) {
  TempDir dir;
  std::string text;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 200; ++k) text += std::to_string(k % (round % 2 == 0 ? 200 : 50)) + "\n";
  }
  const std::string path = write_file(dir, "loop.txt", text);
  const std::string svg = dir.file("out.svg");
  const auto run = run_plancache(
      {"simulate", "--trace", path, "--policies", "lru,tinylfu", "--json", "--plot", svg});
  ASSERT_EQ(run.code, 0) << run.err;
  const nlohmann::json doc = nlohmann::json::parse(run.out);
  EXPECT_EQ(doc["unique_keys"], 200);
  ASSERT_TRUE(doc.contains("knee"));
  EXPECT_EQ(doc["knee"]["policy"], "tinylfu");
  // The ladder: from 1 to 200, both policies.
  EXPECT_EQ(doc["results"].front()["size"], 1);
  EXPECT_EQ(doc["results"].back()["size"], 200);
  EXPECT_GE(doc["knee"]["hit_rate"].get<double>(),
            0.9 * doc["knee"]["best_hit_rate"].get<double>());
  std::ifstream in(svg);
  std::stringstream contents;
  contents << in.rdbuf();
  EXPECT_NE(contents.str().find("plancache simulate: loop.txt"), std::string::npos);
  EXPECT_NE(contents.str().find("knee "), std::string::npos);
}

TEST(SimulateCli, PrintKeys) {
  TempDir dir;
  const std::string path = write_file(dir, "arc-t.trace", "10 3 0 1\n4 1 0 2\n");
  const auto run = run_plancache({"simulate", "--trace", path, "--print-keys"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "10\n11\n12\n4\n");
}

TEST(SimulateCli, HelpExplainsFormatsAndOptimalByBytes) {
  const auto run = run_plancache({"simulate", "--help"});
  EXPECT_EQ(run.code, 0);
  for (const char* text :
       {"--trace", "--format", "--sizes", "--policies", "--by", "--json", "--plot", "--shards",
        "--print-keys", "penalties", "heuristic bound", "8 bytes per request"}) {
    EXPECT_NE(run.out.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace plancache::internal

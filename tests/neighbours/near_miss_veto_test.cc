// Near-miss veto: each reason, its name, symmetry, and the rewordings it
// lets through.
#include "neighbours/near_miss_veto.h"

#include <gtest/gtest.h>

#include <set>

namespace plancache::internal {
namespace {

std::string reason(std::string_view a, std::string_view b) {
  const auto v = veto(a, b);
  return v ? std::string(veto_reason_name(*v)) : "none";
}

TEST(NearMissVeto, ReasonNamesAreStableAndDistinct) {
  std::set<std::string_view> names;
  for (const VetoReason r : all_veto_reasons()) names.insert(veto_reason_name(r));
  EXPECT_EQ(names, (std::set<std::string_view>{"number", "date", "version", "quoted", "identifier",
                                               "path", "environment", "negation", "entity",
                                               "content_word", "word_order"}));
}

TEST(NearMissVeto, Number) {
  EXPECT_EQ(reason("scale to 3 replicas", "scale to 4 replicas"), "number");
  EXPECT_EQ(reason("scale to 3 replicas", "scale to four replicas"), "number");
  EXPECT_EQ(reason("the 2nd row", "the 3rd row"), "number");
  EXPECT_EQ(reason("cut 10%", "cut 20%"), "number");
  EXPECT_EQ(reason("pay $5", "pay $50"), "number");
  EXPECT_EQ(reason("restart 3 pods", "restart pods"), "number");
  EXPECT_EQ(reason("scale to 3 replicas", "scale to three replicas"), "none");
  EXPECT_EQ(reason("allow 1,000 users", "allow 1000 users"), "none");
  EXPECT_EQ(reason("pick rows 1,2,3", "pick rows 123"), "identifier");
}

TEST(NearMissVeto, Date) {
  EXPECT_EQ(reason("report for 2024-05-01", "report for 2024-05-02"), "date");
  EXPECT_EQ(reason("meet on monday", "meet on tuesday"), "date");
  EXPECT_EQ(reason("sales in March", "sales in June"), "date");
  EXPECT_EQ(reason("sales for 2023", "sales for 2024"), "date");
  EXPECT_EQ(reason("book it for today", "book it for tomorrow"), "date");
  EXPECT_EQ(reason("remind me at 10:30", "remind me at 11:30"), "date");
}

TEST(NearMissVeto, Version) {
  EXPECT_EQ(reason("upgrade to v1.2", "upgrade to v1.3"), "version");
  EXPECT_EQ(reason("pin 1.2.3", "pin 1.2.4"), "version");
  EXPECT_EQ(reason("use python3.11", "use python3.12"), "version");
}

TEST(NearMissVeto, QuotedString) {
  EXPECT_EQ(reason("grep 'foo'", "grep 'bar'"), "quoted");
  EXPECT_EQ(reason("grep \"foo\"", "grep \"Foo\""), "quoted");
  EXPECT_EQ(reason("run `ls`", "run `ls -l`"), "quoted");
  EXPECT_EQ(reason("grep 'foo'", "grep foo"), "quoted");
  EXPECT_EQ(reason("grep 'foo'", "Grep 'foo'"), "none");
}

TEST(NearMissVeto, Identifier) {
  EXPECT_EQ(reason("restart host-01", "restart host-02"), "identifier");
  EXPECT_EQ(reason("drop user_id", "drop user_name"), "identifier");
  EXPECT_EQ(reason("call fooBar", "call fooBaz"), "identifier");
  EXPECT_EQ(reason("call fooBar", "call foobar"), "identifier");
  EXPECT_EQ(reason("patch CVE-2021-44228", "patch CVE-2022-22965"), "identifier");
  EXPECT_EQ(reason("revert a1b2c3d4", "revert a1b2c3d5"), "identifier");
  EXPECT_EQ(reason("mail bob@x.com", "mail eve@x.com"), "identifier");
  EXPECT_EQ(reason("get https://a.io/x", "get https://a.io/y"), "identifier");
}

TEST(NearMissVeto, Path) {
  EXPECT_EQ(reason("cat /etc/hosts", "cat /etc/passwd"), "path");
  EXPECT_EQ(reason("open C:\\a\\b", "open C:\\a\\c"), "path");
  EXPECT_EQ(reason("run ./build.sh", "run ./test.sh"), "path");
  EXPECT_EQ(reason("edit main.py", "edit main.go"), "path");
  EXPECT_EQ(reason("cat /etc/Hosts", "cat /etc/hosts"), "path");  // paths keep their case
}

TEST(NearMissVeto, Environment) {
  EXPECT_EQ(reason("deploy to staging", "deploy to production"), "environment");
  EXPECT_EQ(reason("deploy to dev", "deploy to qa"), "environment");
  EXPECT_EQ(reason("deploy to canary", "deploy to sandbox"), "environment");
  EXPECT_EQ(reason("deploy to dev", "deploy to development"), "none");
  EXPECT_EQ(reason("deploy to stage", "deploy to staging"), "none");
}

TEST(NearMissVeto, Negation) {
  EXPECT_EQ(reason("delete the logs", "don't delete the logs"), "negation");
  EXPECT_EQ(reason("delete the logs", "never delete the logs"), "negation");
  EXPECT_EQ(reason("build with tests", "build without tests"), "negation");
  EXPECT_EQ(reason("list all except tests", "list all tests"), "negation");
  EXPECT_EQ(reason("enable tls", "disable tls"), "negation");
  EXPECT_EQ(reason("include tests", "exclude tests"), "negation");
  EXPECT_EQ(reason("add a user", "remove a user"), "negation");
  EXPECT_EQ(reason("avoid sudo", "use sudo"), "negation");
  EXPECT_EQ(reason("it can fail", "it cannot fail"), "negation");
  EXPECT_EQ(reason("it isn't ready", "it is ready"), "negation");
  EXPECT_EQ(reason("show unread mail", "show read mail"), "negation");
  EXPECT_EQ(reason("don't delete the logs", "do not delete the logs"), "none");
  EXPECT_EQ(reason("I cannot log in", "I can't log in"), "none");
}

TEST(NearMissVeto, Entity) {
  EXPECT_EQ(reason("President of Pakistan", "President of India"), "entity");
  EXPECT_EQ(reason("deploy to AWS", "deploy to GCP"), "entity");
  EXPECT_EQ(reason("US news", "us news"), "entity");
}

TEST(NearMissVeto, ContentWord) {
  EXPECT_EQ(reason("restart nginx", "restart apache"), "content_word");
  EXPECT_EQ(reason("list users", "delete users"), "content_word");
  EXPECT_EQ(reason("copy the file", "copy the file here"), "content_word");
  EXPECT_EQ(reason("list my repos", "list your repos"), "content_word");
  EXPECT_EQ(reason("can I delete the db", "delete the db"), "content_word");
  EXPECT_EQ(reason("deleted users", "delete users"), "content_word");
  EXPECT_EQ(reason("list logged in users", "list log in users"), "content_word");
  EXPECT_EQ(reason("check invalid rows", "check in valid rows"), "negation");
}

TEST(NearMissVeto, WordOrder) {
  EXPECT_EQ(reason("convert celsius to fahrenheit", "convert fahrenheit to celsius"), "word_order");
  EXPECT_EQ(reason("replace 'a' with 'b'", "replace 'b' with 'a'"), "word_order");
  EXPECT_EQ(reason("nginx restart", "restart nginx"), "word_order");
}

TEST(NearMissVeto, RewordingsPass) {
  EXPECT_EQ(reason("Deploy the web app to staging", "deploy web app to staging"), "none");
  EXPECT_EQ(reason("set up nginx on the server", "setup nginx on server"), "none");
  EXPECT_EQ(reason("install docker", "installing Docker"), "none");
  EXPECT_EQ(reason("How do I install docker?", "install docker"), "none");
  EXPECT_EQ(reason("please restart the servers", "restart server"), "none");
  EXPECT_EQ(reason("run the webapp", "run the web app"), "none");
  EXPECT_EQ(reason("set up a web-app", "setup a webapp"), "none");
  EXPECT_EQ(reason("create a database", "create a db"), "none");
  EXPECT_EQ(reason("log in", "login"), "none");
  EXPECT_EQ(reason("do it", "do it"), "none");
}

TEST(NearMissVeto, StopwordOnlyGoalsAreComparedWhole) {
  EXPECT_EQ(reason("do it", "do this"), "content_word");
}

TEST(NearMissVeto, LongGoalsStayLinear) {
  // 40,000 tokens of compounds and splittable words on both sides.
  std::string a, b;
  for (int i = 0; i < 10'000; ++i) {
    a += "set up web app ";
    b += "setup webapp ";
  }
  b += "now";
  EXPECT_EQ(reason(a, b), "date");
  EXPECT_EQ(reason(a, a), "none");
}

TEST(NearMissVeto, IsSymmetric) {
  const std::vector<std::pair<std::string_view, std::string_view>> pairs = {
      {"restart nginx", "restart apache"},
      {"delete the logs", "don't delete the logs"},
      {"deploy v1.2 to prod", "deploy v1.3 to prod"},
      {"install docker", "installing Docker"},
      {"run the webapp", "run the web app"}};
  for (const auto& [a, b] : pairs) EXPECT_EQ(reason(a, b), reason(b, a)) << a << " / " << b;
}

}  // namespace
}  // namespace plancache::internal

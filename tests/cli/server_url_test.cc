#include "cli/server_url.h"

#include <gtest/gtest.h>

namespace plancache::cli {
namespace {

TEST(ServerUrlTest, ParsesHostAndPort) {
  Result<ServerUrl> url = parse_server_url("http://127.0.0.1:8080");
  ASSERT_TRUE(url.is_ok()) << url.status().to_string();
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->base_path, "");
  EXPECT_EQ(url->host_header(), "127.0.0.1:8080");
  EXPECT_EQ(url->to_string(), "http://127.0.0.1:8080");
}

TEST(ServerUrlTest, DefaultsToPort80AndAcceptsUppercaseScheme) {
  Result<ServerUrl> url = parse_server_url("HTTP://cache-host");
  ASSERT_TRUE(url.is_ok());
  EXPECT_EQ(url->host, "cache-host");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->host_header(), "cache-host");
}

TEST(ServerUrlTest, KeepsBasePathWithoutTrailingSlash) {
  Result<ServerUrl> url = parse_server_url("http://localhost:9000/plancache/");
  ASSERT_TRUE(url.is_ok());
  EXPECT_EQ(url->base_path, "/plancache");
  EXPECT_EQ(url->to_string(), "http://localhost:9000/plancache");
  Result<ServerUrl> root = parse_server_url("http://localhost:9000/");
  ASSERT_TRUE(root.is_ok());
  EXPECT_EQ(root->base_path, "");
}

TEST(ServerUrlTest, ParsesBracketedIpv6) {
  Result<ServerUrl> url = parse_server_url("http://[::1]:7000");
  ASSERT_TRUE(url.is_ok()) << url.status().to_string();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 7000);
  EXPECT_EQ(url->host_header(), "[::1]:7000");
}

struct BadUrl {
  const char* text;
  const char* message_part;
};

class ServerUrlRejectTest : public ::testing::TestWithParam<BadUrl> {};

TEST_P(ServerUrlRejectTest, RejectsWithAMessageNamingTheProblem) {
  Result<ServerUrl> url = parse_server_url(GetParam().text);
  ASSERT_FALSE(url.is_ok()) << GetParam().text;
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(url.status().message().find(GetParam().message_part), std::string::npos)
      << url.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ServerUrlRejectTest,
    ::testing::Values(BadUrl{"", "empty"}, BadUrl{"127.0.0.1:8080", "missing scheme"},
                      BadUrl{"https://host", "only http:// is supported"},
                      BadUrl{"ftp://host", "unsupported scheme 'ftp'"},
                      BadUrl{"http://", "missing host"}, BadUrl{"http://:80", "missing host"},
                      BadUrl{"http://host:", "empty port"},
                      BadUrl{"http://host:0", "port must be a number from 1 to 65535"},
                      BadUrl{"http://host:65536", "port must be"},
                      BadUrl{"http://host:80x", "port must be"},
                      BadUrl{"http://user:pw@host", "user info"},
                      BadUrl{"http://host/?a=1", "query"}, BadUrl{"http://ho st", "invalid character"},
                      BadUrl{"http://[::1", "unterminated"}, BadUrl{"http://[zz]:1", "IPv6"},
                      BadUrl{"http://[::1]x", "after ']'"}));

}  // namespace
}  // namespace plancache::cli

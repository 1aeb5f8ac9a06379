// HttpConnection (keep-alive) against a scripted peer on 127.0.0.1: one
// connection for many requests, a reconnect when the server closed an idle
// connection, no retry after a timeout; HttpClient still closes after each
// exchange.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "scripted_http_server.h"

namespace plancache::cli {
namespace {

using test_support::ScriptedHttpServer;
using test_support::ScriptedReply;
using ::testing::HasSubstr;

ServerUrl loopback(uint16_t port) {
  ServerUrl url;
  url.host = "127.0.0.1";
  url.port = port;
  return url;
}

HttpRequest get(std::string path) { return {HttpMethod::kGet, std::move(path), "", ""}; }

TEST(HttpConnectionTest, SendsManyRequestsOverOneConnection) {
  ScriptedHttpServer peer([](const ScriptedHttpServer::Request& request) {
    return ScriptedReply{200, "{\"path\":\"" + std::string(request.target()) + "\"}"};
  });
  HttpClient client(loopback(peer.port()), std::chrono::seconds(5));
  HttpConnection connection(client);
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> response = connection.send(get("/r" + std::to_string(i)));
    ASSERT_TRUE(response.is_ok()) << response.status().to_string();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "{\"path\":\"/r" + std::to_string(i) + "\"}");
  }
  EXPECT_EQ(peer.connections(), 1);
  for (const auto& request : peer.requests()) EXPECT_TRUE(request.keep_alive());
}

TEST(HttpConnectionTest, ReopensAConnectionTheServerClosedWhileIdle) {
  // Each answer says keep-alive, then the peer drops the connection: the
  // next send finds it closed before any answer byte and reconnects.
  ScriptedHttpServer peer([](const ScriptedHttpServer::Request&) {
    ScriptedReply reply{200, "{}"};
    reply.drop_after = true;
    return reply;
  });
  HttpClient client(loopback(peer.port()), std::chrono::seconds(5));
  HttpConnection connection(client);
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> response = connection.send(get("/x"));
    ASSERT_TRUE(response.is_ok()) << i << ": " << response.status().to_string();
  }
  EXPECT_EQ(peer.connections(), 3);
  EXPECT_EQ(peer.requests().size(), 3u);
}

TEST(HttpConnectionTest, FollowsConnectionClose) {
  ScriptedHttpServer peer([](const ScriptedHttpServer::Request&) {
    return ScriptedReply{200, "{}", /*keep_alive=*/false};
  });
  HttpClient client(loopback(peer.port()), std::chrono::seconds(5));
  HttpConnection connection(client);
  ASSERT_TRUE(connection.send(get("/a")).is_ok());
  ASSERT_TRUE(connection.send(get("/b")).is_ok());
  EXPECT_EQ(peer.connections(), 2);
}

TEST(HttpConnectionTest, ATimeoutIsNotRetried) {
  ScriptedHttpServer peer([](const ScriptedHttpServer::Request& request) {
    ScriptedReply reply{200, "{}"};
    reply.never_answer = request.target() == "/slow";
    return reply;
  });
  HttpClient client(loopback(peer.port()), std::chrono::milliseconds(300));
  HttpConnection connection(client);
  ASSERT_TRUE(connection.send(get("/fast")).is_ok());
  Result<HttpResponse> slow = connection.send(get("/slow"));
  ASSERT_FALSE(slow.is_ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(slow.status().message(), HasSubstr("timed out after 0.3 s"));
  EXPECT_EQ(peer.requests().size(), 2u);  // the slow request was sent once
  // The timed-out connection was dropped; the next send opens a new one.
  ASSERT_TRUE(connection.send(get("/fast")).is_ok());
  EXPECT_EQ(peer.connections(), 2);
}

TEST(HttpConnectionTest, RefusedIsUnavailable) {
  uint16_t port = 0;
  {
    ScriptedHttpServer gone([](const ScriptedHttpServer::Request&) { return ScriptedReply{}; });
    port = gone.port();
  }
  HttpClient client(loopback(port), std::chrono::seconds(5));
  HttpConnection connection(client);
  Result<HttpResponse> response = connection.send(get("/healthz"));
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("connect"));
}

TEST(HttpClientKeepAliveTest, HttpClientStillClosesAfterEachExchange) {
  ScriptedHttpServer peer([](const ScriptedHttpServer::Request&) { return ScriptedReply{200, "{}"}; });
  HttpClient client(loopback(peer.port()), std::chrono::seconds(5));
  ASSERT_TRUE(client.send(get("/a")).is_ok());
  ASSERT_TRUE(client.send(get("/b")).is_ok());
  EXPECT_EQ(peer.connections(), 2);
  for (const auto& request : peer.requests()) EXPECT_FALSE(request.keep_alive());
}

}  // namespace
}  // namespace plancache::cli

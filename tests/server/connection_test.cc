// Connection handling: keep-alive, pipelining, 100-continue, size limits,
// timeouts, the connection limit and graceful stop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <thread>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Generous bound for "the server closes this connection"; the timeouts
// configured below are far shorter, so only a broken server waits this long.
constexpr milliseconds kCloseBound{5000};

std::string lookup_request(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/plans/lookup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ConnectionTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer server;
  TestClient client(server.port());
  EXPECT_EQ(client.request(verb::put, "/v1/plans", json{{"goal", "g"}, {"plan", 1}}.dump()).status,
            201u);
  for (int i = 0; i < 5; ++i) {
    const auto res = client.request(verb::post, "/v1/plans/lookup", json{{"goal", "g"}}.dump());
    EXPECT_EQ(res.status, 200u);
    EXPECT_TRUE(res.keep_alive);
  }
  const auto stats = client.request(verb::get, "/v1/stats");
  EXPECT_EQ(stats.json()["http"]["accepted_connections"], 1);
}

TEST(ConnectionTest, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  TestClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n" +
                  lookup_request(R"({"goal":"g"})"));
  EXPECT_EQ(client.read_answer().status, 200u);
  EXPECT_EQ(client.read_answer().status, 404u);
  const auto third = client.read_answer();
  EXPECT_EQ(third.status, 404u);
  EXPECT_EQ(third.json()["hit"], false);
}

TEST(ConnectionTest, Http10WithoutKeepAliveIsClosed) {
  TestServer server;
  TestClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  const auto res = client.read_answer();
  EXPECT_EQ(res.status, 200u);
  EXPECT_FALSE(res.keep_alive);
  EXPECT_TRUE(client.closed_by_server(kCloseBound));
}

TEST(ConnectionTest, ExpectContinueGetsA100) {
  TestServer server;
  TestClient client(server.port());
  const std::string body = json{{"goal", "g"}, {"plan", 1}}.dump();
  client.send_raw("PUT /v1/plans HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_THAT(client.read_until("\r\n\r\n"), HasSubstr("100 Continue"));
  client.send_raw(body);
  EXPECT_EQ(client.read_answer().status, 201u);
}

TEST(ConnectionTest, BodyOverTheLimitIs413) {
  auto config = test_config();
  config.max_body_bytes = 1024;
  TestServer server(config);
  {
    TestClient client(server.port());
    client.send_raw("PUT /v1/plans HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n" +
                    std::string(100, 'x'));
    const auto res = client.read_answer();
    EXPECT_THAT(expect_error(res, 413, "resource_exhausted"), HasSubstr("1024"));
    EXPECT_FALSE(res.keep_alive);
    EXPECT_TRUE(client.closed_by_server(kCloseBound));
  }
  {
    // Chunked: no Content-Length to refuse up front.
    TestClient client(server.port());
    client.send_raw(
        "PUT /v1/plans HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "800\r\n" +
        std::string(0x800, 'x') + "\r\n");
    expect_error(client.read_answer(), 413, "resource_exhausted");
  }
  // At the limit is fine.
  const std::string plan(1024 - 30, 'p');
  const std::string body = json{{"goal", "g"}, {"plan", plan}}.dump();
  ASSERT_LE(body.size(), 1024u);
  EXPECT_EQ(server.call(verb::put, "/v1/plans", body).status, 201u);
}

TEST(ConnectionTest, HeaderOverTheLimitIs431) {
  auto config = test_config();
  config.max_header_bytes = 1024;
  TestServer server(config);
  TestClient client(server.port());
  const auto res = client.request(verb::get, "/healthz", "", {{"X-Big", std::string(2000, 'h')}});
  expect_error(res, 431, "resource_exhausted");
}

TEST(ConnectionTest, MalformedHttpIs400) {
  TestServer server;
  for (const char* raw : {"GARBAGE\r\n\r\n", "GET /healthz FTP/1.1\r\n\r\n",
                          "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /v1/plans HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    TestClient client(server.port());
    client.send_raw(raw);
    expect_error(client.read_answer(), 400, "invalid_argument");
  }
}

TEST(ConnectionTest, SlowClientDoesNotBlockOthersAndIsClosedAfterTheReadTimeout) {
  auto config = test_config();
  config.io_threads = 1;  // even with one I/O thread
  config.read_timeout_ms = 300;
  TestServer server(config);
  TestClient slow(server.port());
  slow.send_raw("POST /v1/plans/lookup HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"go");

  TestClient other(server.port());
  EXPECT_EQ(other.request(verb::post, "/v1/plans/lookup", R"({"goal":"g"})").status, 404u);
  EXPECT_EQ(other.request(verb::get, "/healthz").status, 200u);

  EXPECT_TRUE(slow.closed_by_server(kCloseBound));
}

TEST(ConnectionTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  auto config = test_config();
  config.idle_timeout_ms = 200;
  TestServer server(config);
  TestClient client(server.port());
  EXPECT_EQ(client.request(verb::get, "/healthz").status, 200u);
  EXPECT_TRUE(client.closed_by_server(kCloseBound));
  TestClient silent(server.port());
  EXPECT_TRUE(silent.closed_by_server(kCloseBound));
}

TEST(ConnectionTest, ConnectionsOverTheLimitGet503) {
  auto config = test_config();
  config.max_connections = 2;
  TestServer server(config);
  auto first = std::make_unique<TestClient>(server.port());
  TestClient second(server.port());
  EXPECT_EQ(first->request(verb::get, "/healthz").status, 200u);
  EXPECT_EQ(second.request(verb::get, "/healthz").status, 200u);
  {
    TestClient third(server.port());
    const auto res = third.request(verb::get, "/healthz");
    EXPECT_THAT(expect_error(res, 503, "unavailable"), HasSubstr("too many connections"));
    EXPECT_TRUE(third.closed_by_server(kCloseBound));
  }
  // Closing one frees its slot (bounded poll: the server sees the close
  // asynchronously).
  first.reset();
  unsigned status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    if (attempt != 0) std::this_thread::sleep_for(milliseconds(10));
    TestClient again(server.port());
    status = again.request(verb::get, "/healthz").status;
  }
  EXPECT_EQ(status, 200u);
  EXPECT_GE(second.request(verb::get, "/v1/stats").json()["http"]["rejected_connections"], 1);
}

TEST(ConnectionTest, GracefulStopFinishesTheRequestInProgress) {
  TestServer server;
  TestClient idle(server.port());
  EXPECT_EQ(idle.request(verb::get, "/healthz").status, 200u);
  TestClient busy(server.port());
  EXPECT_EQ(busy.request(verb::get, "/healthz").status, 200u);  // session exists

  const std::string body = R"({"goal":"in flight"})";
  const std::string request = lookup_request(body);
  const size_t half = request.size() - body.size() / 2;
  busy.send_raw(request.substr(0, half));
  server.server().request_stop();
  server.server().request_stop();  // idempotent
  busy.send_raw(request.substr(half));
  const auto res = busy.read_answer();
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(res.json()["hit"], false);
  EXPECT_FALSE(res.keep_alive);
  EXPECT_TRUE(busy.closed_by_server(kCloseBound));
  EXPECT_TRUE(idle.closed_by_server(kCloseBound));
  server.server().wait();

  // Nothing listens any more.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  boost::beast::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()}, ec);
  EXPECT_TRUE(ec);
}

TEST(ConnectionTest, ReadyzAnswers503OnceStopping) {
  TestServer server;
  TestClient client(server.port());
  EXPECT_EQ(client.request(verb::get, "/readyz").status, 200u);
  client.send_raw("GET /readyz HTTP/1.1\r\nHost: t\r\n");  // header not finished yet
  server.server().request_stop();
  client.send_raw("\r\n");
  expect_error(client.read_answer(), 503, "unavailable");
}

}  // namespace
}  // namespace plancache::testing

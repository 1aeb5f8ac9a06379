// HttpClient against scripted peers on 127.0.0.1: what it sends, how it reads
// any status, and that its timeout bounds a server that never answers.
#include "cli/http_client.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace plancache::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

// Accepts one connection on an ephemeral loopback port, records the request,
// answers with `status` and `body` — or, given raw text, writes that as the
// answer and waits for the client to close.
class OneShotServer {
 public:
  OneShotServer(http::status status, std::string body)
      : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, status, body = std::move(body)] {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      if (!accept_request(socket)) return;
      http::response<http::string_body> res{status, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = body;
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    });
  }
  explicit OneShotServer(std::string raw_answer)
      : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, raw = std::move(raw_answer)] {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      if (!accept_request(socket)) return;
      asio::write(socket, asio::buffer(raw), ec);
      char byte = 0;
      socket.read_some(asio::buffer(&byte, 1), ec);  // until the client closes
    });
  }
  ~OneShotServer() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // REQUIRES: join() returned.
  const http::request<http::string_body>& request() const { return request_; }

 private:
  bool accept_request(tcp::socket& socket) {
    beast::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return false;
    beast::flat_buffer buffer;
    http::read(socket, buffer, request_, ec);
    return !ec;
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  http::request<http::string_body> request_;
  std::thread thread_;
};

ServerUrl loopback(uint16_t port, std::string base = "") {
  ServerUrl url;
  url.host = "127.0.0.1";
  url.port = port;
  url.base_path = std::move(base);
  return url;
}

TEST(HttpClientTest, SendsMethodPathHeadersAndBody) {
  OneShotServer server(http::status::created, R"({"key":"abc"})");
  HttpClient client(loopback(server.port(), "/base"), std::chrono::seconds(5));
  HttpRequest request;
  request.method = HttpMethod::kPut;
  request.path = "/v1/plans";
  request.body = R"({"goal":"g"})";
  request.bearer_token = "s3cret";
  Result<HttpResponse> response = client.send(request);
  server.join();
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"key":"abc"})");
  EXPECT_EQ(response->content_type, "application/json");
  const auto& seen = server.request();
  EXPECT_EQ(seen.method(), http::verb::put);
  EXPECT_EQ(seen.target(), "/base/v1/plans");
  EXPECT_EQ(seen[http::field::authorization], "Bearer s3cret");
  EXPECT_EQ(seen[http::field::content_type], "application/json");
  EXPECT_EQ(seen[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.body(), R"({"goal":"g"})");
}

TEST(HttpClientTest, ErrorStatusIsAnAnswerNotAFailure) {
  OneShotServer server(http::status::not_found, R"({"error":{"code":"not_found","message":"x"}})");
  HttpClient client(loopback(server.port()), std::chrono::seconds(5));
  Result<HttpResponse> response = client.send({HttpMethod::kGet, "/v1/nope", "", ""});
  server.join();
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_FALSE(server.request().count(http::field::authorization));
}

TEST(HttpClientTest, ContentLengthOverTheLimitIsRefusedBeforeTheBody) {
  // The header and the first body bytes arrive together, the rest never:
  // only refusing the Content-Length fails this send before its 30 s timeout.
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: " +
                       std::to_string(HttpClient::kMaxResponseBytes + 1) + "\r\n\r\n{\"x\":");
  HttpClient client(loopback(server.port()), std::chrono::seconds(30));
  Result<HttpResponse> response = client.send({HttpMethod::kGet, "/v1/stats", "", ""});
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(),
              HasSubstr("larger than " + std::to_string(HttpClient::kMaxResponseBytes)));
}

TEST(HttpClientTest, TimesOutWhenTheServerNeverAnswers) {
  // The kernel completes the handshake (backlog), but nobody ever reads.
  asio::io_context ioc;
  tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  HttpClient client(loopback(silent.local_endpoint().port()), std::chrono::milliseconds(200));
  Result<HttpResponse> response = client.send({HttpMethod::kGet, "/v1/stats", "", ""});
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(response.status().message(), HasSubstr("timed out after 0.2 s"));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor released(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = released.local_endpoint().port();
  }
  HttpClient client(loopback(port), std::chrono::seconds(5));
  Result<HttpResponse> response = client.send({HttpMethod::kGet, "/healthz", "", ""});
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("connect"));
}

}  // namespace
}  // namespace plancache::cli

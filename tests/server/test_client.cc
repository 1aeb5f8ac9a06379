#include "test_client.h"

#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>

namespace plancache::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;

}  // namespace

template <typename Start>
beast::error_code TestClient::run(Start&& start, std::chrono::milliseconds timeout) {
  beast::error_code result = net::error::would_block;
  stream_.expires_after(timeout);
  start([&result](beast::error_code ec, size_t) { result = ec; });
  ioc_.restart();
  ioc_.run();
  if (result) failed_ = true;
  return result;
}

TestClient::TestClient(uint16_t port, std::chrono::milliseconds timeout)
    : stream_(ioc_), timeout_(timeout) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  beast::error_code result = net::error::would_block;
  stream_.expires_after(timeout_);
  stream_.async_connect(endpoint, [&result](beast::error_code ec) { result = ec; });
  ioc_.run();
  EXPECT_FALSE(result) << "connect: " << result.message();
  failed_ = static_cast<bool>(result);
}

HttpAnswer TestClient::request(http::verb method, std::string_view target, std::string_view body,
                               std::map<std::string, std::string> headers) {
  http::request<http::string_body> req(method, std::string(target), 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.keep_alive(true);
  if (!body.empty() || method == http::verb::put || method == http::verb::post) {
    req.prepare_payload();
  }
  const auto ec = run([&](auto handler) { http::async_write(stream_, req, handler); }, timeout_);
  EXPECT_FALSE(ec) << "write: " << ec.message();
  return read_answer();
}

void TestClient::send_raw(std::string_view bytes) {
  const auto ec = run(
      [&](auto handler) {
        net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
      },
      timeout_);
  EXPECT_FALSE(ec) << "write: " << ec.message();
}

HttpAnswer TestClient::read_answer() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  const auto ec =
      run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); }, timeout_);
  EXPECT_FALSE(ec) << "read: " << ec.message();
  HttpAnswer answer;
  if (ec) return answer;
  const auto& res = parser.get();
  answer.status = res.result_int();
  answer.body = res.body();
  answer.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    answer.headers[std::string(field.name_string())] = std::string(field.value());
  }
  return answer;
}

std::string TestClient::read_until(std::string_view marker) {
  std::string data;
  const auto ec = run(
      [&](auto handler) {
        net::async_read_until(stream_, net::dynamic_buffer(data), std::string(marker), handler);
      },
      timeout_);
  EXPECT_FALSE(ec) << "read: " << ec.message();
  return data;
}

bool TestClient::closed_by_server(std::chrono::milliseconds timeout) {
  char byte = 0;
  beast::error_code result = net::error::would_block;
  if (buffer_.size() != 0) return false;
  stream_.expires_after(timeout);
  stream_.async_read_some(net::buffer(&byte, 1),
                          [&result](beast::error_code ec, size_t) { result = ec; });
  ioc_.restart();
  ioc_.run();
  return result == net::error::eof || result == net::error::connection_reset;
}

}  // namespace plancache::testing

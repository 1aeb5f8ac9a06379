#include "server/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace plancache::internal {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using net::ip::tcp;

// Pause before accepting again after an accept error (e.g. out of file
// descriptors), so that the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{50};

}  // namespace

Listener::Listener(net::io_context& ioc, std::vector<IoWorker*> workers, Service& service,
                   spdlog::logger& logger)
    : acceptor_(ioc),
      retry_timer_(ioc),
      workers_(std::move(workers)),
      service_(service),
      logger_(logger) {}

Result<std::shared_ptr<Listener>> Listener::open(const tcp::endpoint& endpoint,
                                                 std::vector<IoWorker*> workers, Service& service,
                                                 spdlog::logger& logger) {
  net::io_context& ioc = workers.front()->ioc;
  auto listener = std::make_shared<Listener>(ioc, std::move(workers), service, logger);
  beast::error_code ec;
  const auto fail = [&](std::string_view what) {
    return Status::unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + std::string(what) + ": " +
                               ec.message());
  };
  tcp::acceptor& acceptor = listener->acceptor_;
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen");
  listener->port_ = acceptor.local_endpoint(ec).port();
  if (ec) return fail("getsockname");
  return listener;
}

void Listener::start() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::accept() {
  if (!acceptor_.is_open()) return;
  IoWorker* worker = workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_.async_accept(worker->ioc,
                         [self = shared_from_this(), worker](beast::error_code ec, Socket socket) {
                           self->on_accept(worker, ec, std::move(socket));
                         });
}

void Listener::on_accept(IoWorker* worker, beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    logger_.warn("accept failed: {}; retrying", ec.message());
    retry_timer_.expires_after(kAcceptRetry);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e) self->accept();
    });
    return;
  }
  ServiceState& state = service_.state();
  if (state.draining.load(std::memory_order_relaxed)) return;  // socket closes here
  const bool slot = state.http.try_open_connection(state.config.max_connections);
  auto session = std::make_shared<HttpSession>(std::move(socket), service_, worker->sessions, slot);
  net::post(worker->ioc, [session] { session->start(); });
  accept();
}

}  // namespace plancache::internal

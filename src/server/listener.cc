#include "server/listener.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <string>
#include <string_view>

namespace plancache::internal {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using net::ip::tcp;

// Pause before accepting again after an accept error (e.g. out of file
// descriptors), so that the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr std::chrono::seconds kWarnInterval{10};
// Connections answered per EMFILE episode before the loop yields.
constexpr int kMaxShedPerEpisode = 64;

// The whole answer to a connection shed for want of descriptors.
const std::string& out_of_descriptors_answer() {
  static const std::string answer = [] {
    const std::string body =
        R"j({"error":{"code":"unavailable","message":"too many connections (out of file descriptors)"}})j"
        "\n";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return answer;
}

int open_spare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == net::error::no_descriptors || ec == std::errc::too_many_files_open_in_system;
}

}  // namespace

Listener::Listener(net::io_context& ioc, std::vector<IoWorker*> workers, const SessionEnv& env,
                   uint32_t max_connections, spdlog::logger& logger)
    : acceptor_(ioc),
      retry_timer_(ioc),
      workers_(std::move(workers)),
      env_(env),
      max_connections_(max_connections),
      logger_(logger),
      spare_fd_(open_spare()) {}

Listener::~Listener() {
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

Result<std::shared_ptr<Listener>> Listener::open(const tcp::endpoint& endpoint,
                                                 std::vector<IoWorker*> workers,
                                                 const SessionEnv& env, uint32_t max_connections,
                                                 spdlog::logger& logger) {
  net::io_context& ioc = workers.front()->ioc;
  auto listener = std::make_shared<Listener>(ioc, std::move(workers), env, max_connections, logger);
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
  // Synchronous accepts (shed_waiting_connections) must never block.
  if (acceptor.non_blocking(true, ec)) return fail("fcntl");
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

uint64_t Listener::shed_waiting_connections() {
  const std::string& answer = out_of_descriptors_answer();
  uint64_t shed = 0;
  for (int i = 0; i < kMaxShedPerEpisode; ++i) {
    if (spare_fd_ >= 0) ::close(spare_fd_);
    beast::error_code ec;
    tcp::socket socket(acceptor_.get_executor());
    acceptor_.accept(socket, ec);  // non-blocking: would_block when none waits
    if (!ec) {
      const int fd = socket.native_handle();
      // Best effort: the answer fits any socket buffer; what the client sent
      // is read first so that closing does not reset the connection under
      // the answer.
      char sink[4096];
      while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
      (void)::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      socket.close(ignored);
      env_.counters.count_rejected();
      ++shed;
    }
    spare_fd_ = open_spare();
    if (ec || spare_fd_ < 0) break;  // nothing waiting, or still no room
  }
  return shed;
}

void Listener::warn_accept_failed(const beast::error_code& ec, uint64_t shed) {
  ++unwarned_failures_;
  unwarned_shed_ += shed;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_warning_ < kWarnInterval) return;
  logger_.warn("accept failed {} times since the last warning ({}); {} connections answered 503 "
               "for want of file descriptors",
               unwarned_failures_, ec.message(), unwarned_shed_);
  last_warning_ = now;
  unwarned_failures_ = 0;
  unwarned_shed_ = 0;
}

void Listener::on_accept(IoWorker* worker, beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    const uint64_t shed = out_of_descriptors(ec) ? shed_waiting_connections() : 0;
    warn_accept_failed(ec, shed);
    retry_timer_.expires_after(kAcceptRetry);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e) self->accept();
    });
    return;
  }
  if (env_.draining.is_set()) return;  // socket closes here
  const bool slot = env_.counters.try_open_connection(max_connections_);
  auto session = std::make_shared<HttpSession>(std::move(socket), env_, worker->sessions, slot);
  net::post(worker->ioc, [session] { session->start(); });
  accept();
}

}  // namespace plancache::internal

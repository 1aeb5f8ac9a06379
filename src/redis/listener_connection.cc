#include "redis/listener_connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace plancache::internal {
namespace {

int poll_timeout_ms(ListenerConnection::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - ListenerConnection::Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 60'000));
}

}  // namespace

Status ListenerConnection::error(const std::string& what) const {
  std::string why = what;
  if (ctx_ != nullptr && ctx_->err != 0 && ctx_->errstr[0] != '\0')
    why += ": " + std::string(ctx_->errstr);
  return Status::unavailable("redis listener " + node_.text() + ": " + why);
}

bool ListenerConnection::stopped() const {
  pollfd p{stop_fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

Result<bool> ListenerConnection::wait(short events, Clock::time_point deadline) {
  while (true) {
    pollfd fds[2] = {{ctx_->fd, events, 0}, {stop_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, poll_timeout_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error(std::string("poll: ") + std::strerror(errno));
    if ((fds[1].revents & POLLIN) != 0) return error("stopped");
    if (n == 0) return Clock::now() >= deadline ? false : true;
    return true;
  }
}

Result<std::unique_ptr<ListenerConnection>> ListenerConnection::open(
    const RedisEndpoint& node, std::chrono::milliseconds timeout, int stop_fd) {
  std::signal(SIGPIPE, SIG_IGN);
  RedisContextPtr ctx(redisConnectNonBlock(node.host.c_str(), node.port));
  if (ctx == nullptr || ctx->err != 0) {
    return Status::unavailable("redis listener " + node.text() +
                               ": connect failed: " + (ctx ? ctx->errstr : "out of memory"));
  }
  std::unique_ptr<ListenerConnection> conn(new ListenerConnection(node, std::move(ctx), stop_fd));
  auto ready = conn->wait(POLLOUT, Clock::now() + timeout);
  if (!ready.is_ok()) return ready.status();
  int err = 0;
  socklen_t len = sizeof(err);
  if (!*ready) return conn->error("connect timed out");
  if (::getsockopt(conn->ctx_->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    return conn->error(std::string("connect failed: ") + std::strerror(err != 0 ? err : errno));
  }
  (void)redisEnableKeepAlive(conn->ctx_.get());
  return conn;
}

Status ListenerConnection::send(const RedisArgs& args, Clock::time_point deadline) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    return error("cannot format command");
  }
  int done = 0;
  while (true) {
    if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) return error("write failed");
    if (done != 0) return Status::ok();
    auto ready = wait(POLLOUT, deadline);
    if (!ready.is_ok()) return ready.status();
    if (!*ready) return error("write timed out");
  }
}

Result<std::optional<RedisReply>> ListenerConnection::next_reply(Clock::time_point deadline) {
  while (true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) return error("protocol error");
    if (raw != nullptr) {
      RedisReply reply = convert_redis_reply(*static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      return std::optional<RedisReply>(std::move(reply));
    }
    auto ready = wait(POLLIN, deadline);
    if (!ready.is_ok()) return ready.status();
    if (!*ready) return std::optional<RedisReply>();
    if (redisBufferRead(ctx_.get()) != REDIS_OK) return error("read failed");
  }
}

Result<RedisReply> ListenerConnection::call(const RedisArgs& args,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  PLANCACHE_RETURN_IF_ERROR(send(args, deadline));
  auto reply = next_reply(deadline);
  if (!reply.is_ok()) return reply.status();
  if (!reply->has_value()) return error(args.front() + " timed out");
  return std::move(**reply);
}

}  // namespace plancache::internal

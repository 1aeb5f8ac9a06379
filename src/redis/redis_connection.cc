// Blocking hiredis connections. Every failure path frees the context: a
// hiredis 0.14 context that saw a timeout may still have half a reply in
// flight, so reusing it could pair a later command with an earlier reply.
#include "redis/redis_connection.h"

#include <cerrno>
#include <csignal>
#include <mutex>

namespace plancache::internal {
namespace {

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

std::string context_error(const redisContext* c, const char* fallback) {
  if (c == nullptr) return fallback;
  if (c->err == REDIS_ERR_IO && c->errstr[0] == '\0') return fallback;
  return c->errstr[0] != '\0' ? std::string(c->errstr) : std::string(fallback);
}

}  // namespace

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply convert_redis_reply(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        out.elements.push_back(convert_redis_reply(*reply.element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

bool redis_error_is(const RedisReply& reply, std::string_view word) {
  if (!reply.is_error() || reply.str.size() < word.size()) return false;
  if (reply.str.compare(0, word.size(), word) != 0) return false;
  return reply.str.size() == word.size() || reply.str[word.size()] == ' ';
}

Result<RedisContextPtr> connect_redis_context(const RedisEndpoint& node,
                                              std::chrono::milliseconds connect_timeout,
                                              std::chrono::milliseconds command_timeout) {
  ignore_sigpipe_once();
  RedisContextPtr ctx(
      redisConnectWithTimeout(node.host.c_str(), node.port, to_timeval(connect_timeout)));
  if (ctx == nullptr || ctx->err != 0) {
    return Status::unavailable("redis " + node.text() +
                               ": connect failed: " + context_error(ctx.get(), "out of memory"));
  }
  if (redisSetTimeout(ctx.get(), to_timeval(command_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(ctx.get()) != REDIS_OK) {
    return Status::unavailable("redis " + node.text() + ": cannot set socket options: " +
                               context_error(ctx.get(), "setsockopt failed"));
  }
  return ctx;
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(
    const RedisEndpoint& node, const RedisAuth& auth, std::chrono::milliseconds connect_timeout,
    std::chrono::milliseconds command_timeout) {
  auto ctx = connect_redis_context(node, connect_timeout, command_timeout);
  if (!ctx.is_ok()) return ctx.status();
  std::unique_ptr<RedisConnection> conn(new RedisConnection(node, std::move(ctx.value())));
  if (!auth.password.empty()) {
    RedisArgs args{"AUTH"};
    if (!auth.user.empty()) args.push_back(auth.user);
    args.push_back(auth.password);
    auto reply = conn->run_one(args);
    if (!reply.is_ok()) return reply.status();
    if (reply->is_error()) {
      return Status::unauthenticated("redis " + node.text() + ": AUTH" +
                                     (auth.user.empty() ? "" : " as user '" + auth.user + "'") +
                                     " failed: " + reply->str);
    }
  }
  if (auth.db != 0) {
    auto reply = conn->run_one({"SELECT", std::to_string(auth.db)});
    if (!reply.is_ok()) return reply.status();
    if (reply->is_error()) {
      return Status::invalid_argument("redis " + node.text() + ": SELECT " +
                                      std::to_string(auth.db) + " failed: " + reply->str);
    }
  }
  return conn;
}

Status RedisConnection::fail(const char* what) {
  broken_ = true;
  std::string why = context_error(ctx_.get(), "connection error");
  if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    why = "timed out";
  }
  return Status::unavailable("redis " + node_.text() + ": " + what + ": " + why);
}

Result<std::vector<RedisReply>> RedisConnection::run(
    const std::vector<const RedisArgs*>& commands) {
  if (broken_) return Status::unavailable("redis " + node_.text() + ": connection is broken");
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const RedisArgs* args : commands) {
    argv.clear();
    lens.clear();
    for (const std::string& a : *args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
      return fail("cannot format command");
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
      return fail("command failed");
    }
    const auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(convert_redis_reply(*reply));
    freeReplyObject(raw);
  }
  return replies;
}

Result<RedisReply> RedisConnection::run_one(const RedisArgs& args) {
  auto replies = run({&args});
  if (!replies.is_ok()) return replies.status();
  return std::move(replies->front());
}

}  // namespace plancache::internal

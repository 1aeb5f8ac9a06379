#include "server/access_log.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "server/errors.h"

namespace plancache::internal {
namespace {

uint64_t threshold_for(double sample) {
  if (sample >= 1.0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(std::ldexp(sample, 64));
}

// {"t":..,"ns":"..","key":"..","op":"..": namespace and key id need no
// escaping (both are validated to a JSON-safe alphabet at the edge; a user
// key of /v1/entries is quoted).
std::string line_head(const Clock& clock, const CacheKey& key, std::string_view op) {
  std::string out = R"({"t":)";
  out += std::to_string(clock.now_ms());
  out += R"(,"ns":")";
  out += key.ns();
  out += R"(","key":)";
  append_json_quoted(out, key.id());
  out += R"(,"op":")";
  out += op;
  out += '"';
  return out;
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::open(AccessLogOptions options) {
  std::FILE* file = std::fopen(options.path.c_str(), "ab");
  if (file == nullptr) {
    return Status::invalid_argument("--access-log: cannot open '" + options.path +
                               "': " + std::strerror(errno));
  }
  std::fseek(file, 0, SEEK_END);
  const long size = std::ftell(file);
  return std::unique_ptr<AccessLog>(
      new AccessLog(std::move(options), file, size > 0 ? static_cast<uint64_t>(size) : 0));
}

AccessLog::AccessLog(AccessLogOptions options, std::FILE* file, uint64_t size)
    : options_(std::move(options)),
      threshold_(threshold_for(options_.sample)),
      file_(file),
      file_bytes_(size),
      writer_([this] { write_loop(); }) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  if (file_ != nullptr) std::fclose(file_);
}

void AccessLog::record_get(const CacheKey& key, const Entry* found) {
  if (!sampled(key)) return;
  std::string line = line_head(*options_.clock, key, "get");
  if (found == nullptr) {
    line += R"(,"hit":false})";
  } else {
    line += R"(,"hit":true,"size":)";
    line += std::to_string(found->value->size());
    line += R"(,"cost_ms":)";
    line += std::to_string(found->meta.compute_ms);
    line += '}';
  }
  enqueue(std::move(line));
}

void AccessLog::record_put(const CacheKey& key, uint64_t size, uint32_t compute_ms) {
  if (!sampled(key)) return;
  std::string line = line_head(*options_.clock, key, "put");
  line += R"(,"size":)";
  line += std::to_string(size);
  line += R"(,"cost_ms":)";
  line += std::to_string(compute_ms);
  line += '}';
  enqueue(std::move(line));
}

void AccessLog::enqueue(std::string line) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_queued_lines) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(line));
  }
  cv_.notify_one();
}

void AccessLog::write_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::deque<std::string> batch;
    batch.swap(queue_);
    lock.unlock();
    for (const std::string& line : batch) write_line(line);
    if (file_ != nullptr) std::fflush(file_);
    lock.lock();
  }
}

void AccessLog::write_line(const std::string& line) {
  if (file_ != nullptr && file_bytes_ + line.size() + 1 > options_.max_bytes && file_bytes_ > 0) {
    rotate();
  }
  if (file_ == nullptr || std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fputc('\n', file_) == EOF) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  file_bytes_ += line.size() + 1;
  lines_.fetch_add(1, std::memory_order_relaxed);
}

// FILE -> FILE.1 (replacing the older one), then a fresh FILE.
void AccessLog::rotate() {
  std::fclose(file_);
  const std::string older = options_.path + ".1";
  if (std::rename(options_.path.c_str(), older.c_str()) != 0) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
  }
  file_ = std::fopen(options_.path.c_str(), "ab");
  file_bytes_ = 0;
  rotations_.fetch_add(1, std::memory_order_relaxed);
}

AccessLogStats AccessLog::stats() const {
  AccessLogStats s;
  s.lines = lines_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.rotations = rotations_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace plancache::internal

#include "python/flight_errors.h"

#include <charconv>
#include <string_view>

namespace plancache::internal {
namespace {

// Ends the message of a flight failed by keep(); the id follows.
constexpr std::string_view kMarker = " (python exception #";

// The id in a status keep() made, or 0.
uint64_t kept_id(const Status& status) {
  if (status.code() != StatusCode::kBadGateway) return 0;
  const std::string& m = status.message();
  const size_t at = m.rfind(kMarker);
  if (at == std::string::npos) return 0;
  uint64_t id = 0;
  const char* first = m.data() + at + kMarker.size();
  auto [end, ec] = std::from_chars(first, m.data() + m.size(), id);
  return ec == std::errc() && end != first && *end == ')' ? id : 0;
}

}  // namespace

FlightErrors::Seat::Seat(FlightErrors& errors, std::string key)
    : errors_(errors), key_(std::move(key)) {
  std::lock_guard lock(errors_.mu_);
  ++errors_.slots_[key_].seats;
}

FlightErrors::Seat::~Seat() {
  Slot dropped;  // released after the lock (see the header comment)
  std::lock_guard lock(errors_.mu_);
  auto it = errors_.slots_.find(key_);
  if (it == errors_.slots_.end() || --it->second.seats != 0) return;
  dropped = std::move(it->second);
  errors_.slots_.erase(it);
}

std::optional<py::error_already_set> FlightErrors::Seat::exception(const Status& failure) const {
  const uint64_t id = kept_id(failure);
  if (id == 0) return std::nullopt;
  std::lock_guard lock(errors_.mu_);
  auto it = errors_.slots_.find(key_);
  if (it == errors_.slots_.end()) return std::nullopt;
  for (const auto& [kept, error] : it->second.raised) {
    if (kept == id) return error;
  }
  return std::nullopt;
}

Status FlightErrors::keep(const std::string& key, py::error_already_set error) {
  const std::string type = py::str(error.type().attr("__name__"));
  std::lock_guard lock(mu_);
  const uint64_t id = ++last_id_;
  auto it = slots_.find(key);
  if (it != slots_.end()) it->second.raised.emplace_back(id, std::move(error));
  return Status::bad_gateway("the compute function raised " + type + std::string(kMarker) +
                             std::to_string(id) + ")");
}

}  // namespace plancache::internal

#include "tiers/redis/shared_meta.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/selector_match.h"

namespace plancache::internal {
namespace {

constexpr char kMagic[4] = {'P', 'C', 'R', '1'};

// KEYS[1] = generation, KEYS[2] = log; ARGV[1] = predicate ("" = bump),
// ARGV[2] = the longest log. A full log folds into a bump.
constexpr std::string_view kRecordScript = R"lua(
if ARGV[1] == '' or redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[1])
  redis.call('DEL', KEYS[2])
  return 0
end
return redis.call('RPUSH', KEYS[2], ARGV[1])
)lua";

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t parse_generation(const RedisReply& r) {
  if (!r.is_string()) return 0;
  try {
    return std::stoull(r.str);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string encode_redis_value(const EntryHeader& h, std::string_view envelope) {
  std::string out;
  out.reserve(kEntryHeaderBytes + envelope.size());
  out.append(kMagic, 4);
  put_u64(out, h.global_generation);
  put_u64(out, h.global_log_length);
  put_u64(out, h.ns_generation);
  put_u64(out, h.ns_log_length);
  out.append(envelope);
  return out;
}

std::optional<EntryHeader> decode_redis_header(std::string_view value) {
  if (value.size() < kEntryHeaderBytes || std::memcmp(value.data(), kMagic, 4) != 0) {
    return std::nullopt;
  }
  const char* p = value.data() + 4;
  EntryHeader h;
  h.global_generation = get_u64(p);
  h.global_log_length = get_u64(p + 8);
  h.ns_generation = get_u64(p + 16);
  h.ns_log_length = get_u64(p + 24);
  if (h.global_log_length > kMaxLogLength || h.ns_log_length > kMaxLogLength) return std::nullopt;
  return h;
}

std::string encode_predicate(const Selector& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.tag) j["tag"] = *s.tag;
  if (s.prefix) j["prefix"] = *s.prefix;
  if (s.pattern) j["pattern"] = *s.pattern;
  if (s.created_before_ms) j["before_ms"] = *s.created_before_ms;
  return j.dump();
}

std::optional<Selector> decode_predicate(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.empty()) return std::nullopt;
  Selector s;
  for (const auto& [field, value] : j.items()) {
    if (field == "before_ms" && value.is_number_integer()) {
      s.created_before_ms = value.get<int64_t>();
    } else if (!value.is_string()) {
      return std::nullopt;
    } else if (field == "tag") {
      s.tag = value.get<std::string>();
    } else if (field == "prefix") {
      s.prefix = value.get<std::string>();
    } else if (field == "pattern") {
      s.pattern = value.get<std::string>();
    } else {
      return std::nullopt;
    }
  }
  if (!validate_selector(s).is_ok()) return std::nullopt;
  return s;
}

Validity check_entry(const EntryHeader& h, const MetaView& global, const MetaView& ns,
                     const CacheKey& key, const EntryMeta& meta) {
  if (h.global_generation > global.generation || h.ns_generation > ns.generation ||
      (h.global_generation == global.generation && h.global_log_length > global.log.size()) ||
      (h.ns_generation == ns.generation && h.ns_log_length > ns.log.size())) {
    return Validity::kViewBehind;
  }
  if (h.global_generation != global.generation || h.ns_generation != ns.generation) {
    return Validity::kInvalid;
  }
  for (size_t i = h.global_log_length; i < global.log.size(); ++i) {
    if (selector_matches(global.log[i], key, meta)) return Validity::kInvalid;
  }
  for (size_t i = h.ns_log_length; i < ns.log.size(); ++i) {
    if (selector_matches(ns.log[i], key, meta)) return Validity::kInvalid;
  }
  return Validity::kValid;
}

Result<MetaView> SharedMeta::fetch(std::string_view ns) {
  const std::string gen_key = keys_.generation(ns);
  auto replies = client_.pipeline(
      gen_key, {{"GET", gen_key}, {"LRANGE", keys_.log(ns), "0", std::to_string(kMaxLogLength)}});
  if (!replies.is_ok()) return unreachable(replies.status());
  if (replies->size() != 2 || (*replies)[1].type != RedisReply::Type::kArray) {
    return Status::unavailable("unexpected reply reading the shared tier's invalidation state");
  }
  MetaView view;
  view.generation = parse_generation((*replies)[0]);
  for (const RedisReply& item : (*replies)[1].elements) {
    std::optional<Selector> s = item.is_string() ? decode_predicate(item.str) : std::nullopt;
    // A predicate this build cannot read matches everything: never too little.
    view.log.push_back(s ? std::move(*s) : Selector{});
  }
  return view;
}

Result<std::shared_ptr<const MetaView>> SharedMeta::view(std::string_view ns, bool refetch) {
  uint64_t forgets_before = 0, all_before = 0;
  {
    std::lock_guard lock(mu_);
    if (!refetch) {
      if (auto it = cached_.find(ns); it != cached_.end()) return it->second;
    }
    auto f = forgets_.find(ns);
    forgets_before = f == forgets_.end() ? 0 : f->second;
    all_before = forget_all_count_;
  }
  auto fetched = fetch(ns);
  if (!fetched.is_ok()) return fetched.status();
  auto view = std::make_shared<const MetaView>(std::move(fetched).value());
  std::lock_guard lock(mu_);
  auto f = forgets_.find(ns);
  const uint64_t forgets_now = f == forgets_.end() ? 0 : f->second;
  // A forget() since the fetch began: the fetch may predate the change.
  if (forgets_now == forgets_before && forget_all_count_ == all_before) {
    cached_[std::string(ns)] = view;
    applied_.try_emplace(std::string(ns), *view);
  }
  return view;
}

Status SharedMeta::record(const Selector& selector) {
  const std::string ns = selector.ns ? *selector.ns : std::string(kGlobalMeta);
  Selector predicate = selector;
  predicate.ns.reset();
  const std::string text = predicate.empty() ? "" : encode_predicate(predicate);
  const std::string gen_key = keys_.generation(ns);
  auto reply = client_.command(gen_key, {"EVAL", std::string(kRecordScript), "2", gen_key,
                                         keys_.log(ns), text, std::to_string(kMaxLogLength)});
  if (!reply.is_ok()) return unreachable(reply.status());
  if (reply->is_error()) return Status::unavailable("shared tier refused an invalidation: " + reply->str);
  forget(ns);
  return Status::ok();
}

void SharedMeta::forget(std::string_view ns) {
  std::lock_guard lock(mu_);
  if (auto it = cached_.find(ns); it != cached_.end()) cached_.erase(it);
  ++forgets_[std::string(ns)];
}

void SharedMeta::forget_all() {
  std::lock_guard lock(mu_);
  cached_.clear();
  applied_.clear();
  ++forget_all_count_;
}

Result<SharedMeta::Changes> SharedMeta::refresh(std::string_view ns) {
  auto fetched = fetch(ns);
  if (!fetched.is_ok()) return fetched.status();
  std::lock_guard lock(mu_);
  Changes changes;
  auto it = applied_.find(ns);
  if (it == applied_.end() || it->second.generation != fetched->generation ||
      it->second.log.size() > fetched->log.size()) {
    changes.whole = true;
  } else {
    for (size_t i = it->second.log.size(); i < fetched->log.size(); ++i) {
      if (fetched->log[i].empty()) changes.whole = true;
      changes.added.push_back(fetched->log[i]);
    }
  }
  applied_[std::string(ns)] = *fetched;
  return changes;
}

}  // namespace plancache::internal

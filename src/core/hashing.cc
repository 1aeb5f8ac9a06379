#include "core/hashing.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace plancache::internal {
namespace {

// The SHA-256 implementation, fetched once: an explicit fetch avoids
// OpenSSL 3's per-call implicit lookup of EVP_sha256(). Deliberately never
// freed: one object for the life of the process (still reachable, so leak
// checkers do not report it).
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

// One digest context per thread, reused: allocating one per call costs about
// as much as hashing a short key.
EVP_MD_CTX* thread_digest_context() {
  thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                                       EVP_MD_CTX_free);
  return ctx.get();
}

[[noreturn]] void sha256_failed() {
  // Only possible when OpenSSL itself is broken (no SHA-256 provider, out of
  // memory): keys would be meaningless, so stop rather than serve wrong entries.
  std::fputs("plancache: OpenSSL SHA-256 failed\n", stderr);
  std::abort();
}

}  // namespace

std::string hex_encode(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX* ctx = thread_digest_context();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32) {
    sha256_failed();
  }
  return hex_encode(md, md_len);
}

std::string xxh3_128_hex(std::string_view data) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(data.data(), data.size()));
  return hex_encode(canonical.digest, sizeof(canonical.digest));
}

uint64_t xxh3_64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

}  // namespace plancache::internal

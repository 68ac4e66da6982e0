#include "components/access/hmac.h"

#include "components/dedup/hash/sha256.h"

namespace doppel::access {

using dedup::Sha256;

std::string hmac_sha256(std::string_view key, std::string_view message) {
  auto as_text = [](const Sha256::Digest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  };
  std::string k = key.size() > Sha256::kBlockBytes ? as_text(Sha256::of(key)) : std::string(key);
  k.resize(Sha256::kBlockBytes, '\0');
  std::string inner_pad(k), outer_pad(k);
  for (char& c : inner_pad) c = static_cast<char>(c ^ 0x36);
  for (char& c : outer_pad) c = static_cast<char>(c ^ 0x5c);
  Sha256 inner;
  inner.update(inner_pad);
  inner.update(message);
  const std::string inner_digest = as_text(inner.finish());
  Sha256 outer;
  outer.update(outer_pad);
  outer.update(inner_digest);
  return as_text(outer.finish());
}

bool same_bytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace doppel::access

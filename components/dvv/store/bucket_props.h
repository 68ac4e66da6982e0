#pragma once
// Bucket properties, as Riak's: n_val (replicas), allow_mult (keep siblings;
// off: last write wins), the clock kind (dvvset or the pruned-vv baseline),
// and the default quorums r, w, pr, pw, dw. "quorum" is n_val/2 + 1.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "components/dvv/clock/object_clock.h"
#include "runtime/result.h"

namespace doppel::dvv {

struct BucketProps {
  static constexpr std::uint32_t kQuorum = 0xffffffffu;  // "quorum"
  static constexpr std::uint32_t kNValMax = 16;

  std::uint32_t n_val = 3;
  bool allow_mult = true;
  ClockKind clock = ClockKind::dvvset;
  std::uint32_t r = kQuorum, w = kQuorum, dw = kQuorum;
  std::uint32_t pr = 0, pw = 0;
  std::uint64_t version = 0;  // newer props win when nodes exchange them

  std::uint32_t resolve(std::uint32_t q) const { return q == kQuorum ? n_val / 2 + 1 : q; }
  bool operator==(const BucketProps&) const = default;
};

// {"props":{"n_val":3,"allow_mult":true,"clock":"dvvset","r":"quorum",...}}
std::string props_to_json(const BucketProps& p);
// Applies the fields present in a JSON body onto `base`; errors name the field.
Result<BucketProps> props_from_json(std::string_view json, const BucketProps& base);

// The props' version as an HTTP entity tag ("\"7\""), for GET props' ETag and a PUT's
// If-Match; nullopt for a tag that is not one of ours.
std::string props_etag(std::uint64_t version);
std::optional<std::uint64_t> props_etag_version(std::string_view etag);

// Compact binary, for the wire and the disk.
std::string encode_props(const std::map<std::string, BucketProps>& props);
Result<std::map<std::string, BucketProps>> decode_props(std::string_view bytes);

}  // namespace doppel::dvv

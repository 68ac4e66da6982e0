#pragma once
// What the kv model's files share (kv_model.cc, kv_model_writes.cc, kv_meta_model.cc).

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability::kv_detail {

inline constexpr std::int64_t kSecondNs = 1'000'000'000;
inline constexpr std::size_t kDecimalDigitsMax = 20;

// The store's rule for a number (components/kv/store/decimal.h): 1 to 20
// digits once leading zeros are dropped, below 2^64.
inline std::optional<std::uint64_t> decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const auto first = text.find_first_not_of('0');
  if (first == std::string_view::npos) return 0;
  text.remove_prefix(first);
  if (text.size() > kDecimalDigitsMax) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The key once its item is gone; the uniques handed out stay above what it showed.
inline ModelState gone(const ModelState& s) {
  ModelState g;
  g.unique_floor = std::max(s.unique_floor, s.unique);
  g.flush_lo = s.flush_lo;
  g.flush_hi = s.flush_hi;
  return g;
}

// Reading operations (kv_model.cc).
Error shape_error(const Operation& op, std::string_view what);
Value kv_bytes(const Value& v);  // an integer stands for its digits
bool parse_u64(const Value& v, std::uint64_t& out);
bool is_text(const Value& v, std::string_view text);
// The expiry of a map argument ("ttl_s" or "expires_ns"); `otherwise` when it gives none.
Status read_expiry(const Operation& inv, KvExpiry otherwise, Step& step);
// STORED, NOT_STORED, EXISTS, NOT_FOUND, TOO_LARGE; any other: stored.
KvOutcome store_outcome(const Value& r);

// mg, ms, md, ma (kv_meta_model.cc).
Result<CompiledOp> compile_kv_meta(const Operation& inv, const Operation* ok, States& states);

}  // namespace doppel::properties::linearizability::kv_detail

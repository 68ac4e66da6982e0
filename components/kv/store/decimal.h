#pragma once
// incr/decr operands and results: memcached keeps counters as decimal text.
// A value counts as a number when it is 1 to 20 ASCII digits whose value fits
// in 64 unsigned bits (leading zeros allowed); anything else, spaces and signs
// included, is "non-numeric".

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace doppel::kv {

inline constexpr std::size_t kDecimalDigitsMax = 20;  // 18446744073709551615

inline std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  // Leading zeros do not count against the length.
  const auto first = text.find_first_not_of('0');
  if (first == std::string_view::npos) return 0;
  text.remove_prefix(first);
  if (text.size() > kDecimalDigitsMax) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

using DecimalBuffer = std::array<char, kDecimalDigitsMax>;

// The digits of `value`, in `buffer`.
inline std::string_view format_decimal_u64(std::uint64_t value, DecimalBuffer& buffer) {
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  (void)ec;  // 20 characters always suffice
  return std::string_view(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
}

}  // namespace doppel::kv

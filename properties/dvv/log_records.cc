#include "properties/dvv/log_records.h"

#include <cstring>

namespace doppel::properties::dvv {
namespace {

constexpr std::uint64_t kRecordBytesMax = 64u << 20;  // the store's limit

// The end of the record at `at` if it checks.
bool record_at(std::string_view log, std::uint64_t at, std::uint64_t* end) {
  if (at + 5 > log.size()) return false;
  std::uint32_t crc;
  std::memcpy(&crc, log.data() + at, 4);
  std::uint64_t len = 0;
  std::uint64_t pos = at + 4;
  for (int shift = 0;; shift += 7) {
    if (pos >= log.size() || shift > 63) return false;
    const auto byte = static_cast<unsigned char>(log[pos++]);
    len |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (len == 0 || len > kRecordBytesMax || pos + len > log.size()) return false;
  if (crc32c_bitwise(log.substr(pos, len)) != crc) return false;
  *end = pos + len;
  return true;
}

}  // namespace

std::uint32_t crc32c_bitwise(std::string_view bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::uint64_t intact_log_records(std::string_view log) {
  std::uint64_t count = 0, at = 0, end = 0;
  while (at + 5 <= log.size()) {
    if (record_at(log, at, &end)) {
      ++count;
      at = end;
    } else {
      ++at;
    }
  }
  return count;
}

}  // namespace doppel::properties::dvv

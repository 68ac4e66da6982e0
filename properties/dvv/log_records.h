#pragma once
// How many records of a DVV object log are intact on disk, counted without
// the store's code: a record is [crc32c][varint length][payload] with a
// nonempty payload whose CRC-32C (Castagnoli) checks. Records are counted
// from the start; where bytes do not check (a torn write, a flipped bit) the
// count goes on at the next offset where a record checks. The store's replay
// must recover at least these (property "log-keeps-intact-records"): a bit
// flipped on a read, or damage in one record, never costs the others.

#include <cstdint>
#include <string_view>

namespace doppel::properties::dvv {

std::uint64_t intact_log_records(std::string_view log);

// CRC-32C, bit by bit: the oracle's own, not the store's table-driven one.
std::uint32_t crc32c_bitwise(std::string_view bytes);

}  // namespace doppel::properties::dvv

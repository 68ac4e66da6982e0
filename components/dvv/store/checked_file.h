#pragma once
// A small file the node keeps whole (bucket props, the ring state): a
// CRC-32C, then the bytes. Saved new, synced, renamed over the old one, the
// directory synced: a crash leaves the old file or the new, never half of one.

#include <string>
#include <string_view>

#include "runtime/fs.h"
#include "runtime/result.h"

namespace doppel::dvv {

// Writes `bytes` to `temp`, then renames it over `name`; durable when it returns.
Status save_checked_file(FileSystem& fs, std::string_view temp, std::string_view name,
                         std::string_view bytes);
// The bytes saved: not_found when there is no file, corrupt when the CRC does not check.
Result<std::string> load_checked_file(FileSystem& fs, std::string_view name);
// The bytes saved in `file`, a checked file's whole contents (`name` for errors).
Result<std::string> checked_file_bytes(std::string_view file, std::string_view name);

}  // namespace doppel::dvv

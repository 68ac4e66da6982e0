#pragma once
// The stats command: `stats` (memcached's general figures, summed over
// cores), `stats cores` (each core's figures: items, bytes, commands,
// forwarded work, connections) and `stats memory` (the log-structured
// allocator: segments, live and dead bytes, evictions, index).

#include <string>
#include <string_view>

namespace doppel::kv {

class KvService;

void append_stats(KvService& service, std::string_view group, std::string& out);

}  // namespace doppel::kv

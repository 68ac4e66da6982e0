#pragma once
// The meta commands' lines (memcached 1.6 protocol.txt, "Meta Commands"): parsing their flags
// and formatting them back. Part of the parser (parser.h), which owns the data block of ms.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "components/kv/protocol/parser.h"

namespace doppel::kv {

// A parsed meta line. For ms, data_bytes is the <datalen> whenever it was readable, also when
// the line is refused, so that the parser discards the data block that follows.
struct MetaLine {
  std::variant<Request, ProtocolError> outcome;
  std::optional<std::uint64_t> data_bytes;
};

// `args` is the line after the verb.
MetaLine parse_meta_line(Verb verb, std::string_view args, const ProtocolLimits& limits);

// The request line of a meta command (no data block, no "\r\n").
void append_meta_request(std::string& out, const Request& request);

}  // namespace doppel::kv

#pragma once
// Replies of the memcached text protocol, appended to a connection's output buffer. No I/O.
//
// Every function appends whole lines ending in "\r\n". A text that would break a line (a "\r" or
// "\n" inside a key, a STAT, VERSION or error message) is a bug and asserts.

#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "components/kv/protocol/parser.h"
#include "runtime/assert.h"

namespace doppel::kv {

// The replies that are one fixed word.
enum class Reply : std::uint8_t {
  stored,      // STORED: a storage command stored its value
  not_stored,  // NOT_STORED: add, replace, append or prepend did not apply
  exists,      // EXISTS: cas found the item changed since it was read
  not_found,   // NOT_FOUND: cas, delete, incr, decr or touch found no item
  deleted,     // DELETED
  touched,     // TOUCHED
  ok,          // OK: flush_all, verbosity
  end,         // END: closes the VALUE lines of a retrieval, and a STAT list
  error,       // ERROR: an unknown command
  reset,       // RESET: stats reset
};

// The word, e.g. "NOT_STORED".
std::string_view reply_word(Reply reply);

// "<WORD>\r\n".
void append_reply(std::string& out, Reply reply);

// One hit of a retrieval: "VALUE <key> <flags> <bytes>[ <cas unique>]\r\n<data>\r\n". The cas
// unique is sent for gets and gats. append_reply(out, Reply::end) closes the list.
void append_value(std::string& out, std::string_view key, std::uint32_t flags,
                  std::string_view data, std::optional<std::uint64_t> cas_unique = std::nullopt);

// The new value after incr or decr: "<value>\r\n".
void append_number(std::string& out, std::uint64_t value);

// One statistic: "STAT <name> <value>\r\n". append_reply(out, Reply::end) closes the list.
void append_stat(std::string& out, std::string_view name, std::string_view value);

template <std::integral T>
void append_stat(std::string& out, std::string_view name, T value) {
  std::array<char, 24> digits;  // 20 digits and a sign at most
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  DOPPEL_ASSERT(ec == std::errc{});
  append_stat(out, name, std::string_view(digits.data(), end));
}

// "VERSION <version>\r\n".
void append_version(std::string& out, std::string_view version);

// "CLIENT_ERROR <message>\r\n": the request was malformed.
void append_client_error(std::string& out, std::string_view message);

// "SERVER_ERROR <message>\r\n": the server could not serve a well-formed request.
void append_server_error(std::string& out, std::string_view message);

// What memcached 1.6 writes to a connection it accepts past its limit (-c), before closing it:
// an ERROR line with a reason, which no other reply has.
inline constexpr std::string_view kTooManyConnections = "ERROR Too many open connections";

// The reply line of a parser error: "<reply_line>\r\n".
void append_error(std::string& out, const ProtocolError& error);

}  // namespace doppel::kv

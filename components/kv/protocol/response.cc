// Replies of the memcached text protocol: built with appends and std::to_chars, no streams.

#include "components/kv/protocol/response.h"

#include <array>
#include <charconv>

#include "runtime/assert.h"

namespace doppel::kv {
namespace {

bool is_one_line(std::string_view text) {
  return text.find_first_of("\r\n") == text.npos;
}

template <class T>
void append_decimal(std::string& out, T number) {
  std::array<char, 24> digits;  // 20 digits and a sign at most
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), number);
  DOPPEL_ASSERT(ec == std::errc{});
  out.append(digits.data(), end);
}

// "<word> <text>\r\n", for the replies that carry a free text.
void append_line(std::string& out, std::string_view word, std::string_view text) {
  DOPPEL_ASSERT_MSG(is_one_line(text), "a reply text must not break its line");
  out += word;
  out += ' ';
  out += text;
  out += "\r\n";
}

}  // namespace

std::string_view reply_word(Reply reply) {
  switch (reply) {
    case Reply::stored:
      return "STORED";
    case Reply::not_stored:
      return "NOT_STORED";
    case Reply::exists:
      return "EXISTS";
    case Reply::not_found:
      return "NOT_FOUND";
    case Reply::deleted:
      return "DELETED";
    case Reply::touched:
      return "TOUCHED";
    case Reply::ok:
      return "OK";
    case Reply::end:
      return "END";
    case Reply::error:
      return "ERROR";
    case Reply::reset:
      return "RESET";
  }
  DOPPEL_ASSERT_MSG(false, "not a Reply");
  return {};
}

void append_reply(std::string& out, Reply reply) {
  out += reply_word(reply);
  out += "\r\n";
}

void append_value(std::string& out, std::string_view key, std::uint32_t flags,
                  std::string_view data, std::optional<std::uint64_t> cas_unique) {
  DOPPEL_ASSERT(!key.empty());
  DOPPEL_ASSERT_MSG(key.find_first_of(" \r\n") == key.npos, "a key is one token");
  out += "VALUE ";
  out += key;
  out += ' ';
  append_decimal(out, flags);
  out += ' ';
  append_decimal(out, data.size());
  if (cas_unique.has_value()) {
    out += ' ';
    append_decimal(out, *cas_unique);
  }
  out += "\r\n";
  out += data;
  out += "\r\n";
}

void append_number(std::string& out, std::uint64_t value) {
  append_decimal(out, value);
  out += "\r\n";
}

void append_stat(std::string& out, std::string_view name, std::string_view value) {
  DOPPEL_ASSERT(!name.empty());
  DOPPEL_ASSERT_MSG(name.find_first_of(" \r\n") == name.npos, "a STAT name is one token");
  DOPPEL_ASSERT_MSG(is_one_line(value), "a STAT value must not break its line");
  out += "STAT ";
  out += name;
  out += ' ';
  out += value;
  out += "\r\n";
}

void append_version(std::string& out, std::string_view version) {
  append_line(out, "VERSION", version);
}

void append_client_error(std::string& out, std::string_view message) {
  append_line(out, "CLIENT_ERROR", message);
}

void append_server_error(std::string& out, std::string_view message) {
  append_line(out, "SERVER_ERROR", message);
}

void append_error(std::string& out, const ProtocolError& error) {
  DOPPEL_ASSERT(!error.reply_line.empty());
  DOPPEL_ASSERT_MSG(is_one_line(error.reply_line), "a reply line must not break");
  out += error.reply_line;
  out += "\r\n";
}

}  // namespace doppel::kv

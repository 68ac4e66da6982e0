#include "components/http/head.h"

#include <algorithm>
#include <string>
#include <vector>

namespace doppel::http {
namespace {

constexpr std::size_t kDecimalDigitsMax = 19;  // every 19-digit number fits in 64 bits

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The items of comma-separated list fields, trimmed, empty items skipped (RFC 9110 5.6.1).
std::vector<std::string_view> list_items(const std::vector<std::string_view>& values) {
  std::vector<std::string_view> items;
  for (std::string_view value : values) {
    for (;;) {
      const std::size_t comma = value.find(',');
      const std::string_view item = trim(value.substr(0, comma));
      if (!item.empty()) items.push_back(item);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return items;
}

// Content-Length: one decimal number, possibly repeated identically ("5, 5" or two fields).
std::variant<std::uint64_t, ParseError> content_length(const Headers& headers) {
  const std::vector<std::string_view> items = list_items(headers.get_all("Content-Length"));
  if (items.empty()) return ParseError{400, "empty Content-Length"};
  for (std::string_view item : items) {
    if (item != items.front()) return ParseError{400, "conflicting Content-Length values"};
  }
  const std::string_view digits = items.front();
  if (!std::all_of(digits.begin(), digits.end(), is_digit)) {
    return ParseError{400, "Content-Length is not a number"};
  }
  if (digits.size() > kDecimalDigitsMax) return ParseError{413, "body too large"};
  std::uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

// True for exactly one transfer coding, "chunked"; an error for any other list.
std::variant<bool, ParseError> chunked_only(const Headers& headers) {
  const std::vector<std::string_view> codings = list_items(headers.get_all("Transfer-Encoding"));
  if (codings.empty()) return ParseError{400, "empty Transfer-Encoding"};
  for (std::string_view coding : codings) {
    if (!iequals(coding, "chunked")) {
      return ParseError{501, "transfer coding not implemented: " + std::string(coding)};
    }
  }
  if (codings.size() > 1) return ParseError{400, "chunked applied more than once"};
  return true;
}

}  // namespace

Line next_line(std::string_view input, std::size_t line_bytes_max) {
  DOPPEL_ASSERT(line_bytes_max > 0);
  const std::size_t newline = input.substr(0, line_bytes_max).find('\n');
  if (newline == std::string_view::npos) {
    return Line{input.size() >= line_bytes_max ? Line::Status::too_long : Line::Status::need_more};
  }
  std::string_view text = input.substr(0, newline);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{Line::Status::complete, text, newline + 1};
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

std::optional<ParseError> parse_field_line(std::string_view line, Headers& into) {
  DOPPEL_ASSERT(!line.empty());
  if (line.front() == ' ' || line.front() == '\t') {
    return ParseError{400, "obsolete line folding in the header section"};
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ParseError{400, "header field without a colon"};
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return ParseError{400, "bad header field name"};
  const std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return ParseError{400, "control byte in a header field value"};
    }
  }
  into.add(name, value);
  return std::nullopt;
}

HeadScanner::Scan HeadScanner::scan(std::string_view input) {
  DOPPEL_ASSERT(input.size() >= scanned_);
  while (scanned_ < input.size()) {
    const std::size_t newline = input.find('\n', scanned_);
    if (newline == std::string_view::npos) {
      scanned_ = input.size();
      break;
    }
    scanned_ = newline + 1;
    const std::size_t line_bytes = newline + 1 - line_start_;
    const bool empty = line_bytes == 1 || (line_bytes == 2 && input[line_start_] == '\r');
    if (first_line_end_ > 0 && empty) {
      if (newline + 1 - first_line_end_ > limits_.header_bytes_max) {
        return Scan{0, ParseError{431, "header section too large"}};
      }
      return Scan{newline + 1, std::nullopt};
    }
    Scan s = on_line_end(newline);
    if (s.error) return s;
  }
  return check_partial(input.size());
}

HeadScanner::Scan HeadScanner::on_line_end(std::size_t newline_at) {
  const std::size_t line_end = newline_at + 1;
  if (first_line_end_ == 0) {
    if (line_end - line_start_ > limits_.request_line_bytes_max) {
      return Scan{0, ParseError{414, "request line too long"}};
    }
    first_line_end_ = line_end;
    line_start_ = line_end;
    return {};
  }
  if (line_end - first_line_end_ > limits_.header_bytes_max) {
    return Scan{0, ParseError{431, "header section too large"}};
  }
  if (++field_lines_ > limits_.header_count_max) {
    return Scan{0, ParseError{431, "too many header fields"}};
  }
  line_start_ = line_end;
  return {};
}

HeadScanner::Scan HeadScanner::check_partial(std::size_t input_bytes) const {
  // Whatever comes next adds at least one byte (the missing "\n"), so these hold for any split.
  if (first_line_end_ == 0) {
    if (input_bytes - line_start_ >= limits_.request_line_bytes_max) {
      return Scan{0, ParseError{414, "request line too long"}};
    }
    return {};
  }
  if (input_bytes - first_line_end_ >= limits_.header_bytes_max) {
    return Scan{0, ParseError{431, "header section too large"}};
  }
  return {};
}

std::variant<Framing, ParseError> request_framing(const Headers& headers, int version_minor,
                                                  const HttpLimits& limits) {
  const bool has_te = headers.has("Transfer-Encoding");
  const bool has_cl = headers.has("Content-Length");
  if (has_te && has_cl) return ParseError{400, "both Transfer-Encoding and Content-Length"};
  if (has_te) {
    if (version_minor == 0) return ParseError{400, "Transfer-Encoding in an HTTP/1.0 request"};
    auto chunked = chunked_only(headers);
    if (auto* e = std::get_if<ParseError>(&chunked)) return *e;
    return Framing{Framing::Kind::chunked, 0};
  }
  if (!has_cl) return Framing{};
  auto length = content_length(headers);
  if (auto* e = std::get_if<ParseError>(&length)) return *e;
  const std::uint64_t n = std::get<std::uint64_t>(length);
  if (n > limits.body_bytes_max) return ParseError{413, "body too large"};
  if (n == 0) return Framing{};
  return Framing{Framing::Kind::length, n};
}

std::variant<Framing, ParseError> response_framing(const Headers& headers, int status,
                                                   bool to_head_request) {
  if (to_head_request || status_has_no_body(status)) return Framing{};
  if (headers.has("Transfer-Encoding")) {
    auto chunked = chunked_only(headers);
    if (auto* e = std::get_if<ParseError>(&chunked)) return *e;
    return Framing{Framing::Kind::chunked, 0};
  }
  if (!headers.has("Content-Length")) return Framing{Framing::Kind::until_close, 0};
  auto length = content_length(headers);
  if (auto* e = std::get_if<ParseError>(&length)) return *e;
  const std::uint64_t n = std::get<std::uint64_t>(length);
  if (n == 0) return Framing{};
  return Framing{Framing::Kind::length, n};
}

std::variant<int, ParseError> parse_version(std::string_view text) {
  const bool shaped = text.size() == 8 && text.substr(0, 5) == "HTTP/" && is_digit(text[5]) &&
                      text[6] == '.' && is_digit(text[7]);
  if (!shaped) return ParseError{400, "bad HTTP version"};
  if (text[5] != '1') return ParseError{505, "HTTP version not supported: " + std::string(text)};
  return text[7] == '0' ? 0 : 1;
}

}  // namespace doppel::http

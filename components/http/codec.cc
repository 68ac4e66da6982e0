#include "components/http/codec.h"

#include <algorithm>
#include <array>
#include <limits>

#include "components/http/head.h"

namespace doppel::http {
namespace {

constexpr std::string_view kBoundaryAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kHexUpper = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal digits; nothing if empty or not all digits. Saturates at the largest value.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    n = n > (kMax - digit) / 10 ? kMax : n * 10 + digit;
  }
  return n;
}

// The opening of a part after its delimiter: "--" closes, else padding and CRLF.
enum class AfterDelimiter : std::uint8_t { part, close, malformed };
AfterDelimiter after_delimiter(std::string_view body, std::size_t* pos) {
  std::string_view rest = body.substr(*pos);
  if (rest.starts_with("--")) return AfterDelimiter::close;
  const std::size_t padding = std::min(rest.find_first_not_of(" \t"), rest.size());
  rest.remove_prefix(padding);
  if (!rest.starts_with("\r\n")) return AfterDelimiter::malformed;
  *pos += padding + 2;
  return AfterDelimiter::part;
}

// The part's header fields up to and including the empty line.
Status parse_part_headers(std::string_view body, std::size_t* pos, Headers& into) {
  for (;;) {
    const std::size_t end = body.find("\r\n", *pos);
    if (end == std::string_view::npos) return make_error(Errc::corrupt, "multipart: cut header");
    const std::string_view line = body.substr(*pos, end - *pos);
    *pos = end + 2;
    if (line.empty()) return {};
    if (into.size() >= kPartHeaderFieldsMax) {
      return make_error(Errc::corrupt, "multipart: too many header fields in a part");
    }
    if (auto e = parse_field_line(line, into))
      return make_error(Errc::corrupt, "multipart: " + e->reason);
  }
}

// Hinnant's civil_from_days: days since 1970-01-01 to (year, month 1-12, day 1-31).
void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

std::string two_digits(unsigned n) {
  return std::string{static_cast<char>('0' + n / 10 % 10), static_cast<char>('0' + n % 10)};
}

}  // namespace

// --- percent-encoding

std::string percent_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    if (is_unreserved(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHexUpper[byte >> 4];
    out += kHexUpper[byte & 15];
  }
  return out;
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      if (i + 2 >= text.size()) {
        return make_error(Errc::invalid_argument, "percent-encoding: cut short");
      }
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return make_error(Errc::invalid_argument, "percent-encoding: bad hex");
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    }
  }
  return out;
}

std::string make_target(std::span<const std::string> segments, const QueryParams& query) {
  std::string out;
  for (const std::string& segment : segments) out += "/" + percent_encode(segment);
  if (out.empty()) out = "/";
  char separator = '?';
  for (const auto& [name, value] : query) {
    out += separator;
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
    separator = '&';
  }
  return out;
}

// --- multipart/mixed

std::string make_boundary(Prng& rng) {
  std::string boundary;
  for (std::size_t i = 0; i < kBoundaryBytes; ++i) {
    boundary += kBoundaryAlphabet[rng.below(kBoundaryAlphabet.size())];
  }
  return boundary;
}

std::string multipart_content_type(std::string_view boundary) {
  DOPPEL_ASSERT(!boundary.empty() && boundary.size() <= kBoundaryBytesMax);
  if (is_token(boundary)) return "multipart/mixed; boundary=" + std::string(boundary);
  return "multipart/mixed; boundary=\"" + std::string(boundary) + "\"";
}

Result<std::string> multipart_boundary(std::string_view content_type) {
  std::size_t semicolon = content_type.find(';');
  const std::string_view media = trim(content_type.substr(0, semicolon));
  if (media.size() < 10 || !iequals(media.substr(0, 10), "multipart/")) {
    return make_error(Errc::invalid_argument, "not a multipart content type");
  }
  while (semicolon != std::string_view::npos) {
    std::string_view rest = content_type.substr(semicolon + 1);
    std::string_view param = trim(rest);
    const std::size_t eq = param.find('=');
    semicolon = content_type.find(';', semicolon + 1);
    if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "boundary")) continue;
    std::string_view value = trim(param.substr(eq + 1));
    std::string boundary;
    if (value.starts_with('"')) {
      const std::size_t close = value.find('"', 1);
      if (close == std::string_view::npos) {
        return make_error(Errc::invalid_argument, "unterminated boundary");
      }
      boundary = std::string(value.substr(1, close - 1));
    } else {
      boundary = std::string(trim(value.substr(0, value.find(';'))));
    }
    if (boundary.empty() || boundary.size() > kBoundaryBytesMax ||
        boundary.find_first_of("\r\n\"") != std::string::npos) {
      return make_error(Errc::invalid_argument, "bad boundary");
    }
    return boundary;
  }
  return make_error(Errc::invalid_argument, "no boundary parameter");
}

Result<std::string> multipart_write(std::span<const Part> parts, std::string_view boundary) {
  DOPPEL_ASSERT(!boundary.empty() && boundary.size() <= kBoundaryBytesMax);
  const std::string delimiter = "--" + std::string(boundary);
  std::string out;
  for (const Part& part : parts) {
    if (part.body.find("\r\n" + delimiter) != std::string::npos) {
      return make_error(Errc::invalid_argument, "multipart: a body holds the boundary");
    }
    out += delimiter + "\r\n";
    for (const auto& [name, value] : part.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    out += part.body;
    out += "\r\n";
  }
  out += delimiter + "--\r\n";
  return out;
}

Result<std::vector<Part>> multipart_parse(std::string_view body, std::string_view boundary,
                                          std::size_t parts_max) {
  DOPPEL_ASSERT(!boundary.empty());
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  std::size_t pos = 0;
  if (!body.starts_with(delimiter)) {
    pos = body.find(next_delimiter);
    if (pos == std::string_view::npos) return make_error(Errc::corrupt, "multipart: no boundary");
    pos += 2;
  }
  std::vector<Part> parts;
  for (;;) {
    pos += delimiter.size();
    const AfterDelimiter after = after_delimiter(body, &pos);
    if (after == AfterDelimiter::close) return parts;
    if (after == AfterDelimiter::malformed) {
      return make_error(Errc::corrupt, "multipart: bad delimiter line");
    }
    if (parts.size() >= parts_max) return make_error(Errc::too_large, "multipart: too many parts");
    Part part;
    if (Status s = parse_part_headers(body, &pos, part.headers); !s) return s.error();
    const std::size_t end = body.find(next_delimiter, pos);
    if (end == std::string_view::npos) return make_error(Errc::corrupt, "multipart: no close");
    part.body = std::string(body.substr(pos, end - pos));
    parts.push_back(std::move(part));
    pos = end + 2;
  }
}

// --- byte ranges

RangeRequest parse_range(std::string_view value, std::uint64_t size) {
  using Kind = RangeRequest::Kind;
  value = trim(value);
  if (value.size() < 6 || !iequals(value.substr(0, 6), "bytes=")) return {};
  const std::string_view spec = trim(value.substr(6));
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return {};
  const std::string_view first_text = trim(spec.substr(0, dash));
  const std::string_view last_text = trim(spec.substr(dash + 1));
  if (first_text.empty()) {  // a suffix: the last N bytes
    const std::optional<std::uint64_t> suffix = parse_decimal(last_text);
    if (!suffix) return {};
    if (*suffix == 0) return RangeRequest{Kind::unsatisfiable, {}};
    if (size == 0) return {};
    return RangeRequest{Kind::partial, {*suffix >= size ? 0 : size - *suffix, size - 1}};
  }
  const std::optional<std::uint64_t> first = parse_decimal(first_text);
  if (!first) return {};
  std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  if (!last_text.empty()) {
    const std::optional<std::uint64_t> parsed = parse_decimal(last_text);
    if (!parsed || *parsed < *first) return {};
    last = *parsed;
  }
  if (*first >= size) return RangeRequest{Kind::unsatisfiable, {}};
  return RangeRequest{Kind::partial, {*first, std::min(last, size - 1)}};
}

std::string content_range(ByteRange range, std::uint64_t size) {
  DOPPEL_ASSERT(range.first <= range.last);
  DOPPEL_ASSERT(range.last < size);
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(size);
}

std::string content_range_unsatisfiable(std::uint64_t size) {
  return "bytes */" + std::to_string(size);
}

// --- dates

std::string format_http_date(WallTime time) {
  static constexpr std::array<std::string_view, 7> kDays = {"Thu", "Fri", "Sat", "Sun",
                                                            "Mon", "Tue", "Wed"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t seconds =
      std::max<std::int64_t>(0, to_ns(time.time_since_epoch()) / 1'000'000'000);
  const std::int64_t days = seconds / 86400;
  const auto in_day = static_cast<unsigned>(seconds % 86400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, &year, &month, &day);
  return std::string(kDays[static_cast<std::size_t>(days % 7)]) + ", " + two_digits(day) + " " +
         std::string(kMonths[month - 1]) + " " + std::to_string(year) + " " +
         two_digits(in_day / 3600) + ":" + two_digits(in_day / 60 % 60) + ":" +
         two_digits(in_day % 60) + " GMT";
}

}  // namespace doppel::http

#include "components/http/message.h"

#include <algorithm>

namespace doppel::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void append_fields(std::string& out, const Headers& headers) {
  for (const auto& [name, value] : headers) {
    DOPPEL_ASSERT_MSG(name.find_first_of("\r\n:") == std::string::npos, "bad header name");
    DOPPEL_ASSERT_MSG(value.find_first_of("\r\n") == std::string::npos, "bad header value");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void Headers::add(std::string_view name, std::string_view value) {
  DOPPEL_ASSERT(!name.empty());
  fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [name](const Field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : fields_) {
    if (iequals(n, name)) values.emplace_back(v);
  }
  return values;
}

bool Headers::has_token(std::string_view name, std::string_view token) const {
  for (std::string_view value : get_all(name)) {
    while (!value.empty()) {
      const std::size_t comma = value.find(',');
      const std::string_view item = trim(value.substr(0, comma));
      if (iequals(item, token)) return true;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(name);
  DOPPEL_ASSERT_MSG(it != params.end(), "no such route parameter");
  return it->second;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "text/plain");
  r.body = std::move(body);
  return r;
}

Response Response::streamed(int status, std::uint64_t length, BodyWriter writer) {
  DOPPEL_ASSERT(writer);
  Response r;
  r.status = status;
  r.body_writer = std::move(writer);
  r.body_length = length;
  return r;
}

Response Response::chunked(int status, BodyWriter writer) {
  DOPPEL_ASSERT(writer);
  Response r;
  r.status = status;
  r.body_writer = std::move(writer);
  return r;
}

Response Response::error(int status, std::string_view reason) {
  Response r = text(status, std::string(reason) + "\n");
  r.reason = std::string(reason_phrase(status));
  return r;
}

std::string_view reason_phrase(int status) {
  static constexpr std::pair<int, std::string_view> kPhrases[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {300, "Multiple Choices"},
      {301, "Moved Permanently"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
      {507, "Insufficient Storage"},
  };
  for (const auto& [code, phrase] : kPhrases) {
    if (code == status) return phrase;
  }
  return "Unknown";
}

bool status_has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void append_request_head(std::string& out, const Request& request) {
  DOPPEL_ASSERT(!request.method.empty());
  DOPPEL_ASSERT(!request.target.empty());
  DOPPEL_ASSERT(request.version_minor == 0 || request.version_minor == 1);
  out += request.method;
  out += ' ';
  out += request.target;
  out += request.version_minor == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
  append_fields(out, request.headers);
}

std::string format_request(const Request& request) {
  DOPPEL_ASSERT_MSG(!request.headers.has("Transfer-Encoding"), "format_request sends whole bodies");
  if (!request.body.empty()) {
    DOPPEL_ASSERT_MSG(request.headers.get("Content-Length") == std::to_string(request.body.size()),
                      "the Content-Length field must frame the body");
  }
  std::string out;
  append_request_head(out, request);
  out += request.body;
  return out;
}

void append_response_head(std::string& out, int status, std::string_view reason,
                          const Headers& headers) {
  DOPPEL_ASSERT(status >= 100 && status <= 999);
  DOPPEL_ASSERT(reason.find_first_of("\r\n") == std::string_view::npos);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason.empty() ? reason_phrase(status) : reason;
  out += "\r\n";
  append_fields(out, headers);
}

}  // namespace doppel::http

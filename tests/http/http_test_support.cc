#include "http_test_support.h"

#include <algorithm>

namespace doppel::http::test {
namespace {

bool holds_head_end(std::string_view s) {
  return s.find("\n\n") != std::string_view::npos || s.find("\n\r\n") != std::string_view::npos;
}

std::string check_need_more(std::string_view left, const HttpLimits& limits) {
  const std::size_t bound =
      limits.request_line_bytes_max + limits.header_bytes_max + limits.chunk_line_bytes_max;
  if (left.size() > bound) return "NeedMoreBytes left more than the limits allow";
  if (holds_head_end(left)) return "NeedMoreBytes left a complete head: " + escape(left);
  return {};
}

}  // namespace

FeedResult feed(std::string_view stream, const std::vector<std::size_t>& chunk_sizes,
                const HttpLimits& limits) {
  FeedResult result;
  RequestParser parser(limits);
  std::string buffer;
  std::size_t at = 0, chunk = 0;
  while (at < stream.size() && !parser.closed()) {
    const std::size_t n = std::max<std::size_t>(1, chunk_sizes[chunk++ % chunk_sizes.size()]);
    buffer.append(stream.substr(at, n));
    at += std::min(n, stream.size() - at);
    for (;;) {
      std::size_t used = 12345678;
      RequestOutcome outcome = parser.parse(buffer, &used);
      if (used > buffer.size()) {
        result.violation = "used more than given";
        return result;
      }
      buffer.erase(0, used);
      if (std::holds_alternative<NeedMoreBytes>(outcome)) {
        result.violation = check_need_more(buffer, limits);
        if (!result.violation.empty()) return result;
        break;
      }
      if (used == 0) {
        result.violation = "an outcome used no bytes: " + describe(outcome);
        return result;
      }
      const bool error = std::holds_alternative<ParseError>(outcome);
      result.outcomes.push_back(std::move(outcome));
      if (error != parser.closed()) {
        result.violation = "closed without an error, or an error without closing";
        return result;
      }
      if (error) return result;
    }
  }
  return result;
}

ResponseFeedResult feed_responses(std::string_view stream,
                                  const std::vector<std::size_t>& chunk_sizes,
                                  const std::vector<bool>& to_head, const HttpLimits& limits) {
  ResponseFeedResult result;
  ResponseParser parser(limits);
  std::size_t next = 0;
  std::string body;
  auto flush_body = [&] {
    if (!body.empty()) result.events.push_back("body " + escape(body));
    body.clear();
  };
  // Records one outcome; false when parsing is over (an error, or no response expected).
  auto record = [&](ResponseOutcome& outcome) {
    if (auto* head = std::get_if<ResponseHead>(&outcome)) {
      flush_body();
      result.events.push_back("head " + std::to_string(head->status) + " " + head->reason);
    } else if (auto* piece = std::get_if<BodyPiece>(&outcome)) {
      body.append(piece->bytes);
    } else if (std::holds_alternative<MessageEnd>(outcome)) {
      flush_body();
      result.events.emplace_back("end");
      if (next == to_head.size()) return false;
      parser.expect(to_head[next++], limits.body_bytes_max);
    } else if (auto* e = std::get_if<ParseError>(&outcome)) {
      flush_body();
      result.events.push_back("error " + std::to_string(e->status) + " " + e->reason);
      return false;
    }
    return true;
  };
  if (to_head.empty()) return result;
  parser.expect(to_head[next++], limits.body_bytes_max);
  std::string buffer;
  std::size_t at = 0, chunk = 0;
  bool going = true;
  while (at < stream.size() && going) {
    const std::size_t n = std::max<std::size_t>(1, chunk_sizes[chunk++ % chunk_sizes.size()]);
    buffer.append(stream.substr(at, n));
    at += std::min(n, stream.size() - at);
    while (going) {
      std::size_t used = 0;
      ResponseOutcome outcome = parser.parse(buffer, &used);
      if (used > buffer.size()) {
        result.violation = "used more than given";
        return result;
      }
      const bool need_more = std::holds_alternative<NeedMoreBytes>(outcome);
      const bool may_use_none = need_more || std::holds_alternative<MessageEnd>(outcome);
      if (used == 0 && !may_use_none) {
        result.violation = "an outcome used no bytes";
        return result;
      }
      going = record(outcome);  // before the bytes go: a piece is a view into them
      buffer.erase(0, used);
      if (need_more) break;
    }
  }
  if (going && !parser.idle()) {
    ResponseOutcome end = parser.finish();
    flush_body();
    result.events.emplace_back("closed");
    record(end);
  }
  return result;
}

std::string escape(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (b < 0x20 || b >= 0x7f) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe(const Request& r) {
  std::string out = r.method + " " + escape(r.target) + " HTTP/1." +
                    std::to_string(r.version_minor) + " path=" + escape(r.path) + " segments=[";
  for (const auto& s : r.segments) out += "\"" + escape(s) + "\" ";
  out += "] query=[";
  for (const auto& [k, v] : r.query) out += escape(k) + "=" + escape(v) + " ";
  out += "] headers=[";
  for (const auto& [k, v] : r.headers) out += escape(k) + ": " + escape(v) + "; ";
  out += "] keep_alive=" + std::to_string(r.keep_alive) + " body=\"" + escape(r.body) + "\"";
  return out;
}

std::string describe(const RequestOutcome& outcome) {
  if (std::holds_alternative<NeedMoreBytes>(outcome)) return "NeedMoreBytes";
  if (std::holds_alternative<ContinueNeeded>(outcome)) return "ContinueNeeded";
  if (const auto* e = std::get_if<ParseError>(&outcome)) {
    return "ParseError " + std::to_string(e->status) + " " + escape(e->reason);
  }
  return "Request " + describe(std::get<Request>(outcome));
}

}  // namespace doppel::http::test

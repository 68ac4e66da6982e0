// Helpers for the protocol tests (see protocol_test_support.h).

#include "protocol_test_support.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>
#include <variant>

namespace doppel::kv::test {
namespace {

// Parses what `buffer` holds until the parser needs more bytes or closes. Returns false when a
// guarantee was broken (and says which in result->violation).
bool drain(Parser& parser, std::string& buffer, FeedResult* result) {
  for (;;) {
    std::size_t used = std::numeric_limits<std::size_t>::max();
    ParseOutcome outcome = parser.parse(buffer, &used);
    if (used > buffer.size()) {
      result->violation =
          "used " + std::to_string(used) + " of " + std::to_string(buffer.size()) + " bytes";
      return false;
    }
    buffer.erase(0, used);
    if (std::holds_alternative<NeedMoreBytes>(outcome)) {
      if (buffer.find('\n') != std::string::npos) {
        result->violation = "asked for more bytes with a line buffered: " + escape(buffer);
        return false;
      }
      return true;
    }
    if (used == 0) {
      result->violation = "an outcome used no byte: " + describe(outcome);
      return false;
    }
    const auto* error = std::get_if<ProtocolError>(&outcome);
    if (parser.closed() != (error != nullptr && error->close_connection)) {
      result->violation = "closed() disagrees with the outcome: " + describe(outcome);
      return false;
    }
    result->outcomes.push_back(std::move(outcome));
    if (parser.closed()) return true;
  }
}

}  // namespace

FeedResult feed(Parser& parser, std::string_view stream,
                const std::vector<std::size_t>& chunk_sizes) {
  REQUIRE_FALSE(chunk_sizes.empty());
  FeedResult result;
  std::string buffer;
  std::size_t offset = 0;
  for (std::size_t i = 0; offset < stream.size() && !parser.closed(); ++i) {
    const std::size_t size = chunk_sizes[i % chunk_sizes.size()];
    REQUIRE(size >= 1);
    const std::size_t take = std::min(size, stream.size() - offset);
    buffer.append(stream.substr(offset, take));
    offset += take;
    if (!drain(parser, buffer, &result)) break;
  }
  return result;
}

FeedResult feed(std::string_view stream, const std::vector<std::size_t>& chunk_sizes,
                const ProtocolLimits& limits) {
  Parser parser(limits);
  return feed(parser, stream, chunk_sizes);
}

std::string escape(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte >= 0x7f || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe(const Request& r) {
  std::ostringstream s;
  s << verb_name(r.verb) << " keys=[";
  for (std::size_t i = 0; i < r.keys.size(); ++i) s << (i ? " " : "") << escape(r.keys[i]);
  s << "] flags=" << r.flags << " exptime=" << r.exptime << " cas=" << r.cas_unique
    << " delta=" << r.delta << " data=\"" << escape(r.data) << "\" noreply=" << r.noreply
    << " stats=\"" << escape(r.stats_group) << "\" subcommand=\"" << escape(r.subcommand)
    << "\" delay=";
  if (r.delay.has_value()) {
    s << *r.delay;
  } else {
    s << "none";
  }
  s << " verbosity=" << r.verbosity;
  if (is_meta(r.verb)) s << " meta={" << describe(r.meta) << "}";
  return s.str();
}

std::string describe(const MetaFlags& m) {
  std::ostringstream s;
  s << "returned=\"" << m.returned << "\" opaque=\"" << escape(m.opaque) << "\"";
  const auto flag = [&](const char* name, bool on) {
    if (on) s << " " << name;
  };
  const auto number = [&](const char* name, const auto& field) {
    if (field.has_value()) s << " " << name << "=" << *field;
  };
  flag("b", m.base64_key);
  flag("q", m.quiet);
  flag("u", m.no_bump);
  flag("v", m.value);
  flag("I", m.invalidate);
  number("T", m.ttl);
  number("N", m.vivify_ttl);
  number("R", m.recache_s);
  number("C", m.compare_cas);
  number("F", m.client_flags);
  number("J", m.initial);
  number("D", m.delta);
  if (m.mode != 0) s << " M" << m.mode;
  return s.str();
}

std::string describe(const ParseOutcome& outcome) {
  if (std::holds_alternative<NeedMoreBytes>(outcome)) return "need more bytes";
  if (const auto* request = std::get_if<Request>(&outcome)) return "request: " + describe(*request);
  const auto& error = std::get<ProtocolError>(outcome);
  return "error: \"" + escape(error.reply_line) + "\"" + (error.noreply ? " noreply" : "") +
         (error.close_connection ? " close" : "") +
         (error.drop_key.empty() ? "" : " drop_key=" + escape(error.drop_key));
}

ParseOutcome error_outcome(std::string_view reply_line, bool noreply) {
  return ProtocolError{std::string(reply_line), false, noreply};
}

ParseOutcome close_outcome(std::string_view reply_line) {
  return ProtocolError{std::string(reply_line), true, false};
}

}  // namespace doppel::kv::test

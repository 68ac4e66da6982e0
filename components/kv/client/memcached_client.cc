#include "components/kv/client/memcached_client.h"

#include <charconv>

#include "components/kv/protocol/parser.h"
#include "components/kv/protocol/response.h"

namespace doppel::kv {
namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < line.size()) {
    const auto space = line.find(' ', at);
    const auto end = space == std::string_view::npos ? line.size() : space;
    if (end > at) out.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

bool one_of(std::string_view word, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (word == a) return true;
  }
  return false;
}

}  // namespace

void encode_to(const Request& r, std::string& out) {
  // The protocol's own encoder: the bytes the server's parser reads back as `r`.
  append_request(out, r);
}

std::string encode(const Request& request) {
  std::string out;
  encode_to(request, out);
  return out;
}

Request get_request(std::string key) {
  Request r;
  r.verb = Verb::get;
  r.keys.push_back(std::move(key));
  return r;
}

Request store_request(Verb verb, std::string key, std::string data, std::uint32_t flags,
                      std::int64_t exptime) {
  DOPPEL_ASSERT(is_storage(verb));
  Request r;
  r.verb = verb;
  r.keys.push_back(std::move(key));
  r.data = std::move(data);
  r.flags = flags;
  r.exptime = exptime;
  return r;
}

Request delete_request(std::string key) {
  Request r;
  r.verb = Verb::delete_;
  r.keys.push_back(std::move(key));
  return r;
}

Status McReader::need(std::size_t bytes, Instant deadline) {
  while (buf_.size() - start_ < bytes) {
    if (buf_.size() - start_ > kBufferBytesMax)
      return make_error(Errc::too_large, "reply too large");
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    const std::size_t had = buf_.size();
    buf_.resize(had + read_bytes_);
    auto n = s_.read(std::span<char>(buf_.data() + had, read_bytes_), deadline);
    buf_.resize(had + (n ? *n : 0));
    if (!n) return n.error();
    if (*n == 0) return make_error(Errc::closed, "server closed");
  }
  return {};
}

Result<std::string> McReader::line(Instant deadline) {
  for (;;) {
    const auto nl = buf_.find("\r\n", start_);
    if (nl != std::string::npos) {
      std::string out = buf_.substr(start_, nl - start_);
      start_ = nl + 2;
      return out;
    }
    if (Status s = need(buf_.size() - start_ + 1, deadline); !s) return s.error();
  }
}

Result<McReply> McReader::retrieval(const Request& request, std::string first, Instant deadline) {
  const bool with_cas = request.verb == Verb::gets || request.verb == Verb::gats;
  auto mismatch = [&](const std::string& got) {
    return make_error(Errc::protocol, "'" + got + "' in reply to " +
                                          std::string(verb_name(request.verb)) + " " +
                                          (request.keys.empty() ? "" : request.keys[0]));
  };
  McReply reply;
  std::size_t next_key = 0;  // hits come in the order the keys were asked
  for (std::string l = std::move(first); l != "END";) {
    // VALUE <key> <flags> <bytes> [<cas unique>]
    const auto w = words(l);
    if (w.size() != (with_cas ? 5u : 4u) || w[0] != "VALUE") return mismatch(l);
    while (next_key < request.keys.size() && request.keys[next_key] != w[1]) ++next_key;
    if (next_key == request.keys.size()) return mismatch(l);
    ++next_key;
    McValue v;
    v.key = std::string(w[1]);
    std::uint64_t flags = 0, bytes = 0;
    if (!parse_u64(w[2], flags) || flags > UINT32_MAX || !parse_u64(w[3], bytes))
      return mismatch(l);
    if (with_cas && !parse_u64(w[4], v.cas_unique)) return mismatch(l);
    if (bytes > kBufferBytesMax)
      return make_error(Errc::too_large, "a value of " + std::to_string(bytes));
    v.flags = static_cast<std::uint32_t>(flags);
    if (Status s = need(bytes + 2, deadline); !s) return s.error();
    if (buf_.compare(start_ + bytes, 2, "\r\n") != 0)
      return mismatch(l + " (data not ended by CRLF)");
    v.data = buf_.substr(start_, bytes);
    start_ += bytes + 2;
    reply.values.push_back(std::move(v));
    auto n = line(deadline);
    if (!n) return n.error();
    l = std::move(*n);
  }
  reply.word = "END";
  return reply;
}

Result<McReply> McReader::listing(std::string first, Instant deadline, std::string_view prefix,
                                  std::string_view word) {
  McReply reply;
  reply.word = std::string(word);
  for (std::string l = std::move(first); l != "END";) {
    if (l.rfind(prefix, 0) != 0) {
      return make_error(Errc::protocol,
                        "'" + l.substr(0, 64) + "' in a listing of " + std::string(prefix));
    }
    if (reply.lines.size() >= kStatLinesMax)
      return make_error(Errc::too_large, "a listing of too many lines");
    reply.lines.push_back(std::move(l));
    auto n = line(deadline);
    if (!n) return n.error();
    l = std::move(*n);
  }
  return reply;
}

Result<McReply> McReader::next(const Request& request, Instant deadline) {
  DOPPEL_ASSERT(!request.noreply);
  if (is_meta(request.verb)) return meta_reply(request, deadline);
  auto first = line(deadline);
  if (!first) return first.error();
  // Any command may be answered SERVER_ERROR (out of memory...) or, on a connection accepted
  // past the limit, memcached's "ERROR Too many open connections": its outcome is unknown, and
  // the server may close.
  if (first->rfind("SERVER_ERROR", 0) == 0 || *first == kTooManyConnections) {
    return make_error(Errc::io_error, *first);
  }
  if (*first == "ERROR" || first->rfind("CLIENT_ERROR", 0) == 0) {
    return make_error(Errc::invalid_argument, *first);
  }
  auto mismatch = [&](const std::string& got) {
    return make_error(Errc::protocol, "'" + got + "' in reply to " +
                                          std::string(verb_name(request.verb)) + " " +
                                          (request.keys.empty() ? "" : request.keys[0]));
  };
  const Verb v = request.verb;
  if (is_retrieval(v)) return retrieval(request, std::move(*first), deadline);
  if (v == Verb::stats && request.stats_group != "reset") {
    return listing(std::move(*first), deadline, "STAT ", "STAT");
  }
  if (v == Verb::lru_crawler) return listing(std::move(*first), deadline, "key=", "KEYS");
  McReply reply;
  reply.word = *first;
  bool ok = false;
  switch (v) {
    case Verb::cas:
      ok = one_of(*first, {"STORED", "EXISTS", "NOT_FOUND"});
      break;
    case Verb::delete_:
      ok = one_of(*first, {"DELETED", "NOT_FOUND"});
      break;
    case Verb::touch:
      ok = one_of(*first, {"TOUCHED", "NOT_FOUND"});
      break;
    case Verb::flush_all:
    case Verb::verbosity:
      ok = *first == "OK";
      break;
    case Verb::stats:  // stats reset
      ok = *first == "RESET";
      break;
    case Verb::version:
      // A line shorter than "VERSION " must not be cut past its end (substr throws).
      ok = first->rfind("VERSION ", 0) == 0;
      reply.word = "VERSION";
      if (ok) reply.lines.push_back(first->substr(8));
      break;
    case Verb::incr:
    case Verb::decr:
      if (*first == "NOT_FOUND") {
        ok = true;
      } else {
        ok = parse_u64(*first, reply.number);
        reply.word = "NUMBER";
      }
      break;
    default:
      ok = is_storage(v) && one_of(*first, {"STORED", "NOT_STORED"});
      break;
  }
  if (!ok) return mismatch(*first);
  return reply;
}

Status McReader::closed(Instant deadline) {
  // A SERVER_ERROR or the connection limit's ERROR line may come first: any request may be
  // refused so, quit included.
  for (int lines = 0; lines < 2; ++lines) {
    auto l = line(deadline);
    if (!l) {
      const Errc code = l.error().code;
      return code == Errc::closed || code == Errc::reset ? Status{} : Status(l.error());
    }
    if (l->rfind("SERVER_ERROR", 0) != 0 && *l != kTooManyConnections) {
      return make_error(Errc::protocol, "'" + l->substr(0, 32) + "' after quit");
    }
  }
  return make_error(Errc::protocol, "SERVER_ERROR lines after quit");
}

bool is_too_large(const Error& e) {
  return e.code == Errc::io_error && e.what == "SERVER_ERROR object too large for cache";
}

bool is_non_numeric(const Error& e) {
  return e.code == Errc::invalid_argument &&
         e.what == "CLIENT_ERROR cannot increment or decrement non-numeric value";
}

Result<McReply> McConnection::call(const Request& request, Instant deadline) {
  if (Status s = s_.write(encode(request), deadline); !s) return s.error();
  // quit has no reply: the server closes the connection.
  if (request.noreply || request.verb == Verb::quit) return McReply{};
  return reader_.next(request, deadline);
}

std::optional<std::uint64_t> McConnection::stat(const McReply& stats, std::string_view name) {
  for (const std::string& l : stats.lines) {
    const auto w = words(l);
    std::uint64_t v = 0;
    if (w.size() == 3 && w[1] == name && parse_u64(w[2], v)) return v;
  }
  return std::nullopt;
}

}  // namespace doppel::kv

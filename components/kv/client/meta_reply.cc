// Reading the replies of meta commands (protocol.txt "Meta Commands"), checked against the
// request: the code is one the command may answer, VA only when the value was asked for, and
// the returned flags are exactly those asked for, in their order (on a failure code only k and
// O, and ms's c as c0), with k naming the key and O echoing the opaque token.

#include <algorithm>
#include <charconv>

#include "base/base64.h"
#include "components/kv/client/memcached_client.h"
#include "components/kv/protocol/response.h"

namespace doppel::kv {
namespace {

// Any error reply: memcached's plain ERROR, the connection limit's "ERROR Too many open
// connections", CLIENT_ERROR and SERVER_ERROR.
bool is_error_line(std::string_view line) {
  return line == "ERROR" || line.starts_with("ERROR ") || line.starts_with("CLIENT_ERROR") ||
         line.starts_with("SERVER_ERROR");
}

std::string_view codes_of(Verb verb) {
  switch (verb) {
    case Verb::mg:
      return "VA HD EN";
    case Verb::ms:
      return "HD NS EX NF";
    case Verb::md:
      return "HD NF EX";
    case Verb::ma:
      return "VA HD NF NS EX";
    case Verb::mn:
      return "MN";
    case Verb::me:
      return "ME EN";
    default:
      return "";
  }
}

std::vector<std::string_view> split(std::string_view line) {
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

// Whether `line` is the reply of `request`: a meta code with its opaque token.
bool answers(const Request& request, std::string_view line) {
  const auto w = split(line);
  if (w.empty() || w[0].size() != 2 || w[0] == "MN" || w[0] == "ME") return false;
  const std::string token = "O" + request.meta.opaque;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == token) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> McReply::meta_flag(char letter) const {
  for (const auto& [l, token] : meta_flags) {
    if (l == letter) return token;
  }
  return std::nullopt;
}

Result<std::string> McReader::peek_line(Instant deadline) {
  for (;;) {
    const auto nl = buf_.find("\r\n", start_);
    if (nl != std::string::npos) return buf_.substr(start_, nl - start_);
    if (Status s = need(buf_.size() - start_ + 1, deadline); !s) return s.error();
  }
}

Result<McReply> McReader::meta_reply(const Request& r, Instant deadline) {
  const MetaFlags& m = r.meta;
  if (m.quiet) {
    DOPPEL_ASSERT_MSG(std::find(m.returned.begin(), m.returned.end(), 'O') != m.returned.end(),
                      "a q request without an opaque token cannot be read back");
    auto head = peek_line(deadline);
    if (!head) return head.error();
    if (is_error_line(*head)) {
      return make_error(Errc::io_error,
                        "'" + *head + "' where a q request's reply may be left out");
    }
    if (!answers(r, *head)) return McReply{};  // left out: the line is a later request's
  }
  auto first = line(deadline);
  if (!first) return first.error();
  if (first->rfind("SERVER_ERROR", 0) == 0 || *first == kTooManyConnections) {
    return make_error(Errc::io_error, *first);
  }
  if (*first == "ERROR" || first->rfind("CLIENT_ERROR", 0) == 0) {
    return make_error(Errc::invalid_argument, *first);
  }
  const auto mismatch = [&](std::string_view why) {
    return make_error(Errc::protocol, "'" + first->substr(0, 96) + "' in reply to " +
                                          std::string(verb_name(r.verb)) +
                                          (r.keys.empty() ? "" : " " + r.keys[0]) + ": " +
                                          std::string(why));
  };
  const auto w = split(*first);
  if (w.empty() || w[0].size() != 2 || split(codes_of(r.verb)).empty()) return mismatch("no code");
  bool code_ok = false;
  for (std::string_view c : split(codes_of(r.verb))) code_ok = code_ok || c == w[0];
  if (!code_ok) return mismatch("a code this command does not answer");
  McReply reply;
  reply.word = std::string(w[0]);
  if (r.verb == Verb::mn) return w.size() == 1 ? Result<McReply>(reply) : mismatch("MN with more");
  if (reply.word == "ME") {
    reply.lines.push_back(first->substr(3));
    return reply;
  }
  std::size_t at = 1;
  std::uint64_t value_bytes = 0;
  if (reply.word == "VA") {
    if (!m.value) return mismatch("VA without v");
    if (w.size() < 2) return mismatch("VA without a size");
    const auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), value_bytes);
    if (ec != std::errc{} || p != w[1].data() + w[1].size() || value_bytes > kBufferBytesMax) {
      return mismatch("a bad VA size");
    }
    at = 2;
  } else if (reply.word == "HD" && m.value && r.verb == Verb::mg) {
    return mismatch("HD where v asked for the value");
  }
  for (; at < w.size(); ++at) reply.meta_flags.emplace_back(w[at][0], std::string(w[at].substr(1)));
  // The flags that must have come back, in order.
  const bool success = reply.word == "VA" || reply.word == "HD";
  std::vector<char> expected;
  for (const char letter : m.returned) {
    if (success || letter == 'k' || letter == 'O' || (letter == 'c' && r.verb == Verb::ms)) {
      expected.push_back(letter);
      if (letter == 'k' && m.base64_key) expected.push_back('b');
    }
  }
  std::size_t i = 0;
  for (; i < expected.size(); ++i) {
    if (i >= reply.meta_flags.size() || reply.meta_flags[i].first != expected[i]) {
      return mismatch(std::string("flag ") + expected[i] + " missing or out of order");
    }
  }
  for (; i < reply.meta_flags.size(); ++i) {
    const char extra = reply.meta_flags[i].first;
    const bool allowed = r.verb == Verb::mg && success &&
                         (extra == 'W' || extra == 'X' || extra == 'Z') &&
                         reply.meta_flags[i].second.empty();
    if (!allowed) return mismatch(std::string("an extra flag ") + extra);
  }
  if (auto k = reply.meta_flag('k')) {
    const std::string want = m.base64_key ? base64_encode(r.keys[0]) : r.keys[0];
    if (*k != want) return mismatch("k names another key");
  }
  if (auto o = reply.meta_flag('O'); o && *o != m.opaque) return mismatch("O is not the opaque");
  if (reply.word == "VA") {
    if (Status s = need(value_bytes + 2, deadline); !s) return s.error();
    if (buf_.compare(start_ + value_bytes, 2, "\r\n") != 0) {
      return mismatch("data not ended by CRLF");
    }
    McValue v;
    v.key = r.keys[0];
    v.data = buf_.substr(start_, value_bytes);
    start_ += value_bytes + 2;
    reply.values.push_back(std::move(v));
  }
  return reply;
}

}  // namespace doppel::kv

#include "scenarios/kv/memcached_client.h"

#include <charconv>

namespace doppel::scenarios::kv {

std::string encode(const McRequest& r) {
  if (r.f == "get") return "get " + r.key + "\r\n";
  if (r.f == "delete") return "delete " + r.key + "\r\n";
  const std::string verb = r.f == "append" ? "append" : "set";
  return verb + " " + r.key + " 0 0 " + std::to_string(r.value.size()) + "\r\n" + r.value + "\r\n";
}

Status McReader::need(std::size_t bytes, Instant deadline) {
  while (buf_.size() - start_ < bytes) {
    if (buf_.size() > kBufferBytesMax) return make_error(Errc::too_large, "reply too large");
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    char tmp[4096];
    auto n = s_.read(tmp, deadline);
    if (!n) return n.error();
    if (*n == 0) return make_error(Errc::closed, "server closed");
    buf_.append(tmp, *n);
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

Result<McReply> McReader::next(const McRequest& request, Instant deadline) {
  auto first = line(deadline);
  if (!first) return first.error();
  // Any command may be answered SERVER_ERROR (out of memory, too many
  // connections...): its outcome is unknown, and the server may close.
  if (first->rfind("SERVER_ERROR", 0) == 0) return make_error(Errc::io_error, *first);
  auto mismatch = [&](const std::string& got) {
    return make_error(Errc::protocol, "'" + got + "' in reply to " + request.f + " " + request.key);
  };
  if (request.f == "get") {
    if (*first == "END") return McReply{"END", {}};
    if (first->rfind("VALUE ", 0) != 0) return mismatch(*first);
    // VALUE <key> <flags> <bytes>
    const std::string rest = first->substr(6);
    const auto sp1 = rest.find(' ');
    const auto sp2 = rest.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) return mismatch(*first);
    if (rest.substr(0, sp1) != request.key) return mismatch(*first);
    std::size_t bytes = 0;
    const std::string count = rest.substr(sp2 + 1);
    auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), bytes);
    if (ec != std::errc() || p != count.data() + count.size()) return mismatch(*first);
    if (Status s = need(bytes + 2, deadline); !s) return s.error();
    McReply reply{"VALUE", buf_.substr(start_, bytes)};
    start_ += bytes + 2;
    auto end = line(deadline);
    if (!end) return end.error();
    if (*end != "END") return mismatch(*end);
    return reply;
  }
  const bool ok = request.f == "delete" ? (*first == "DELETED" || *first == "NOT_FOUND")
                                        : (*first == "STORED" || *first == "NOT_STORED");
  if (!ok) return mismatch(*first);
  return McReply{*first, {}};
}

}  // namespace doppel::scenarios::kv

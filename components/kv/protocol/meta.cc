// Meta command lines: "<cm> <key> [<datalen>] <flag>*". Where memcached 1.6.18 and we differ,
// on purpose (a test sends the same lines to both, tests/cli/kv_meta_test.sh):
// - An unknown flag is "CLIENT_ERROR invalid flag" (memcached words some "invalid or
//   duplicate flag"), a repeated one "CLIENT_ERROR duplicate flag", a bad number in a flag's
//   token "CLIENT_ERROR bad token in command line format", for every command. A flag only
//   another meta command takes is ignored once its token reads well, as memcached; me
//   reads only an exact "b" right after its key. We refuse at the first bad flag; memcached
//   lets a later invalid or duplicate flag win over an earlier bad number ("mg k Tx v v").
// - "l" (seconds since the last access) is refused by mg as an invalid flag: the store does
//   not keep access times (4 bytes an item; memory per item is this store's point). "h" is
//   kept.
// - A number takes no "+" (memcached's strtol takes "T+5").
// - ma writes the new number exactly and clears the item's marks; memcached, when it can
//   change the item in place, pads a shorter number with spaces and keeps the marks.
// - A past N on a miss answers as if it made the item, and keeps nothing (memcached makes an
//   item that is expired at once, and prints its TTL as an overflowed number).
// - A "k" answers the key base64-encoded (followed by " b") when the request's key was; memcached
//   remembers per item that its key was binary and encodes it whenever it is returned.
// - F takes 32 bits; more is a bad token (memcached truncates).
// - P and L tokens are ignored, as protocol.txt says (hints for proxies), each at most once.

#include "components/kv/protocol/meta.h"

#include <array>
#include <charconv>

#include "base/base64.h"
#include "runtime/assert.h"

namespace doppel::kv {
namespace {

// memcached refuses a meta line of 20 tokens or more ("options flags are too long").
constexpr std::size_t kTokensMax = 19;

constexpr std::string_view kError = "ERROR";
constexpr std::string_view kBadFormat = "CLIENT_ERROR bad command line format";
constexpr std::string_view kBadFlag = "CLIENT_ERROR invalid flag";
constexpr std::string_view kDuplicateFlag = "CLIENT_ERROR duplicate flag";
constexpr std::string_view kBadToken = "CLIENT_ERROR bad token in command line format";
constexpr std::string_view kBadKey = "CLIENT_ERROR error decoding key";
constexpr std::string_view kLongOpaque = "CLIENT_ERROR opaque token too long";
constexpr std::string_view kBadSetMode = "CLIENT_ERROR invalid mode for ms M token";
constexpr std::string_view kBadArithMode = "CLIENT_ERROR invalid mode for ma M token";
constexpr std::string_view kBadModeLength = "CLIENT_ERROR incorrect length for M token";
// mg's wording, and the others' (memcached 1.6.18).
constexpr std::string_view kTooManyFlagsGet = "CLIENT_ERROR options flags are too long";
constexpr std::string_view kTooManyFlags = "CLIENT_ERROR options flags too long";

// Every letter a meta command takes; one this command does not take is ignored.
constexpr std::string_view kMetaFlags = "bcfhklOqstuvNRTCFIMJDPL";

// The flags each command takes (P and L aside).
std::string_view flags_of(Verb verb) {
  switch (verb) {
    case Verb::mg:
      return "bcfhkOqstuvNRT";
    case Verb::ms:
      return "bcCFIkOqTM";
    case Verb::md:
      return "bCIkOqT";
    case Verb::ma:
      return "bCNJDTMqtcvkO";
    case Verb::me:
      return "b";
    default:
      return "";
  }
}

// The flags that put something in the reply, in the order the request gave them.
constexpr std::string_view kReturnedFlags = "cfhkOst";

std::string_view next_token(std::string_view* rest) {
  const std::size_t begin = rest->find_first_not_of(' ');
  if (begin == std::string_view::npos) {
    *rest = {};
    return {};
  }
  std::size_t end = rest->find(' ', begin);
  if (end == std::string_view::npos) end = rest->size();
  const std::string_view token = rest->substr(begin, end - begin);
  rest->remove_prefix(end);
  return token;
}

template <class T>
bool parse_number(std::string_view token, T* out) {
  if (token.empty() || token.front() == '+') return false;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, *out);
  return ec == std::errc{} && ptr == end;
}

template <class T>
bool set_number(std::string_view token, std::optional<T>* field) {
  T value{};
  if (!parse_number(token, &value)) return false;
  *field = value;
  return true;
}

ProtocolError refusal(std::string_view line) {
  return ProtocolError{std::string(line)};
}

// One flag (its letter and token) into `meta`; an error line, or "" when it is good.
std::string_view apply_flag(Verb verb, char letter, std::string_view token, MetaFlags& meta) {
  if (kReturnedFlags.find(letter) != std::string_view::npos) meta.returned += letter;
  switch (letter) {
    case 'b':
      meta.base64_key = true;
      return {};
    case 'q':
      meta.quiet = true;
      return {};
    case 'u':
      meta.no_bump = true;
      return {};
    case 'v':
      meta.value = true;
      return {};
    case 'I':
      meta.invalidate = true;
      return {};
    case 'O':
      if (token.size() > MetaFlags::kOpaqueBytesMax) return kLongOpaque;
      meta.opaque = std::string(token);
      return {};
    case 'T':
      return set_number(token, &meta.ttl) ? std::string_view{} : kBadToken;
    case 'N':
      return set_number(token, &meta.vivify_ttl) ? std::string_view{} : kBadToken;
    case 'R':
      return set_number(token, &meta.recache_s) ? std::string_view{} : kBadToken;
    case 'C':
      return set_number(token, &meta.compare_cas) ? std::string_view{} : kBadToken;
    case 'F':
      return set_number(token, &meta.client_flags) ? std::string_view{} : kBadToken;
    case 'J':
      return set_number(token, &meta.initial) ? std::string_view{} : kBadToken;
    case 'D':
      return set_number(token, &meta.delta) ? std::string_view{} : kBadToken;
    case 'M': {
      const std::string_view modes = verb == Verb::ms ? "EAPRS" : "I+D-";
      if (token.size() != 1) return kBadModeLength;
      if (modes.find(token[0]) == std::string_view::npos) {
        return verb == Verb::ms ? kBadSetMode : kBadArithMode;
      }
      meta.mode = token[0];
      return {};
    }
    default:  // the returned flags without a token
      return {};
  }
}

}  // namespace

MetaLine parse_meta_line(Verb verb, std::string_view args, const ProtocolLimits& limits) {
  DOPPEL_ASSERT(is_meta(verb));
  Request request{.verb = verb};
  if (verb == Verb::mn) return {request, std::nullopt};  // arguments ignored, as memcached
  const std::string_view key = next_token(&args);
  // me words its refusals as a bad line; the others answer a missing key as an unknown command.
  const std::string_view no_key = verb == Verb::me ? kBadFormat : kError;
  if (key.empty()) return {refusal(no_key), std::nullopt};
  // The key as sent (base64 or not) is held to the limit, and the line to kTokensMax, before
  // its data block is known: memcached then reads the block as a command line.
  if (key.size() > limits.key_bytes_max) return {refusal(kBadFormat), std::nullopt};
  std::size_t tokens = 2;
  for (std::string_view rest = args; !next_token(&rest).empty();) ++tokens;
  if (tokens > kTokensMax && verb != Verb::me) {
    return {refusal(verb == Verb::mg ? kTooManyFlagsGet : kTooManyFlags), std::nullopt};
  }
  MetaLine line{request, std::nullopt};
  if (verb == Verb::ms) {
    std::uint64_t bytes = 0;
    if (!parse_number(next_token(&args), &bytes) || bytes > limits.bytes_field_max) {
      return {refusal(kBadFormat), std::nullopt};
    }
    line.data_bytes = bytes;
  }
  // Every flag first, then the key: "b" says how to read it.
  MetaFlags& meta = std::get<Request>(line.outcome).meta;
  std::array<bool, 128> seen{};
  const std::string_view allowed = flags_of(verb);
  // memcached's me reads one flag, an exact "b" right after the key, and ignores the rest.
  if (verb == Verb::me) {
    meta.base64_key = next_token(&args) == "b";
    args = {};
  }
  for (std::string_view t = next_token(&args); !t.empty(); t = next_token(&args)) {
    const char letter = t.front();
    const auto index = static_cast<unsigned char>(letter);
    const bool refused_here = verb == Verb::mg && letter == 'l';
    if (index >= seen.size() || kMetaFlags.find(letter) == std::string_view::npos || refused_here) {
      line.outcome = refusal(kBadFlag);
      return line;
    }
    if (seen[index]) {
      line.outcome = refusal(kDuplicateFlag);
      return line;
    }
    seen[index] = true;
    if (allowed.find(letter) == std::string_view::npos) {
      // P, L, or another command's flag: ignored, once its token reads well.
      MetaFlags unused;
      std::string_view error = letter == 'M' && t.size() != 2 ? kBadModeLength
                               : letter == 'M'                ? std::string_view{}
                                               : apply_flag(verb, letter, t.substr(1), unused);
      if (letter == 'O' || letter == 'P' || letter == 'L') error = {};
      if (!error.empty()) {
        line.outcome = refusal(error);
        return line;
      }
      continue;
    }
    if (const std::string_view error = apply_flag(verb, letter, t.substr(1), meta);
        !error.empty()) {
      line.outcome = refusal(error);
      return line;
    }
  }
  std::string decoded;
  if (meta.base64_key) {
    auto d = base64_decode(key);
    if (!d) {
      line.outcome = refusal(verb == Verb::me ? kBadFormat : kBadKey);
      return line;
    }
    decoded = std::move(*d);
  } else {
    decoded = std::string(key);
  }
  // A decoded key may hold any bytes (that is what "b" is for); a plain one is a token.
  if (decoded.empty()) {
    line.outcome = refusal(kBadFormat);
    return line;
  }
  std::get<Request>(line.outcome).keys.push_back(std::move(decoded));
  return line;
}

void append_meta_request(std::string& out, const Request& r) {
  DOPPEL_ASSERT(is_meta(r.verb));
  out += verb_name(r.verb);
  if (r.verb == Verb::mn) return;
  DOPPEL_ASSERT(r.keys.size() == 1);
  const MetaFlags& m = r.meta;
  out += ' ';
  out += m.base64_key ? base64_encode(r.keys[0]) : r.keys[0];
  if (r.verb == Verb::ms) out += ' ' + std::to_string(r.data.size());
  if (m.base64_key) out += " b";
  for (const char letter : m.returned) {
    out += ' ';
    out += letter;
    if (letter == 'O') out += m.opaque;
  }
  const auto flag = [&](char letter, bool on) {
    if (on) (out += ' ', out += letter);
  };
  const auto number = [&](char letter, const auto& field) {
    if (field) (out += ' ', out += letter, out += std::to_string(*field));
  };
  flag('q', m.quiet);
  flag('u', m.no_bump);
  flag('v', m.value);
  flag('I', m.invalidate);
  number('T', m.ttl);
  number('N', m.vivify_ttl);
  number('R', m.recache_s);
  number('C', m.compare_cas);
  number('F', m.client_flags);
  number('J', m.initial);
  number('D', m.delta);
  if (m.mode != 0) (out += " M", out += m.mode);
}

}  // namespace doppel::kv

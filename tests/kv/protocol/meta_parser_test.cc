// The meta commands (mg, ms, md, ma, mn, me) through the parser: each flag into its MetaFlags
// field, every error line, the data block of ms under every split size, and the stream back in
// sync after each refusal. Expected lines are memcached 1.6.18's, or meta.cc's documented choice
// where it differs on purpose.

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/base64.h"
#include "components/kv/protocol/parser.h"
#include "protocol_test_support.h"

using namespace doppel::kv;
using namespace doppel::kv::test;
using namespace std::string_literals;

namespace {

const std::string kError = "ERROR";
const std::string kBadFormat = "CLIENT_ERROR bad command line format";
const std::string kBadFlag = "CLIENT_ERROR invalid flag";
const std::string kDuplicateFlag = "CLIENT_ERROR duplicate flag";
const std::string kBadToken = "CLIENT_ERROR bad token in command line format";
const std::string kBadKey = "CLIENT_ERROR error decoding key";
const std::string kLongOpaque = "CLIENT_ERROR opaque token too long";
const std::string kBadSetMode = "CLIENT_ERROR invalid mode for ms M token";
const std::string kBadArithMode = "CLIENT_ERROR invalid mode for ma M token";
const std::string kBadModeLength = "CLIENT_ERROR incorrect length for M token";
// A line of 20 tokens or more: mg's words, and those of ms, md and ma (memcached 1.6.18).
const std::string kTooManyFlagsGet = "CLIENT_ERROR options flags are too long";
const std::string kTooManyFlags = "CLIENT_ERROR options flags too long";
const std::string kTooLarge = "SERVER_ERROR object too large for cache";

struct Case {
  std::string text;
  Request expected;
};

Request meta(Verb verb, std::string key, MetaFlags flags, std::string data = "") {
  return Request{.verb = verb, .keys = {std::move(key)}, .data = std::move(data), .meta = flags};
}

std::vector<Case> every_meta_command() {
  const std::string key250(250, 'k');
  const std::string opaque31(31, 'o');
  return {
      // mg: returned flags in request order, with the opaque's value.
      {"mg k1 v f c k s t h O9 q\r\n",
       meta(Verb::mg, "k1", {.returned = "fcksthO", .opaque = "9", .quiet = true, .value = true})},
      {"mg k O9 t c\r\n", meta(Verb::mg, "k", {.returned = "Otc", .opaque = "9"})},
      {"mg k u T30 N-5 R10 h\r\n",
       meta(Verb::mg, "k",
            {.returned = "h", .no_bump = true, .ttl = 30, .vivify_ttl = -5, .recache_s = 10})},
      {"mg k T-9223372036854775808 R9223372036854775807\r\n",
       meta(Verb::mg, "k", {.ttl = INT64_MIN, .recache_s = INT64_MAX})},
      {"mg k O\r\n", meta(Verb::mg, "k", {.returned = "O"})},
      {"mg k O" + opaque31 + "\r\n", meta(Verb::mg, "k", {.returned = "O", .opaque = opaque31})},
      {"mg k\r\n", meta(Verb::mg, "k", {})},
      {"mg " + key250 + " v\r\n", meta(Verb::mg, key250, {.value = true})},
      // Every mg flag at once, P, L and a flag of ms: 19 tokens, the most a meta line may have.
      {"mg a2V5 b c f h k O1 q s t u v N1 R2 T3 P1 L2 C5\r\n", meta(Verb::mg, "key",
                                                                    {.returned = "cfhkOst",
                                                                     .opaque = "1",
                                                                     .base64_key = true,
                                                                     .quiet = true,
                                                                     .no_bump = true,
                                                                     .value = true,
                                                                     .ttl = 3,
                                                                     .vivify_ttl = 1,
                                                                     .recache_s = 2})},
      // b: the key decoded, any bytes (a "k" answers it encoded again: the server's job).
      {"mg a2V5 b k v\r\n",
       meta(Verb::mg, "key", {.returned = "k", .base64_key = true, .value = true})},
      {"mg AAEC/w== b\r\n", meta(Verb::mg, "\0\1\2\xff"s, {.base64_key = true})},
      {"mg IA0K b\r\n", meta(Verb::mg, " \r\n", {.base64_key = true})},
      // memcached's leniencies: runs of spaces, a bare "\n".
      {"mg  k   v  \r\n", meta(Verb::mg, "k", {.value = true})},
      {"mg k v\n", meta(Verb::mg, "k", {.value = true})},
      // ms: <datalen> then flags, then the data block.
      {"ms k1 2 T0 F5 c k O123\r\nhi\r\n",
       meta(Verb::ms, "k1", {.returned = "ckO", .opaque = "123", .ttl = 0, .client_flags = 5},
            "hi")},
      {"ms k 3 MA I C99 q\r\nabc\r\n",
       meta(Verb::ms, "k", {.quiet = true, .invalidate = true, .compare_cas = 99, .mode = 'A'},
            "abc")},
      {"ms k 1 ME\r\nx\r\n", meta(Verb::ms, "k", {.mode = 'E'}, "x")},
      {"ms k 1 MP\r\nx\r\n", meta(Verb::ms, "k", {.mode = 'P'}, "x")},
      {"ms k 1 MR\r\nx\r\n", meta(Verb::ms, "k", {.mode = 'R'}, "x")},
      {"ms k 1 MS\r\nx\r\n", meta(Verb::ms, "k", {.mode = 'S'}, "x")},
      {"ms k 0\r\n\r\n", meta(Verb::ms, "k", {})},
      {"ms k 4 F4294967295\r\na\r\nb\r\n",
       meta(Verb::ms, "k", {.client_flags = 4294967295u}, "a\r\nb")},
      {"ms k 2 C18446744073709551615\r\n\0\xff\r\n"s,
       meta(Verb::ms, "k", {.compare_cas = UINT64_MAX}, "\0\xff"s)},
      {"ms a2V5 2 b k\r\nhi\r\n",
       meta(Verb::ms, "key", {.returned = "k", .base64_key = true}, "hi")},
      {"ms k 1\nx\r\n", meta(Verb::ms, "k", {}, "x")},
      // md
      {"md k\r\n", meta(Verb::md, "k", {})},
      {"md k I T30 C7 k O5 q\r\n", meta(Verb::md, "k",
                                        {.returned = "kO",
                                         .opaque = "5",
                                         .quiet = true,
                                         .invalidate = true,
                                         .ttl = 30,
                                         .compare_cas = 7})},
      // ma
      {"ma k\r\n", meta(Verb::ma, "k", {})},
      {"ma k N0 J10 D5 MD T-1 C3 q t c v k O1\r\n", meta(Verb::ma, "k",
                                                         {.returned = "tckO",
                                                          .opaque = "1",
                                                          .quiet = true,
                                                          .value = true,
                                                          .ttl = -1,
                                                          .vivify_ttl = 0,
                                                          .compare_cas = 3,
                                                          .initial = 10,
                                                          .delta = 5,
                                                          .mode = 'D'})},
      {"ma k MI\r\n", meta(Verb::ma, "k", {.mode = 'I'})},
      {"ma k M+\r\n", meta(Verb::ma, "k", {.mode = '+'})},
      {"ma k M-\r\n", meta(Verb::ma, "k", {.mode = '-'})},
      {"ma k D18446744073709551615 J18446744073709551615\r\n",
       meta(Verb::ma, "k", {.initial = UINT64_MAX, .delta = UINT64_MAX})},
      // mn ignores its arguments, as memcached; me takes a key and b.
      {"mn\r\n", Request{.verb = Verb::mn}},
      {"mn a b c\r\n", Request{.verb = Verb::mn}},
      {"mn zz Z v v\r\n", Request{.verb = Verb::mn}},
      {"me k\r\n", meta(Verb::me, "k", {})},
      {"me a2V5 b\r\n", meta(Verb::me, "key", {.base64_key = true})},
      // P and L (proxy hints) are ignored, each at most once.
      {"mg vv v Lhint Pabc\r\n", meta(Verb::mg, "vv", {.value = true})},
      {"mg k P L v\r\n", meta(Verb::mg, "k", {.value = true})},
      {"ms vv 5 P/x Lhint\r\nhello\r\n", meta(Verb::ms, "vv", {}, "hello")},
      {"ma k Px D2\r\n", meta(Verb::ma, "k", {.delta = 2})},
      // A flag another meta command takes is ignored once its token reads well, as memcached:
      // a number that parses, an M of one character (whatever mode), any other token.
      {"mg k C1 v\r\n", meta(Verb::mg, "k", {.value = true})},
      {"mg k MX I F1 J0 D18446744073709551615\r\n", meta(Verb::mg, "k", {})},
      {"md k v s t f h c l k\r\n", meta(Verb::md, "k", {.returned = "k"})},
      {"md k s t f h c u R1 J0 D0 MX\r\n", meta(Verb::md, "k", {})},
      {"ma k F9 I l s f h\r\n", meta(Verb::ma, "k", {})},
      {"ms k 1 v N5 R-3 h l t s f u\r\nx\r\n", meta(Verb::ms, "k", {}, "x")},
      // me reads no flag but b: any other token is ignored, unread, however often.
      {"me k v k O1 c T+1 q l\r\n", meta(Verb::me, "k", {})},
      {"me k Cx v zz\r\n", meta(Verb::me, "k", {})},
      {"me a2V5 b v v MEA Nabc !!\r\n", meta(Verb::me, "key", {.base64_key = true})},
  };
}

// A command that must parse after each error: proof that the stream is back in sync.
const std::string kProbe = "mn\r\n";

// Feeds `text` + kProbe under every split size and expects `expected` then the probe.
void require_outcomes(const std::string& text, std::vector<ParseOutcome> expected,
                      const ProtocolLimits& limits = {}) {
  expected.push_back(Request{.verb = Verb::mn});
  for (const std::size_t split : kSplitSizes) {
    CAPTURE(escape(text), split);
    const FeedResult result = feed(text + kProbe, {split}, limits);
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == expected);
  }
}

void require_error(const std::string& text, const std::string& reply,
                   const ProtocolLimits& limits = {}) {
  require_outcomes(text, {error_outcome(reply)}, limits);
}

ParseOutcome too_large(std::string drop_key) {
  ProtocolError e{kTooLarge, false, false};
  e.drop_key = std::move(drop_key);
  return e;
}

// Small enough that a too-large value is a few bytes.
const ProtocolLimits kSmallValues{.value_bytes_max = 16, .bytes_field_max = 1000};

// The letters some meta command takes, P and L (proxy hints) included: a command ignores those
// it does not take. Any other first byte of a flag is an invalid flag.
const std::string kEveryMetaFlag = "bcfhklOqstuvNRTCFIMJDPL";

// The flags each command takes (protocol.txt), P and L aside.
std::string flags_taken_by(Verb verb) {
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

// "<verb> k" (and ms's datalen) then `flags`, then ms's data block "x".
std::string line_of(Verb verb, const std::string& flags) {
  const std::string name(verb_name(verb));
  if (verb == Verb::ms) return name + " k 1" + flags + "\r\nx\r\n";
  return name + " k" + flags + "\r\n";
}

// What line_of(verb, flags) parses into when the command ignores every one of the flags.
Request bare(Verb verb) {
  return meta(verb, "k", {}, verb == Verb::ms ? "x" : "");
}

const std::vector<Verb> kKeyedMetaVerbs = {Verb::mg, Verb::ms, Verb::md, Verb::ma, Verb::me};

}  // namespace

TEST_CASE("kv meta: every meta command parses into its request, whole and at every split size",
          "[unit]") {
  for (const Case& c : every_meta_command()) {
    for (const std::size_t split : kSplitSizes) {
      CAPTURE(escape(c.text), split);
      const FeedResult result = feed(c.text, {split});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == std::vector<ParseOutcome>{c.expected});
    }
  }
}

TEST_CASE("kv meta: pipelined meta and classic commands come out in order", "[unit]") {
  std::string text = "get a\r\n";
  std::vector<ParseOutcome> expected = {Request{.verb = Verb::get, .keys = {"a"}}};
  for (const Case& c : every_meta_command()) {
    text += c.text + "set s 0 0 2\r\nms\r\n";
    expected.push_back(c.expected);
    expected.push_back(Request{.verb = Verb::set, .keys = {"s"}, .data = "ms"});
  }
  for (const std::size_t split : kSplitSizes) {
    CAPTURE(split);
    const FeedResult result = feed(text, {split});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == expected);
  }
}

TEST_CASE("kv meta: an ms split at every byte and every pair of bytes parses the same", "[unit]") {
  const std::string text = "ms a2V5 10 b T-1 F5 c MS\r\n0123\r\n6789\r\nmg key v\r\n";
  const std::vector<ParseOutcome> expected = {
      meta(Verb::ms, "key",
           {.returned = "c", .base64_key = true, .ttl = -1, .client_flags = 5, .mode = 'S'},
           "0123\r\n6789"),
      meta(Verb::mg, "key", {.value = true})};
  for (std::size_t first = 1; first < text.size(); ++first) {
    for (std::size_t second = 1; first + second <= text.size(); ++second) {
      CAPTURE(first, second);
      const FeedResult result = feed(text, {first, second, text.size()});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == expected);
    }
  }
}

TEST_CASE("kv meta: the returned flags keep the request's order, whatever it is", "[unit]") {
  std::string letters = "cfhkst";  // sorted: next_permutation visits all 720 orders
  do {
    const std::string text = "mg k v " + std::string(1, letters[0]) + " " + letters[1] + " " +
                             letters[2] + " " + letters[3] + " " + letters[4] + " " + letters[5] +
                             "\r\n";
    CAPTURE(text);
    const FeedResult result = feed(text, {text.size()});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes ==
            std::vector<ParseOutcome>{meta(Verb::mg, "k", {.returned = letters, .value = true})});
  } while (std::next_permutation(letters.begin(), letters.end()));
}

TEST_CASE("kv meta: P and L tokens are ignored wherever they stand, once each but by me",
          "[unit]") {
  const auto parse_one = [](const std::string& text) {
    const FeedResult result = feed(text, {text.size()});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes.size() == 1);
    return result.outcomes[0];
  };
  REQUIRE(parse_one("mg k Pa v Lb t\r\n") == parse_one("mg k v t\r\n"));
  REQUIRE(parse_one("mg k v P t L\r\n") == parse_one("mg k v t\r\n"));
  REQUIRE(parse_one("md k L I P\r\n") == parse_one("md k I\r\n"));
  REQUIRE(parse_one("ms k 1 P L F2\r\nx\r\n") == parse_one("ms k 1 F2\r\nx\r\n"));
  REQUIRE(parse_one("ma k P/a/b L9 MD\r\n") == parse_one("ma k MD\r\n"));
  REQUIRE(parse_one("me k P\r\n") == parse_one("me k\r\n"));
  // A second P or L is a duplicate flag, as any repeated letter (memcached's seen[]).
  require_error("mg k Pa v Pc\r\n", kDuplicateFlag);
  require_error("mg k L L\r\n", kDuplicateFlag);
  require_error("md k P1 L1 P1\r\n", kDuplicateFlag);
  require_error("ma k L Lx\r\n", kDuplicateFlag);
  require_error("ms k 1 L1 L2\r\nx\r\n", kDuplicateFlag);
  // me reads no flag but b: it checks no duplicate.
  require_outcomes("me k P P\r\n", {bare(Verb::me)});
  require_outcomes("me k L P L P1\r\n", {bare(Verb::me)});
}

TEST_CASE("kv meta: mn ignores its arguments", "[unit]") {
  for (const std::string text :
       {"mn\r\n", "mn k\r\n", "mn k v v zz\r\n", "mn !!! b\r\n", "mn k P P L L\r\n"}) {
    require_outcomes(text, {Request{.verb = Verb::mn}});
  }
}

TEST_CASE("kv meta: a meta command without a key is ERROR", "[unit]") {
  for (const std::string text : {"mg\r\n", "mg   \r\n", "ms\r\n", "md\r\n", "ma\r\n"}) {
    require_error(text, kError);
  }
}

TEST_CASE("kv meta: an unknown flag is an invalid flag, but to me", "[unit]") {
  for (const std::string text :
       {"mg k1 zz\r\n", "mg k1 Z\r\n", "mg k \xff\r\n", "mg k v \x01\r\n", "md k y\r\n",
        "ma k a\r\n", "mg k l\r\n"}) {  // l: no access times (meta.cc)
    require_error(text, kBadFlag);
  }
  // The refused ms still swallows its data block.
  require_error("ms k 1 zz\r\nx\r\n", kBadFlag);
  // me reads no flag but b: an unknown one is ignored like any other.
  for (const std::string flags : {" x", " zz", " Z \xff", " \x01 y"}) {
    require_outcomes(line_of(Verb::me, flags), {bare(Verb::me)});
  }
}

// memcached 1.6.18 parses every meta flag for every meta command and ignores those the command
// does not use ("mg k C1" is HD, "md k v" NF): ignored once its token reads well. A number (N,
// T, R, C, J, D, F) must parse ("mg k Cx" is a bad token), an M token must be one character
// ("mg k MEA" is a wrong length; the mode is not checked, "mg k MX" is ignored); O, P, L and the
// returned letters are ignored whatever their token. They put nothing in the reply. me reads no
// flag but b: every other token is ignored, whatever it holds.
TEST_CASE("kv meta: a flag only another meta command takes is ignored once its token reads well",
          "[unit]") {
  for (const std::string flags :
       {" F1", " I", " I F1 s f h l", " R-5", " F4294967295", " uxyz s!! h9 f- lzz Iq"}) {
    require_outcomes(line_of(Verb::ma, flags), {bare(Verb::ma)});
  }
  for (const std::string flags :
       {" v", " N5", " s t f h c u R1 J0 D0 MX", " l", " M1", " vxyz s!! h9", " N-1 R-1 F0"}) {
    require_outcomes(line_of(Verb::md, flags), {bare(Verb::md)});
  }
  for (const std::string flags : {" v", " k O1 c", " T+1 q", " Ccas", " l", " Cx v zz", " MEA",
                                  " Nabc Dx J F-1 R", " M", " v v c c", " !!! \xff"}) {
    require_outcomes(line_of(Verb::me, flags), {bare(Verb::me)});
  }
  for (const std::string flags : {" C1", " I", " M1", " MX", " MS", " F4294967295 J0 D0",
                                  " C18446744073709551615 J18446744073709551615", " Ixyz"}) {
    require_outcomes(line_of(Verb::mg, flags), {bare(Verb::mg)});
  }
  for (const std::string flags :
       {" v", " N5", " R-1 h t s f u", " l", " J1 D1", " N-9223372036854775808", " vv h!"}) {
    require_outcomes(line_of(Verb::ms, flags), {bare(Verb::ms)});
  }
  // A number that does not parse: a bad token, for the type the flag has where it is taken.
  for (const std::string text :
       {"mg k Cx\r\n", "mg k C\r\n", "mg k C-1\r\n", "mg k C18446744073709551616\r\n",
        "mg k F-1\r\n", "mg k F4294967296\r\n", "mg k Jx\r\n", "mg k D\r\n", "mg k v J1 D+1\r\n",
        "md k Nabc\r\n", "md k N9223372036854775808\r\n", "md k Rx\r\n", "md k J\r\n",
        "md k D-1\r\n", "md k Fx\r\n", "ma k R\r\n", "ma k Fx\r\n", "ma k F4294967296\r\n"}) {
    require_error(text, kBadToken);
  }
  // ms reads its datalen first: its refused line swallows the data block.
  require_error("ms k 1 Rx\r\nx\r\n", kBadToken);
  require_error("ms k 6 N\r\nmn\r\nmn\r\n", kBadToken);
  require_error("ms k 1 J-1\r\nx\r\n", kBadToken);
  require_error("ms k 1 Dabc\r\nx\r\n", kBadToken);
  // An M token of more or fewer than one character, for a command that takes no M.
  for (const std::string text : {"mg k MEA\r\n", "mg k M\r\n", "mg k v MII\r\n", "md k MEA\r\n",
                                 "md k M\r\n", "md k M12 q\r\n"}) {
    require_error(text, kBadModeLength);
  }
  // Among the flags a command does take, the ignored ones leave no trace in `returned`.
  require_outcomes("md k s t k f O7 h c\r\n",
                   {meta(Verb::md, "k", {.returned = "kO", .opaque = "7"})});
  require_outcomes("ms k 1 t c s k f h\r\nx\r\n", {meta(Verb::ms, "k", {.returned = "ck"}, "x")});
  require_outcomes("ma k h s t f c\r\n", {meta(Verb::ma, "k", {.returned = "tc"})});
  // "l" alone is refused by mg (meta.cc), and ignored by the others (above).
  require_error("mg k l\r\n", kBadFlag);
  require_error("mg k v l5\r\n", kBadFlag);
}

// Every first byte of a flag, for every command with a key, with a token that does not read as
// a number ("zz9") and one that does ("7"). To mg, md, ma and ms: a letter of another command's
// flag is ignored once its token reads well (a bad number is a bad token, an M token of other
// than one character a wrong length), "l" is refused by mg, any other byte is an invalid flag.
// To me, every byte but b is ignored. The flags a command takes are tested on their own.
TEST_CASE(
    "kv meta: any first byte of a flag: another command's letter is ignored once its "
    "token reads well, else invalid; me ignores all but b",
    "[unit]") {
  const std::string kNumbers = "NTRCJDF";
  for (const Verb verb : kKeyedMetaVerbs) {
    const std::string taken = flags_taken_by(verb);
    for (int byte = 0; byte < 256; ++byte) {
      const char letter = static_cast<char>(byte);
      if (letter == ' ' || letter == '\r' || letter == '\n') continue;
      if (taken.find(letter) != std::string::npos) continue;
      const bool meta_letter = kEveryMetaFlag.find(letter) != std::string::npos;
      const bool refused = !meta_letter || (verb == Verb::mg && letter == 'l');
      for (const std::string token : {"zz9", "7"}) {
        const std::string text = line_of(verb, " " + std::string(1, letter) + token);
        if (verb == Verb::me) {
          require_outcomes(text, {bare(verb)});
        } else if (refused) {
          require_error(text, kBadFlag);
        } else if (token == "zz9" && kNumbers.find(letter) != std::string::npos) {
          require_error(text, kBadToken);
        } else if (token == "zz9" && letter == 'M') {
          require_error(text, kBadModeLength);
        } else {
          require_outcomes(text, {bare(verb)});
        }
      }
    }
  }
}

// memcached 1.6.18's words where they are not meta.cc's common ones: an M token's length is
// checked first ("ms k 1 M", "ms k 1 MEA", "ma k MII" answer this line; ms swallows its data),
// and me refuses a missing key, and a key that does not decode, as a bad command line. The other
// commands answer a missing key "ERROR" and a bad base64 key "error decoding key".
TEST_CASE("kv meta: a wrong-length M token and a bad me key are worded as memcached", "[unit]") {
  for (const std::string mode : {"M", "MEA", "MSS", "M12"}) {
    require_error("ms k 1 " + mode + "\r\nx\r\n", kBadModeLength);
  }
  for (const std::string mode : {"M", "MII", "M+-", "MDD"}) {
    require_error("ma k " + mode + "\r\n", kBadModeLength);
  }
  require_error("me\r\n", kBadFormat);
  require_error("me   \r\n", kBadFormat);
  require_error("me !!! b\r\n", kBadFormat);
  require_error("me a2V b\r\n", kBadFormat);
  for (const std::string verb : {"mg", "md", "ma"}) {
    require_error(verb + "\r\n", kError);
    require_error(verb + " !!! b\r\n", kBadKey);
  }
  require_error("ms\r\n", kError);
  require_error("ms !!! 1 b\r\nx\r\n", kBadKey);
}

TEST_CASE("kv meta: a repeated flag is a duplicate flag, but to me", "[unit]") {
  for (const std::string text :
       {"mg k1 v v\r\n", "mg k1 t t\r\n", "mg k O1 O2\r\n", "mg k T1 v T1\r\n", "ma k D1 D2\r\n",
        "md k q q\r\n", "mg a2V5 b b\r\n", "mg k P P\r\n", "mg k L1 v L2\r\n",
        // A letter the command ignores is still counted.
        "mg k C1 C2\r\n", "md k v v\r\n", "ma k s s\r\n", "mg k MX MX\r\n"}) {
    require_error(text, kDuplicateFlag);
  }
  require_error("ms k 1 T1 T2\r\nx\r\n", kDuplicateFlag);
  require_error("ms k 1 v v\r\nx\r\n", kDuplicateFlag);
  // me reads no flag but b, and checks no duplicate, of b either.
  require_outcomes("me k v v\r\n", {bare(Verb::me)});
  require_outcomes("me k C1 C1 zz zz\r\n", {bare(Verb::me)});
  require_outcomes("me a2V5 b b\r\n", {meta(Verb::me, "key", {.base64_key = true})});
}

TEST_CASE("kv meta: a flag whose number does not parse is a bad token", "[unit]") {
  for (const std::string text :
       {"mg k Tabc\r\n", "mg k T\r\n", "mg k T+5\r\n", "mg k T1x\r\n", "mg k N1x\r\n", "mg k R\r\n",
        "mg k T9223372036854775808\r\n", "md k C-1\r\n", "ma k D-1\r\n", "ma k J\r\n",
        "ma k D18446744073709551616\r\n", "ma k C1.5\r\n"}) {
    require_error(text, kBadToken);
  }
  require_error("ms k 2 Tabc\r\nhi\r\n", kBadToken);
  require_error("ms k 1 F4294967296\r\nx\r\n", kBadToken);  // 32 bits (meta.cc)
  require_error("ms k 1 F-1\r\nx\r\n", kBadToken);
}

// memcached 1.6.18 counts the "O" in its 32 bytes: 31 bytes after the O are echoed, 32 are
// "CLIENT_ERROR opaque token too long".
TEST_CASE("kv meta: an opaque of more than 31 bytes is too long, as memcached counts the O",
          "[unit]") {
  const std::string opaque31(31, 'o');
  const MetaFlags echoed{.returned = "O", .opaque = opaque31};
  require_outcomes("mg k O" + opaque31 + "\r\n", {meta(Verb::mg, "k", echoed)});
  require_outcomes("md k O" + opaque31 + "\r\n", {meta(Verb::md, "k", echoed)});
  require_outcomes("ma k O" + opaque31 + "\r\n", {meta(Verb::ma, "k", echoed)});
  require_outcomes("ms k 1 O" + opaque31 + "\r\nx\r\n", {meta(Verb::ms, "k", echoed, "x")});
  for (const std::size_t bytes : {32, 33, 40}) {
    const std::string opaque(bytes, 'o');
    CAPTURE(bytes);
    require_error("mg k O" + opaque + "\r\n", kLongOpaque);
    require_error("md k O" + opaque + "\r\n", kLongOpaque);
    require_error("ma k O" + opaque + "\r\n", kLongOpaque);
    require_error("ms k 1 O" + opaque + "\r\nx\r\n", kLongOpaque);
    // me reads no flag but b: an O is ignored, unread, whatever its length.
    require_outcomes("me k O" + opaque + "\r\n", {bare(Verb::me)});
  }
}

TEST_CASE("kv meta: a mode ms or ma does not have is refused with the command's line", "[unit]") {
  for (const std::string mode : {"MX", "MI", "M+", "Ms", "Me"}) {
    require_error("ms k 2 " + mode + "\r\nxx\r\n", kBadSetMode);
  }
  for (const std::string mode : {"MX", "ME", "MS", "Mi", "Md"}) {
    require_error("ma k " + mode + "\r\n", kBadArithMode);
  }
}

TEST_CASE("kv meta: a base64 key that does not decode is an error decoding key", "[unit]") {
  for (const std::string text :
       {"mg !!! b v\r\n", "mg a2V b\r\n", "mg k b\r\n", "md a2V5= b\r\n", "ma a2V5a2V5a b\r\n"}) {
    require_error(text, kBadKey);
  }
  require_error("ms !!! 2 b\r\nhi\r\n", kBadKey);
}

// As memcached 1.6.18: the key token as sent, its base64 text when b, is held to key_bytes_max
// before anything else on the line. For ms that is before its datalen is read, so its data block
// is read as the next command line. A decoded key is shorter than its text: not checked again.
TEST_CASE("kv meta: the key as sent, base64 or not, is held to the limit before its datalen",
          "[unit]") {
  const std::string key251(251, 'k');
  for (const Verb verb : kKeyedMetaVerbs) {
    if (verb == Verb::ms) continue;
    const std::string name(verb_name(verb));
    require_error(name + " " + key251 + "\r\n", kBadFormat);
    require_error(name + " " + key251 + " zz\r\n", kBadFormat);  // before the flags
  }
  // 186 bytes are 248 of base64: taken. 189 bytes are 252: refused, though 189 <= 250.
  const std::string binary186(186, '\x01');
  const std::string text186 = doppel::base64_encode(binary186);
  const std::string text189 = doppel::base64_encode(std::string(189, '\x01'));
  REQUIRE(text186.size() == 248);
  REQUIRE(text189.size() == 252);
  require_outcomes("mg " + text186 + " b v\r\n",
                   {meta(Verb::mg, binary186, {.base64_key = true, .value = true})});
  require_outcomes("ms " + text186 + " 1 b\r\nx\r\n",
                   {meta(Verb::ms, binary186, {.base64_key = true}, "x")});
  require_error("mg " + text189 + " b v\r\n", kBadFormat);
  require_error("md " + text189 + " b\r\n", kBadFormat);
  require_error("ma " + text189 + " b\r\n", kBadFormat);
  require_error("me " + text189 + " b\r\n", kBadFormat);
  // ms: the data block is the next line ("x" an unknown command, "mg a" a meta get).
  require_outcomes("ms " + key251 + " 1\r\nx\r\n",
                   {error_outcome(kBadFormat), error_outcome(kError)});
  require_outcomes("ms " + key251 + " 4 T1\r\nmg a\r\n",
                   {error_outcome(kBadFormat), meta(Verb::mg, "a", {})});
  require_outcomes("ms " + text189 + " 4 b\r\nmg a\r\n",
                   {error_outcome(kBadFormat), meta(Verb::mg, "a", {})});
  // A smaller limit: "a2V5a2V5" (8 bytes as sent) is the key "keykey"; 12 bytes are too many.
  const ProtocolLimits key8{.key_bytes_max = 8};
  require_outcomes("mg a2V5a2V5 b\r\n", {meta(Verb::mg, "keykey", {.base64_key = true})}, key8);
  require_outcomes("mg kkkkkkkk\r\n", {meta(Verb::mg, "kkkkkkkk", {})}, key8);
  require_error("mg a2V5a2V5a2V5 b\r\n", kBadFormat, key8);
  require_error("mg kkkkkkkkk\r\n", kBadFormat, key8);
  require_outcomes("ms a2V5a2V5a2V5 2 b\r\nmn\r\n",
                   {error_outcome(kBadFormat), Request{.verb = Verb::mn}}, key8);
}

// memcached refuses a meta line of 20 tokens or more (its ntokens, counting the terminal token,
// over MFLAG_MAX_OPT_LENGTH = 20), counting the verb, the key, ms's datalen and every flag. mg
// says "options flags are too long", ms, md and ma "options flags too long". The count comes
// before ms's datalen is read: its data block is read as the next command line.
TEST_CASE(
    "kv meta: a meta line of 20 tokens or more has options flags too long, in mg's words "
    "or the others'",
    "[unit]") {
  // 19 tokens, every flag different: taken, P and L ignored, other commands' flags ignored.
  const std::string mg17 = " c f h k O1 q s t u v N1 R1 T1 P L C1 F1";
  const Request mg19 = meta(Verb::mg, "k",
                            {.returned = "cfhkOst",
                             .opaque = "1",
                             .quiet = true,
                             .no_bump = true,
                             .value = true,
                             .ttl = 1,
                             .vivify_ttl = 1,
                             .recache_s = 1});
  require_outcomes("mg k" + mg17 + "\r\n", {mg19});
  require_error("mg k" + mg17 + " I\r\n", kTooManyFlagsGet);
  // Spaces are no tokens: runs of them, and trailing ones, do not count.
  require_outcomes("mg  k  c f  h k O1 q s t u v N1 R1 T1 P L C1   F1   \r\n", {mg19});
  require_error("mg  k  c f  h k O1 q s t u v N1 R1 T1 P L C1   F1   I \r\n", kTooManyFlagsGet);
  const std::string md17 = " q k O1 C1 I T1 P L v s t f h c u N1 R1";
  require_outcomes("md k" + md17 + "\r\n", {meta(Verb::md, "k",
                                                 {.returned = "kO",
                                                  .opaque = "1",
                                                  .quiet = true,
                                                  .invalidate = true,
                                                  .ttl = 1,
                                                  .compare_cas = 1})});
  require_error("md k" + md17 + " F1\r\n", kTooManyFlags);
  const std::string ma17 = " C1 N1 J1 D1 T1 MI q t c v k O1 P L s f h";
  require_outcomes("ma k" + ma17 + "\r\n", {meta(Verb::ma, "k",
                                                 {.returned = "tckO",
                                                  .opaque = "1",
                                                  .quiet = true,
                                                  .value = true,
                                                  .ttl = 1,
                                                  .vivify_ttl = 1,
                                                  .compare_cas = 1,
                                                  .initial = 1,
                                                  .delta = 1,
                                                  .mode = 'I'})});
  require_error("ma k" + ma17 + " u\r\n", kTooManyFlags);
  require_outcomes("me k" + mg17 + "\r\n", {bare(Verb::me)});
  // ms: its datalen is one of the 19.
  const std::string ms16 = " c C1 F1 I k O1 q T1 MS P L v s t f h";
  require_outcomes("ms k 1" + ms16 + "\r\nx\r\n", {meta(Verb::ms, "k",
                                                        {.returned = "ckO",
                                                         .opaque = "1",
                                                         .quiet = true,
                                                         .invalidate = true,
                                                         .ttl = 1,
                                                         .compare_cas = 1,
                                                         .client_flags = 1,
                                                         .mode = 'S'},
                                                        "x")});
  // The refused ms's data block is not discarded: "x" is an unknown command, "mg a" a meta get,
  // an empty block an empty line.
  require_outcomes("ms k 1" + ms16 + " u\r\nx\r\n",
                   {error_outcome(kTooManyFlags), error_outcome(kError)});
  require_outcomes("ms k 4" + ms16 + " u\r\nmg a\r\n",
                   {error_outcome(kTooManyFlags), meta(Verb::mg, "a", {})});
  require_outcomes("ms k 0" + ms16 + " u\r\n\r\n",
                   {error_outcome(kTooManyFlags), error_outcome(kError)});
  // Far more, every flag different: past memcached's 24-token tokenizer too.
  const std::string all23 = " b c f h k l O1 q s t u v N1 R1 T1 C1 F1 I M J D P L";
  require_error("mg a2V5" + all23 + "\r\n", kTooManyFlagsGet);
  require_error("md a2V5" + all23 + "\r\n", kTooManyFlags);
  require_error("ma a2V5" + all23 + "\r\n", kTooManyFlags);
  require_outcomes("ms a2V5 1" + all23 + "\r\nx\r\n",
                   {error_outcome(kTooManyFlags), error_outcome(kError)});
  // The key's length is checked first (memcached: "bad command line format").
  const std::string key251(251, 'k');
  require_error("mg " + key251 + mg17 + " I\r\n", kBadFormat);
  require_error("md " + key251 + mg17 + " I\r\n", kBadFormat);
  require_outcomes("ms " + key251 + " 1" + mg17 + "\r\nx\r\n",
                   {error_outcome(kBadFormat), error_outcome(kError)});
}

// memcached checks the count right after the key's length, before reading any flag (and, for ms,
// its datalen): a line of 20 tokens is too long whatever its flags, its tokens, its key's base64
// or ms's datalen hold, and ms's data block is read as the next command line.
TEST_CASE(
    "kv meta: a line of 20 tokens is too long even when an earlier flag, token or datalen "
    "is bad",
    "[unit]") {
  // 17 flags after "<cm> k": 19 tokens. One more before them makes 20.
  const std::string flags17 = " c f h k O1 q s t u v N1 R1 T1 P L C1 F1";
  const std::string flags16 = " c f h k O1 q s t u v N1 R1 T1 P L C1";  // after ms's datalen
  // `first` before the 17 (16 for ms) flags of every command but me: too long, in its words.
  const auto require_too_long = [&](const std::string& first) {
    CAPTURE(first);
    require_error("mg k " + first + flags17 + "\r\n", kTooManyFlagsGet);
    require_error("md k " + first + flags17 + "\r\n", kTooManyFlags);
    require_error("ma k " + first + flags17 + "\r\n", kTooManyFlags);
    require_outcomes("ms k 4 " + first + flags16 + "\r\nmg a\r\n",
                     {error_outcome(kTooManyFlags), meta(Verb::mg, "a", {})});
  };
  SECTION("an invalid flag") {
    require_too_long("zz");
    require_too_long("\xff");
  }
  SECTION("l, which mg refuses") {
    require_too_long("l");
  }
  SECTION("a duplicate flag") {
    require_too_long("v");
    require_error("mg k v v c f h k O1 q s t u N1 R1 T1 P L C1 F1\r\n", kTooManyFlagsGet);
    std::string p30;
    for (int i = 0; i < 30; ++i) p30 += " P" + std::to_string(i);
    require_error("mg k" + p30 + "\r\n", kTooManyFlagsGet);
    require_error("md k" + p30 + "\r\n", kTooManyFlags);
  }
  SECTION("a bad token, of a flag the command takes or ignores") {
    require_too_long("Tx");
    require_too_long("Cx");
    require_too_long("Nabc");
    require_too_long("D-1");
    require_too_long("F4294967296");
  }
  SECTION("an M of the wrong length, or a mode the command does not have") {
    require_too_long("MEA");
    require_too_long("M");
    require_error("ma k MX" + flags17 + "\r\n", kTooManyFlags);
    require_outcomes("ms k 4 MX" + flags16 + "\r\nmg a\r\n",
                     {error_outcome(kTooManyFlags), meta(Verb::mg, "a", {})});
  }
  SECTION("an opaque too long") {
    require_too_long("O" + std::string(40, 'o'));
  }
  SECTION("a base64 key that does not decode") {
    require_error("mg !!! b" + flags17 + "\r\n", kTooManyFlagsGet);
    require_error("md !!! b" + flags17 + "\r\n", kTooManyFlags);
    require_outcomes("ms !!! 1 b" + flags16 + "\r\nmn\r\n",
                     {error_outcome(kTooManyFlags), Request{.verb = Verb::mn}});
  }
  SECTION("ms: an unreadable datalen, then its would-be data read as a line") {
    require_outcomes("ms k abc" + flags17 + "\r\nmn\r\n",
                     {error_outcome(kTooManyFlags), Request{.verb = Verb::mn}});
    require_outcomes("ms k -1" + flags17 + "\r\nmn\r\n",
                     {error_outcome(kTooManyFlags), Request{.verb = Verb::mn}});
  }
  SECTION("ms: a value too large, then its data read as lines") {
    require_outcomes(
        "ms k 20" + flags17 + "\r\nmn\r\nmg a\r\nmn\r\nmn\r\n",
        {error_outcome(kTooManyFlags), Request{.verb = Verb::mn}, meta(Verb::mg, "a", {}),
         Request{.verb = Verb::mn}, Request{.verb = Verb::mn}},
        kSmallValues);
  }
}

TEST_CASE("kv meta: an ms whose datalen is unreadable reads its data as the next line", "[unit]") {
  require_error("ms k5 abc\r\n", kBadFormat);
  require_error("ms k5\r\n", kBadFormat);
  require_error("ms k5 2147483646\r\n", kBadFormat);  // over bytes_field_max
  require_outcomes("ms k -1\r\nhi\r\n", {error_outcome(kBadFormat), error_outcome(kError)});
  require_outcomes("ms k +2\r\nmn\r\n", {error_outcome(kBadFormat), Request{.verb = Verb::mn}});
}

// A line of 20 tokens or more, an unreadable datalen and a key too long are refused before the
// datalen is read: their data block is read as the next line (tested with each).
TEST_CASE(
    "kv meta: an ms refused once its datalen is read swallows its data block, whatever "
    "it holds",
    "[unit]") {
  require_error("ms k 10 MX\r\nget x\r\n123\r\n", kBadSetMode);
  require_error("ms k 6 zz\r\nmn\r\nmn\r\n", kBadFlag);
  require_error("ms k 0 O" + std::string(33, 'o') + "\r\n\r\n", kLongOpaque);
  require_error("ms k 6 M\r\nmn\r\nmn\r\n", kBadModeLength);
  require_error("ms k 6 P P\r\nmn\r\nmn\r\n", kDuplicateFlag);
  require_error("ms k 6 Rx\r\nmn\r\nmn\r\n", kBadToken);  // a flag ms ignores
  require_error("ms k 6 MEA\r\nmn\r\nmn\r\n", kBadModeLength);
  // Pipelined between good commands, under every split.
  require_outcomes("mg a v\r\nms k 3 Tx\r\nabc\r\nms k 1\r\nz\r\n",
                   {meta(Verb::mg, "a", {.value = true}), error_outcome(kBadToken),
                    meta(Verb::ms, "k", {}, "z")});
}

TEST_CASE("kv meta: an ms whose data block does not end in CRLF is a bad data chunk", "[unit]") {
  require_outcomes("ms k 2\r\nabc\r\n", {error_outcome("CLIENT_ERROR bad data chunk")});
}

// memcached 1.6.18's process_mset_command removes the old value on a failed allocation whatever
// the mode and whatever C ("ms k 1\r\na\r\nms k 2000000 MA\r\n<2000000 bytes>\r\nmg k v" answers
// "EN"); the classic append, prepend and cas keep it (parser.cc).
TEST_CASE("kv meta: a too-large ms carries its key to drop in every mode, with C too", "[unit]") {
  const std::string value(17, 'v');
  for (const std::string mode : {"", " ME", " MA", " MP", " MR", " MS"}) {
    for (const std::string other : {"", " C5", " C5 I", " q", " T0 F3"}) {
      require_outcomes("ms big 17" + mode + other + "\r\n" + value + "\r\n", {too_large("big")},
                       kSmallValues);
    }
  }
  require_outcomes("ms a2V5 17 b\r\n" + value + "\r\n", {too_large("key")}, kSmallValues);
  require_outcomes("ms a2V5 17 MA C1 b\r\n" + value + "\r\n", {too_large("key")}, kSmallValues);
  // Exactly the limit is stored.
  require_outcomes("ms big 16\r\n" + value.substr(1) + "\r\n",
                   {meta(Verb::ms, "big", {}, value.substr(1))}, kSmallValues);
  require_outcomes("ms big 16 MA C5\r\n" + value.substr(1) + "\r\n",
                   {meta(Verb::ms, "big", {.compare_cas = 5, .mode = 'A'}, value.substr(1))},
                   kSmallValues);
  // A too-large ms whose line is refused is only the line's error: nothing is dropped.
  require_error("ms big 17 MX\r\n" + value + "\r\n", kBadSetMode, kSmallValues);
  require_error("ms big 17 C5 zz\r\n" + value + "\r\n", kBadFlag, kSmallValues);
  require_error("ms big 17 M\r\n" + value + "\r\n", kBadModeLength, kSmallValues);
}

// The client library's reply checking (components/kv/client/memcached_client.h), against canned
// replies under every split size: a reply of the wrong shape is Errc::protocol, SERVER_ERROR is
// io_error (the outcome is unknown), CLIENT_ERROR and ERROR are invalid_argument (nothing
// happened); and what a client sends is what the server's parser reads.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "components/kv/client/memcached_client.h"
#include "components/kv/protocol/parser.h"
#include "tests/kv/server/kv_sim.h"

using namespace doppel;
using namespace doppel::kv;
using namespace doppel::kv::test;

namespace {

// A stream that answers reads from canned bytes, at most `split` at a time, then reports the
// close; writes are kept.
class CannedStream final : public Stream {
 public:
  CannedStream(std::string replies, std::size_t split) : in_(std::move(replies)), split_(split) {}
  Result<std::size_t> read(std::span<char> into, Instant) override {
    const std::size_t n = std::min({into.size(), split_, in_.size() - at_});
    std::copy_n(in_.data() + at_, n, into.data());
    at_ += n;
    return n;  // 0 once all is read: the server closed
  }
  Status write(std::string_view bytes, Instant) override {
    written += bytes;
    return {};
  }
  void close() override {}
  Endpoint peer() const override { return Endpoint{"canned", 1}; }
  std::string written;

 private:
  std::string in_;
  std::size_t at_ = 0;
  std::size_t split_;
};

constexpr std::size_t kSplits[] = {100000, 1000, 100, 10, 5, 2, 1};

Request keys_request(Verb verb, std::vector<std::string> keys) {
  Request r;
  r.verb = verb;
  r.keys = std::move(keys);
  return r;
}

Request bare(Verb verb) {
  Request r;
  r.verb = verb;
  return r;
}

// The reply to `request` read from `bytes`, the same under every split size.
std::string reply_to(const Request& request, const std::string& bytes) {
  std::string first;
  for (const std::size_t split : kSplits) {
    CannedStream s(bytes, split);
    McReader reader(s, 7);
    const bool with_cas = request.verb == Verb::gets || request.verb == Verb::gats;
    const std::string got = describe(reader.next(request, kNever), with_cas);
    if (split == kSplits[0]) first = got;
    INFO("split " << split);
    REQUIRE(got == first);
  }
  return first;
}

}  // namespace

TEST_CASE("kv client: well-formed replies read as their words, values and numbers", "[unit]") {
  const Request get_ab = keys_request(Verb::get, {"a", "b", "c"});
  REQUIRE(reply_to(get_ab, "END\r\n") == "END");
  REQUIRE(reply_to(get_ab, "VALUE a 0 1\r\nx\r\nVALUE c 7 3\r\na\r\n\r\nEND\r\n") ==
          "END a=x c=a\r\n/7");  // data may hold CRLF: its length says where it ends
  REQUIRE(reply_to(keys_request(Verb::gets, {"a"}), "VALUE a 0 2 99\r\nxy\r\nEND\r\n") ==
          "END a=xy#cas");
  REQUIRE(reply_to(store_request(Verb::set, "a", "x"), "STORED\r\n") == "STORED");
  REQUIRE(reply_to(store_request(Verb::add, "a", "x"), "NOT_STORED\r\n") == "NOT_STORED");
  Request cas = store_request(Verb::cas, "a", "x");
  for (const char* word : {"STORED", "EXISTS", "NOT_FOUND"}) {
    REQUIRE(reply_to(cas, std::string(word) + "\r\n") == word);
  }
  REQUIRE(reply_to(delete_request("a"), "DELETED\r\n") == "DELETED");
  Request incr = keys_request(Verb::incr, {"n"});
  REQUIRE(reply_to(incr, "18446744073709551615\r\n") == "18446744073709551615");
  REQUIRE(reply_to(incr, "NOT_FOUND\r\n") == "NOT_FOUND");
  REQUIRE(reply_to(keys_request(Verb::touch, {"a"}), "TOUCHED\r\n") == "TOUCHED");
  REQUIRE(reply_to(bare(Verb::flush_all), "OK\r\n") == "OK");
  REQUIRE(reply_to(bare(Verb::version), "VERSION 1.6.21\r\n") == "VERSION 1.6.21");
  CannedStream s("STAT pid 1\r\nSTAT threads 4\r\nEND\r\n", 3);
  McReader reader(s);
  auto stats = reader.next(bare(Verb::stats), kNever);
  REQUIRE(stats.ok());
  REQUIRE(stats->lines.size() == 2);
  REQUIRE(McConnection::stat(*stats, "threads") == std::optional<std::uint64_t>(4));
  REQUIRE_FALSE(McConnection::stat(*stats, "absent"));
}

TEST_CASE("kv client: a reply of the wrong shape is a protocol error naming what came", "[unit]") {
  const Request get_a = keys_request(Verb::get, {"a"});
  const Request get_ab = keys_request(Verb::get, {"a", "b"});
  const std::vector<std::pair<Request, std::string>> cases = {
      {get_a, "STORED\r\n"},
      {get_a, "VALUE other 0 1\r\nx\r\nEND\r\n"},                        // a key not asked
      {get_ab, "VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\ny\r\nEND\r\n"},       // out of order
      {get_a, "VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n"},        // twice
      {get_a, "VALUE a 0 1 5\r\nx\r\nEND\r\n"},                          // a cas unique to a get
      {keys_request(Verb::gets, {"a"}), "VALUE a 0 1\r\nx\r\nEND\r\n"},  // none to a gets
      {get_a, "VALUE a x 1\r\nx\r\nEND\r\n"},                            // flags not a number
      {get_a, "VALUE a 4294967296 1\r\nx\r\nEND\r\n"},                   // flags over 32 bits
      {get_a, "VALUE a 0 3\r\nabcXY\r\nEND\r\n"},                        // data not ended by CRLF
      {store_request(Verb::set, "a", "x"), "DELETED\r\n"},
      {store_request(Verb::set, "a", "x"), "EXISTS\r\n"},  // only cas may exist
      {delete_request("a"), "STORED\r\n"},
      {keys_request(Verb::incr, {"n"}), "12a\r\n"},
      {keys_request(Verb::incr, {"n"}), "-1\r\n"},
      {keys_request(Verb::incr, {"n"}), "18446744073709551616\r\n"},
      {keys_request(Verb::touch, {"a"}), "DELETED\r\n"},
      {bare(Verb::flush_all), "END\r\n"},
      {bare(Verb::version), "1.6.21\r\n"},
      {bare(Verb::stats), "STAT a 1\r\nnot a stat\r\nEND\r\n"},
  };
  for (const auto& [request, bytes] : cases) {
    INFO(bytes);
    REQUIRE_THAT(reply_to(request, bytes), Catch::StartsWith("protocol error: '"));
  }
}

TEST_CASE("kv client: SERVER_ERROR is an I/O error, CLIENT_ERROR and ERROR are refusals",
          "[unit]") {
  for (const Request& r : {keys_request(Verb::get, {"a"}), store_request(Verb::set, "a", "x"),
                           keys_request(Verb::incr, {"n"}), bare(Verb::stats)}) {
    const Result<McReply> server = [&] {
      CannedStream s("SERVER_ERROR out of memory\r\n", 4);
      return McReader(s).next(r, kNever);
    }();
    REQUIRE(server.code() == Errc::io_error);
    REQUIRE(server.error().what == "SERVER_ERROR out of memory");
    for (const char* refusal : {"CLIENT_ERROR bad data chunk", "ERROR"}) {
      CannedStream s(std::string(refusal) + "\r\n", 4);
      auto got = McReader(s).next(r, kNever);
      REQUIRE(got.code() == Errc::invalid_argument);
      REQUIRE(got.error().what == refusal);
    }
  }
}

TEST_CASE("kv client: a reply cut short is the stream's close, a huge value is too_large",
          "[unit]") {
  REQUIRE(reply_to(keys_request(Verb::get, {"a"}), "VALUE a 0 5\r\nab") == "closed: server closed");
  REQUIRE(reply_to(store_request(Verb::set, "a", "x"), "") == "closed: server closed");
  REQUIRE(reply_to(store_request(Verb::set, "a", "x"), "STOR") == "closed: server closed");
  REQUIRE(reply_to(keys_request(Verb::get, {"a"}), "VALUE a 0 999999999\r\n") ==
          "too large: a value of 999999999");
}

TEST_CASE("kv client: replies to a pipeline are read in order from one buffer", "[unit]") {
  const std::vector<Request> requests = {store_request(Verb::set, "a", "1"),
                                         keys_request(Verb::get, {"a"}), delete_request("a"),
                                         bare(Verb::version)};
  const std::string bytes = "STORED\r\nVALUE a 0 1\r\n1\r\nEND\r\nDELETED\r\nVERSION x\r\n";
  for (const std::size_t split : kSplits) {
    CannedStream s(bytes, split);
    McReader reader(s, 3);
    std::vector<std::string> got;
    for (const Request& r : requests) got.push_back(describe(reader.next(r, kNever)));
    REQUIRE(got == std::vector<std::string>{"STORED", "END a=1", "DELETED", "VERSION x"});
  }
}

TEST_CASE("kv client: a connection sends noreply requests and quit without reading a reply",
          "[unit]") {
  CannedStream s("", 1);
  McConnection conn(s);
  Request quiet = store_request(Verb::set, "a", "x");
  quiet.noreply = true;
  REQUIRE(conn.call(quiet, kNever)->word.empty());
  REQUIRE(conn.call(bare(Verb::quit), kNever)->word.empty());
  REQUIRE(s.written == "set a 0 0 1 noreply\r\nx\r\nquit\r\n");
}

TEST_CASE("kv client: what a client sends, the server's parser reads as the same request",
          "[prop]") {
  rc::prop("parse(encode(r)) == r", [] {
    Request r;
    r.verb = *rc::gen::element(Verb::get, Verb::gets, Verb::gat, Verb::set, Verb::cas, Verb::append,
                               Verb::delete_, Verb::incr, Verb::decr, Verb::touch, Verb::flush_all,
                               Verb::version, Verb::verbosity);
    const auto key = [] {
      return rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(1, 20),
                                             rc::gen::inRange<char>('a', 'z' + 1));
    };
    const std::size_t keys =
        is_retrieval(r.verb) ? *rc::gen::inRange<std::size_t>(1, 5)
        : r.verb == Verb::flush_all || r.verb == Verb::version || r.verb == Verb::verbosity ? 0
                                                                                            : 1;
    for (std::size_t i = 0; i < keys; ++i) r.keys.push_back(*key());
    if (is_storage(r.verb)) {
      r.data = *rc::gen::arbitrary<std::string>();
      r.flags = *rc::gen::arbitrary<std::uint32_t>();
    }
    if (is_storage(r.verb) || r.verb == Verb::touch || r.verb == Verb::gat) {
      r.exptime = *rc::gen::inRange<std::int64_t>(-5, 100000);
    }
    if (r.verb == Verb::cas) r.cas_unique = *rc::gen::arbitrary<std::uint64_t>();
    if (r.verb == Verb::incr || r.verb == Verb::decr)
      r.delta = *rc::gen::arbitrary<std::uint64_t>();
    if (r.verb == Verb::flush_all && *rc::gen::arbitrary<bool>()) r.delay = 30;
    if (r.verb == Verb::verbosity) r.verbosity = 1;
    r.noreply = takes_noreply(r.verb) && *rc::gen::arbitrary<bool>();
    const std::string bytes = encode(r);
    Parser parser;
    std::size_t used = 0;
    ParseOutcome o = parser.parse(bytes, &used);
    RC_ASSERT(std::holds_alternative<Request>(o));
    RC_ASSERT(used == bytes.size());
    RC_ASSERT(std::get<Request>(o) == r);
  });
}

#pragma once
// The memcached text protocol from the client's side (memcached 1.6,
// doc/protocol.txt), for everything of ours that talks to a KV node: the
// scenario drivers, doppel bench kv and the tests.
//
// Requests are the protocol's own kv::Request, encoded; replies are read in
// order (pipelining) and checked against the request they answer: a reply of
// the wrong shape (STORED to a get, a VALUE for a key that was not asked) is
// Errc::protocol with what came, so a checker can tell a server that
// answered wrongly from one that did not answer.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/kv/protocol/request.h"
#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel::kv {

// The wire bytes of one request (its data block included): the parser's inverse,
// append_request (protocol/parser.h). The request must be valid (asserted).
std::string encode(const Request& request);
void encode_to(const Request& request, std::string& out);

// Short forms for the common requests.
Request get_request(std::string key);
Request store_request(Verb verb, std::string key, std::string data, std::uint32_t flags = 0,
                      std::int64_t exptime = 0);
Request delete_request(std::string key);

struct McValue {
  std::string key;
  std::uint32_t flags = 0;
  std::uint64_t cas_unique = 0;  // gets and gats only
  std::string data;
};

struct McReply {
  // The first word of the reply: END (retrievals, whether or not anything was found),
  // STORED, NOT_STORED, EXISTS, NOT_FOUND, DELETED, TOUCHED, OK, VERSION, a number
  // (incr/decr: "NUMBER" with `number` set), STAT (stats: every line in `lines`).
  std::string word;
  std::vector<McValue> values;     // retrievals: the hits, in the order the keys were asked
  std::uint64_t number = 0;        // incr, decr
  std::vector<std::string> lines;  // stats: "STAT name value" lines; version: the version
  // Meta commands: word is the return code (HD, VA, EN, NS, EX, NF, MN, ME), or "" when a
  // q request's reply was left out (mg: EN; ms, md, ma: HD); values[0] holds a VA's data; the
  // flags are the returned ones as they came (letter, token), W X Z included; me: lines[0] is
  // the line after "ME ".
  std::vector<std::pair<char, std::string>> meta_flags;
  // The token of a returned flag, or nullopt.
  std::optional<std::string> meta_flag(char letter) const;

  bool hit() const { return !values.empty(); }
};

class McReader {
 public:
  static constexpr std::size_t kBufferBytesMax = 4 << 20;
  static constexpr std::size_t kStatLinesMax = 4096;

  // `read_bytes`: how much one read of the stream asks for.
  explicit McReader(Stream& s, std::size_t read_bytes = 4096) : s_(s), read_bytes_(read_bytes) {}
  // The next reply, for `request` (which must not be noreply). Errors: the stream failed
  // (timed_out, reset, closed); Errc::io_error for SERVER_ERROR (an outcome unknown: the
  // server may have done it); Errc::invalid_argument for CLIENT_ERROR/ERROR (the server
  // refused the request: nothing happened); Errc::protocol for a reply that does not fit.
  Result<McReply> next(const Request& request, Instant deadline);
  // A meta request with q may get no reply (meta_reply). Its reply is known as its own by
  // the opaque token it carries (O, required with q): a reply line without it belongs to a
  // later request, which must have been sent (send "mn" last). An error line in its place is
  // Errc::io_error: it cannot be told whose it is, so the stream must be given up.
  // After "quit": the server closes the stream with nothing more to say.
  // Errors: Errc::protocol if bytes came instead, timed_out if it stayed open.
  Status closed(Instant deadline);

 private:
  Result<std::string> line(Instant deadline);
  Status need(std::size_t bytes, Instant deadline);
  Result<McReply> retrieval(const Request& request, std::string first, Instant deadline);
  // Lines that each begin with `prefix` ("STAT ", "key="), up to END: stats, lru_crawler.
  Result<McReply> listing(std::string first, Instant deadline, std::string_view prefix,
                          std::string_view word);
  Result<McReply> meta_reply(const Request& request, Instant deadline);
  Result<std::string> peek_line(Instant deadline);
  Stream& s_;
  std::size_t read_bytes_;
  std::string buf_;
  std::size_t start_ = 0;
};

// Two refusals a well-formed request may get, told apart by their text (as
// memcached words them): a value over the item size limit (McReader::next's
// Errc::io_error, "SERVER_ERROR object too large for cache"; a set then also
// drops the key's old value), and incr/decr on a value that is not a number
// (Errc::invalid_argument, "CLIENT_ERROR cannot increment or decrement
// non-numeric value"; nothing changed).
bool is_too_large(const Error& e);
bool is_non_numeric(const Error& e);

// One connection to a KV node, one request at a time: for tests and tools.
class McConnection {
 public:
  explicit McConnection(Stream& s) : s_(s), reader_(s) {}
  // Sends the request and reads its reply (noreply requests and quit: sends only, returns
  // word "").
  Result<McReply> call(const Request& request, Instant deadline);
  // "stats [group]": the named statistic, or nullopt.
  static std::optional<std::uint64_t> stat(const McReply& stats, std::string_view name);

 private:
  Stream& s_;
  McReader reader_;
};

}  // namespace doppel::kv

#pragma once
// One parsed request of the memcached text protocol (memcached 1.6, doc/protocol.txt), meta
// commands included.
//
// A Request holds values, never views into the connection's buffer, so it may outlive the bytes
// it was parsed from (it is handed to another core when the key is foreign). Fields a verb does
// not use keep their defaults, so two requests compare equal exactly when they say the same.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace doppel::kv {

enum class Verb : std::uint8_t {
  get,          // get <key>*
  gets,         // gets <key>*
  gat,          // gat <exptime> <key>*
  gats,         // gats <exptime> <key>*
  set,          // set <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n
  add,          // add ... (as set)
  replace,      // replace ... (as set)
  append,       // append ... (as set)
  prepend,      // prepend ... (as set)
  cas,          // cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n
  delete_,      // delete <key> [0] [noreply]
  incr,         // incr <key> <value> [noreply]
  decr,         // decr <key> <value> [noreply]
  touch,        // touch <key> <exptime> [noreply]
  flush_all,    // flush_all [delay] [noreply]
  version,      // version
  stats,        // stats [group ...]
  verbosity,    // verbosity <level> [noreply]
  lru_crawler,  // lru_crawler metadump <all|class,...>
  quit,         // quit
  // memcached 1.6's meta commands (protocol.txt "Meta Commands"): one key, flags (MetaFlags)
  mg,  // mg <key> <flag>*                         meta get
  ms,  // ms <key> <datalen> <flag>*\r\n<data>\r\n  meta set
  md,  // md <key> <flag>*                         meta delete
  ma,  // ma <key> <flag>*                         meta arithmetic
  mn,  // mn                                       meta no-op: "MN"
  me,  // me <key> [b]                             meta debug
};
inline constexpr Verb kLastVerb = Verb::me;

// The verb as it is spelled on the wire ("delete" for Verb::delete_).
constexpr std::string_view verb_name(Verb verb) {
  switch (verb) {
    case Verb::get:
      return "get";
    case Verb::gets:
      return "gets";
    case Verb::gat:
      return "gat";
    case Verb::gats:
      return "gats";
    case Verb::set:
      return "set";
    case Verb::add:
      return "add";
    case Verb::replace:
      return "replace";
    case Verb::append:
      return "append";
    case Verb::prepend:
      return "prepend";
    case Verb::cas:
      return "cas";
    case Verb::delete_:
      return "delete";
    case Verb::incr:
      return "incr";
    case Verb::decr:
      return "decr";
    case Verb::touch:
      return "touch";
    case Verb::flush_all:
      return "flush_all";
    case Verb::version:
      return "version";
    case Verb::stats:
      return "stats";
    case Verb::verbosity:
      return "verbosity";
    case Verb::lru_crawler:
      return "lru_crawler";
    case Verb::quit:
      return "quit";
    case Verb::mg:
      return "mg";
    case Verb::ms:
      return "ms";
    case Verb::md:
      return "md";
    case Verb::ma:
      return "ma";
    case Verb::mn:
      return "mn";
    case Verb::me:
      return "me";
  }
  return "?";
}

// get, gets, gat, gats: the verbs that take many keys and answer with VALUE lines and END.
constexpr bool is_retrieval(Verb verb) {
  return verb == Verb::get || verb == Verb::gets || verb == Verb::gat || verb == Verb::gats;
}

// set, add, replace, append, prepend, cas: the verbs followed by a data block.
constexpr bool is_storage(Verb verb) {
  return verb == Verb::set || verb == Verb::add || verb == Verb::replace || verb == Verb::append ||
         verb == Verb::prepend || verb == Verb::cas;
}

// mg, ms, md, ma, mn, me.
constexpr bool is_meta(Verb verb) {
  return verb == Verb::mg || verb == Verb::ms || verb == Verb::md || verb == Verb::ma ||
         verb == Verb::mn || verb == Verb::me;
}

// The verbs whose last argument may be "noreply".
constexpr bool takes_noreply(Verb verb) {
  return is_storage(verb) || verb == Verb::delete_ || verb == Verb::incr || verb == Verb::decr ||
         verb == Verb::touch || verb == Verb::flush_all || verb == Verb::verbosity;
}

// The flags of a meta command, parsed (protocol.txt; parser.cc says where we differ). Flags
// that ask for something back are answered in the order they came, which `returned` keeps.
struct MetaFlags {
  static constexpr std::size_t kOpaqueBytesMax = 31;  // memcached counts the "O" in its 32
  std::string returned;             // the letters among b c f h k O s t, in request order
  std::string opaque;               // O: echoed as given
  bool base64_key = false;          // b: the key was sent base64-encoded (keys[0] holds it decoded)
  bool quiet = false;               // q: mg drops EN; ms, md, ma drop HD
  bool no_bump = false;             // u: mg does not mark the item fetched
  bool value = false;               // v: mg, ma answer VA with the value
  bool invalidate = false;          // I: ms stores stale under an older unique; md marks stale
  std::optional<std::int64_t> ttl;  // T: raw exptime, as sent
  std::optional<std::int64_t> vivify_ttl;     // N: raw exptime
  std::optional<std::int64_t> recache_s;      // R: seconds
  std::optional<std::uint64_t> compare_cas;   // C
  std::optional<std::uint32_t> client_flags;  // F (ms)
  std::optional<std::uint64_t> initial;       // J (ma)
  std::optional<std::uint64_t> delta;         // D (ma)
  char mode = 0;                              // M: ms E A P R S; ma I + D -; 0 when not given

  bool operator==(const MetaFlags&) const = default;
};

struct Request {
  Verb verb = Verb::version;
  // Retrieval: one or more keys. Storage, delete, incr, decr, touch: exactly one. Others: none.
  // Every key is 1..ProtocolLimits::key_bytes_max bytes, none below 0x21 and none 0x7f.
  std::vector<std::string> keys;
  std::uint32_t flags = 0;       // storage: the client's opaque flags
  std::int64_t exptime = 0;      // storage, touch, gat, gats: raw, as sent (the server converts)
  std::uint64_t cas_unique = 0;  // cas
  std::uint64_t delta = 0;       // incr, decr
  std::string data;              // storage: the value, without its "\r\n"
  bool noreply = false;          // the line ended in "noreply" (only for takes_noreply verbs)
  std::string stats_group;       // stats: the arguments, joined by single spaces ("" = general)
  std::optional<std::int64_t> delay;  // flush_all: raw, as sent; nullopt when none was given
  std::uint32_t verbosity = 0;        // verbosity
  std::string subcommand;             // lru_crawler: its arguments, joined by single spaces
  MetaFlags meta;                     // mg, ms, md, ma, me

  bool operator==(const Request&) const = default;
};

}  // namespace doppel::kv

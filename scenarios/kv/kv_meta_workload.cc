// The meta commands of the KV workload (memcached 1.6 protocol.txt "Meta Commands"): requests
// with every flag the server takes, and what their replies mean for the history, in the shape
// the kv model reads (properties/linearizability/model.h, "mg", "ms", "md", "ma").

#include <algorithm>

#include "scenarios/kv/kv_workload.h"

namespace doppel::scenarios {
namespace {

using properties::Value;
using Fields = std::vector<std::pair<std::string, Value>>;

Value digits(std::uint64_t n) {
  return Value::of(std::to_string(n));
}

// The returned flags among `letters` the roll picks, in a random order (the reply keeps it).
std::string pick_returned(Prng& rng, std::string_view letters, std::uint64_t percent) {
  std::string out;
  for (const char letter : letters) {
    if (rng.below(100) < percent) out += letter;
  }
  for (std::size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);
  return out;
}

bool has(const std::string& letters, char letter) {
  return letters.find(letter) != std::string::npos;
}

}  // namespace

KvOp KvOpGenerator::meta(KvVerb verb, Prng& rng, std::uint32_t client, std::uint64_t n,
                         const SeenUniques& seen, std::int64_t now_ns, std::int64_t wall_ns) const {
  KvOp op;
  kv::Request& r = op.request;
  kv::MetaFlags& m = r.meta;
  switch (verb) {
    case KvVerb::mg:
      r.verb = kv::Verb::mg;
      break;
    case KvVerb::ms:
      r.verb = kv::Verb::ms;
      break;
    case KvVerb::md:
      r.verb = kv::Verb::md;
      break;
    case KvVerb::ma:
      r.verb = kv::Verb::ma;
      break;
    case KvVerb::mn:
      r.verb = kv::Verb::mn;
      op.f = "mn";
      return op;  // no key, no history
    default:
      r.verb = kv::Verb::me;
      break;
  }
  op.f = std::string(kv::verb_name(r.verb));
  const std::string& key = keys_[rng.below(keys_.size())];
  r.keys = {key};
  // memcached holds the key as sent to 250 bytes: base64 fits keys of up to 186 bytes.
  constexpr std::size_t kBase64KeyBytesMax = 250 / 4 * 3;
  m.base64_key = key.size() <= kBase64KeyBytesMax && rng.chance(1, 10);
  if (r.verb == kv::Verb::me) return op;  // the driver checks its line; no history
  op.keys = {key};
  // q needs O: a reply is known as its request's by the opaque token (McReader).
  m.quiet = rng.below(100) < w_.quiet_percent;
  Fields fields;
  const auto seconds = [&] { return static_cast<std::int64_t>(1 + rng.below(w_.ttl_s_max)); };
  if (r.verb == kv::Verb::mg) {
    m.returned = pick_returned(rng, "cfhkOst", 40);
    m.value = rng.below(100) < 80;
    m.no_bump = rng.chance(1, 10);
    if (rng.below(100) < w_.ttl_percent) {
      const std::int64_t ttl = expiry(rng, now_ns, wall_ns, fields);
      if (ttl != 0) m.ttl = ttl;
    }
    if (rng.chance(1, 6)) {
      m.vivify_ttl = seconds();
      fields.emplace_back("vivify_s", Value::of(*m.vivify_ttl));
    }
    if (rng.chance(1, 6)) {
      m.recache_s = seconds();
      fields.emplace_back("recache", Value::of(1));
    }
    if (m.value) fields.emplace_back("v", Value::of(1));
  } else if (r.verb == kv::Verb::ms) {
    m.returned = pick_returned(rng, "ckO", 40);
    r.data = value(rng, client, n);
    fields.emplace_back("value", Value::of(r.data));
    static constexpr std::array<std::pair<char, std::string_view>, 6> kModes{{{0, "set"},
                                                                              {'S', "set"},
                                                                              {'E', "add"},
                                                                              {'A', "append"},
                                                                              {'P', "prepend"},
                                                                              {'R', "replace"}}};
    const auto& [mode, mode_name] = kModes[rng.below(kModes.size())];
    m.mode = mode;
    fields.emplace_back("mode", Value::of(std::string(mode_name)));
    if (rng.below(100) < w_.flags_percent) {
      m.client_flags = static_cast<std::uint32_t>(rng.chance(1, 2) ? rng.next() : 0xffff'ffffu);
      fields.emplace_back("flags", Value::of(std::int64_t{*m.client_flags}));
    }
    if (mode != 'A' && mode != 'P') {
      const std::int64_t ttl = expiry(rng, now_ns, wall_ns, fields);
      if (ttl != 0) m.ttl = ttl;
    }
    if (rng.chance(3, 10)) {
      m.compare_cas = cas_unique(rng, key, seen);
      fields.emplace_back("compare", digits(*m.compare_cas));
      if (rng.chance(1, 3)) {
        m.invalidate = true;
        fields.emplace_back("invalidate", Value::of(1));
      }
    }
    // A value near the size limit may be refused with SERVER_ERROR, which q cannot place.
    if (r.data.size() + key.size() + 64 > item_bytes_max_) m.quiet = false;
  } else if (r.verb == kv::Verb::md) {
    m.returned = pick_returned(rng, "kO", 40);
    if (rng.chance(3, 10)) {
      m.compare_cas = cas_unique(rng, key, seen);
      fields.emplace_back("compare", digits(*m.compare_cas));
    }
    if (rng.chance(3, 10)) {
      m.invalidate = true;
      fields.emplace_back("invalidate", Value::of(1));
      if (rng.chance(1, 2)) {
        const std::int64_t ttl = expiry(rng, now_ns, wall_ns, fields);
        if (ttl != 0) m.ttl = ttl;
      }
    }
  } else {  // ma
    m.returned = pick_returned(rng, "ctkO", 40);
    m.value = rng.below(100) < 60;
    if (rng.chance(3, 5)) {
      m.delta = delta(rng);
      fields.emplace_back("delta", digits(*m.delta));
    } else {
      fields.emplace_back("delta", digits(1));
    }
    static constexpr std::array<char, 5> kArithModes{0, 'I', '+', 'D', '-'};
    m.mode = kArithModes[rng.below(kArithModes.size())];
    if (m.mode == 'D' || m.mode == '-') fields.emplace_back("decr", Value::of(1));
    if (rng.chance(1, 5)) {
      m.compare_cas = cas_unique(rng, key, seen);
      fields.emplace_back("compare", digits(*m.compare_cas));
    }
    if (rng.chance(1, 5)) {
      m.vivify_ttl = seconds();
      fields.emplace_back("vivify_s", Value::of(*m.vivify_ttl));
      if (rng.chance(1, 2)) {
        m.initial = rng.chance(1, 4) ? ~std::uint64_t{0} : rng.below(1000);
        fields.emplace_back("initial", digits(*m.initial));
      }
    }
    if (rng.below(100) < w_.ttl_percent / 2) {
      const std::int64_t ttl = expiry(rng, now_ns, wall_ns, fields);
      if (ttl != 0) m.ttl = ttl;
    }
    if (m.quiet && !rng.chance(1, 2)) m.quiet = false;  // a non-number answers CLIENT_ERROR
  }
  if ((m.quiet || rng.chance(1, 2)) && !has(m.returned, 'O')) {
    m.returned.insert(
        m.returned.begin() + static_cast<std::ptrdiff_t>(rng.below(m.returned.size() + 1)), 'O');
  }
  if (has(m.returned, 'O')) m.opaque = std::to_string(client) + "." + std::to_string(n);
  if (m.quiet) fields.emplace_back("quiet", Value::of(1));
  op.args = fields.empty() ? Value{} : Value::map(std::move(fields));
  return op;
}

KvReplyMeaning interpret_meta_reply(const KvOp& op, const Result<kv::McReply>& reply) {
  KvReplyMeaning m;
  const kv::Verb verb = op.request.verb;
  if (!reply) {
    const Error& e = reply.error();
    m.word = e.what.substr(0, e.what.find(' '));
    if (verb == kv::Verb::ms && kv::is_too_large(e)) {
      m.kind = KvReplyMeaning::Kind::known;
      m.results.assign(op.keys.size(), Value::of("TOO_LARGE"));
    } else if (verb == kv::Verb::ma && kv::is_non_numeric(e)) {
      m.kind = KvReplyMeaning::Kind::known;
      m.results.assign(op.keys.size(), Value::of("NON_NUMERIC"));
    } else if (e.code == Errc::protocol || e.code == Errc::invalid_argument) {
      m.kind = KvReplyMeaning::Kind::malformed;
      m.why = "'" + e.what + "' in reply to " + op.f + " " +
              (op.keys.empty() ? "" : op.keys[0].substr(0, 32));
    }
    return m;  // otherwise unknown: a broken stream, a SERVER_ERROR, an error q cannot place
  }
  const kv::McReply& r = *reply;
  m.kind = KvReplyMeaning::Kind::known;
  m.word = r.word.empty() ? "(quiet)" : r.word;
  if (verb == kv::Verb::mn || verb == kv::Verb::me) return m;  // no history
  const auto unique = [&](Fields& fields) {
    if (auto c = r.meta_flag('c')) fields.emplace_back("unique", Value::of(*c));
  };
  Value result;
  switch (verb) {
    case kv::Verb::mg: {
      if (r.word.empty() || r.word == "EN") break;  // a miss (q leaves EN out)
      Fields fields{{"hit", Value::of(1)}};
      if (!r.values.empty()) fields.emplace_back("value", Value::of(r.values[0].data));
      // s: the value's size, which v shows too.
      if (auto size = r.meta_flag('s');
          size && !r.values.empty() && *size != std::to_string(r.values[0].data.size())) {
        m.kind = KvReplyMeaning::Kind::malformed;
        m.why = "mg " + op.keys[0].substr(0, 32) + ": s" + *size + " for a value of " +
                std::to_string(r.values[0].data.size()) + " bytes";
        return m;
      }
      if (auto t = r.meta_flag('t')) fields.emplace_back("ttl", Value::of(*t == "-1" ? -1 : 0));
      if (auto f = r.meta_flag('f')) fields.emplace_back("flags", Value::of(*f));
      unique(fields);
      for (const auto& [letter, name] :
           {std::pair{'W', "won"}, std::pair{'X', "stale"}, std::pair{'Z', "token"}}) {
        if (r.meta_flag(letter)) fields.emplace_back(name, Value::of(1));
      }
      result = Value::map(std::move(fields));
      break;
    }
    case kv::Verb::ms: {
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kWords{
          {{"NS", "NOT_STORED"}, {"EX", "EXISTS"}, {"NF", "NOT_FOUND"}, {"HD", "STORED"}}};
      std::string_view word = "STORED";  // q leaves HD out
      for (const auto& [code, name] : kWords) {
        if (r.word == code) word = name;
      }
      Fields fields{{"result", Value::of(std::string(word))}};
      if (word == "STORED") unique(fields);
      result = fields.size() == 1 ? Value::of(std::string(word)) : Value::map(std::move(fields));
      break;
    }
    case kv::Verb::md:
      result = Value::of(r.word == "NF" ? "NOT_FOUND" : r.word == "EX" ? "EXISTS" : "DELETED");
      break;
    default: {  // ma
      if (r.word == "NF" || r.word == "NS" || r.word == "EX") {
        result = Value::of(r.word == "NF" ? "NOT_FOUND" : r.word == "NS" ? "NOT_STORED" : "EXISTS");
        break;
      }
      Fields fields{{"result", Value::of("OK")}};
      if (!r.values.empty()) fields.emplace_back("number", Value::of(r.values[0].data));
      unique(fields);
      result = Value::map(std::move(fields));
      break;
    }
  }
  m.results.push_back(std::move(result));
  return m;
}

}  // namespace doppel::scenarios

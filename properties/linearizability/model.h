#pragma once
// The sequential specifications the checker holds a key's history to. An
// operation is compiled once into a Step on interned states, so that the
// search compares integers.
//
// kv: memcached 1.6's text protocol on one key, as components/kv serves it.
// The state of a key is its item -- missing, or present with its bytes, its
// 32-bit flags, its cas unique and its expiry -- plus two things about the
// key's store: a lower bound on the cas uniques it hands out from now on,
// and a pending delayed flush_all. kv values are bytes: an integer stands for
// its decimal digits.
//
// Arguments (the invocation's value) and results (the ok completion's):
//   get, gets         result null: a miss. A string: a hit with those bytes.
//                     A map {"value", "flags"?, "unique"?}: a hit, and the
//                     flags and cas unique it showed are checked too.
//   gat, gats         get + touch: the argument is the expiry (below); a hit
//                     sets the item's expiry (a past one removes the item).
//   set, add, replace, append, prepend, cas
//                     the argument is the bytes, or a map {"value", "flags"?,
//                     expiry?, "unique" (cas), "noreply"?}. Results: STORED,
//                     NOT_STORED (add: present; replace, append, prepend:
//                     missing), EXISTS (cas: present, another unique),
//                     NOT_FOUND (cas: missing), TOO_LARGE (the server's
//                     "SERVER_ERROR object too large for cache": a set
//                     removes the old item, as memcached; the others change
//                     nothing; append and prepend need the key present). Any
//                     other result means STORED. A stored item gets a new
//                     unique; append and prepend keep the item's flags and
//                     expiry, the others set theirs.
//   delete            result DELETED (present) or NOT_FOUND (missing); any
//                     other: the key is missing after it.
//   incr, decr        the argument is the delta (an integer, a string of
//                     decimal digits, or a map {"delta", "noreply"?}).
//                     Results: the new value (digits or an integer),
//                     NOT_FOUND, NON_NUMERIC. A value is a number when it is
//                     1 to 20 digits (leading zeros allowed) below 2^64
//                     (components/kv/store/decimal.h); incr wraps at 2^64,
//                     decr stops at 0; the result is stored as its digits
//                     with a new unique, flags and expiry kept.
//   touch             the argument is the expiry; TOUCHED (present: the new
//                     expiry) or NOT_FOUND (missing). The unique is kept.
//   flush_all         every key. The argument: null or {"delay_s": d,
//                     "noreply"?}. No delay (or d <= 0): every item is gone.
//                     d > 0: every item stored before the flush instant F
//                     is gone from F on, where F is a window (below); a later
//                     flush_all replaces a pending one.
//   evict             the cache dropped the key (the server says so).
//   restart           the node restarted: every key is missing, the uniques
//                     start again from 1 and no flush is pending. Every key.
//   mg, ms, md, ma    memcached 1.6's meta commands, with the stale and win
//                     token marks they read and set: kv_meta_model.cc.
// Expiry (in a map argument): absent or {"ttl_s": 0}: never. "ttl_s": n > 0:
// n seconds after the server's now; n < 0: already expired (the store
// removes the old item and keeps nothing, and still answers STORED or
// TOUCHED). "expires_ns": D: memcached's absolute exptime, given in the
// history's own time (the driver converts unix seconds).
//
// Results that are not observed: an operation with "noreply" completed ok
// (the driver completes it when a later reply on its connection shows the
// server executed it) and one pending (info, or never completed) do what the
// key's state makes them do. A pending get or gets constrains nothing and is
// left out; a pending gat or gats is a touch.
//
// Time. The server's clock is the node's wall clock W, in whole seconds and
// never stepping back: S(t) = floor(max over t' <= t of W(t')) seconds.
// The scenario bounds the clock's error: |W(t) - t| <= E (E =
// CheckOptions::clock_error_ns, in the history's time, epoch aside). An item
// stored with ttl n by an operation called at c and linearized by h gets the
// deadline D = S(t1) + n for some t1 in [c, h] (the server reads its clock
// when it parses the request, then stores), and it is gone once S(t) >= D.
// So in the history's time it may vanish from c + n - 2E - 1 s on and must
// be gone from h + n + 2E on. With an absolute exptime D: [D - E, D + E]. A
// delayed flush_all is the same window with d for n. h is the latest the
// operation can be linearized: its return, and no later than any return not
// yet linearized (a pending operation has no return of its own).
//
// Cas uniques. The store hands out uniques from one counter per core,
// increasing, restarting at a restart. The model knows an item's unique once
// a gets or gats showed it (or a cas that matched it); an unknown unique is
// above the key's floor, the largest unique the key showed before the item
// was stored. A cas of unique u: STORED needs the item's unique to be u
// (known, or unknown and u above the floor); EXISTS needs it to differ
// (known and not u, or unknown). So a cas with a unique seen before a later
// store of the key must answer EXISTS.
//
// Item sizes (when CheckOptions::item_bytes_max is set): a value of more
// than item_bytes_max bytes is refused (TOO_LARGE) whatever the key holds,
// an append's or prepend's piece included (it is refused as it is read).
// Otherwise an item whose key and value (for append and prepend: the old
// value and the piece) take more than item_bytes_max bytes is always
// TOO_LARGE; one that fits with item_header_bytes_max to spare is never;
// between, either.
//
// cas-register (Knossos's and Jepsen's etcd register; scalars compared
// exactly, so 1 and "1" differ):
//   read     ok value v: the state is v. Info: constrains nothing.
//   write    value v: the state becomes v.
//   cas      value [a, b]: needs the state a; it becomes b. A cas that found
//            another value is recorded as a fail, and is dropped like any fail.

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "properties/history/history.h"
#include "runtime/result.h"

namespace doppel::properties::linearizability {

enum class ModelKind : std::uint8_t { kv, cas_register };
std::string_view model_name(ModelKind model);
std::optional<ModelKind> parse_model(std::string_view name);

using StateId = std::uint32_t;
using ValueId = std::uint32_t;  // an interned Value (kv: bytes); 0 is null

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// What the model knows about a key at one point (see above). cas-register
// uses `value` only.
struct ModelState {
  ValueId value = 0;  // kv: the item's bytes; 0: missing
  std::uint32_t flags = 0;
  std::uint64_t unique = 0;          // the item's unique when known, else 0
  std::uint64_t unique_floor = 0;    // an unknown unique, and every later one, is above it
  std::int64_t expires_lo = kNever;  // the item may be gone from then on
  std::int64_t expires_hi = kNever;  // the item is gone from then on
  std::int64_t flush_lo = kNever;    // a pending flush_all: the same window
  std::int64_t flush_hi = kNever;
  // The meta protocol's marks (mg X and Z): stale since md I or ms I; a win token handed out.
  bool stale = false;
  bool token_sent = false;

  auto key() const {
    return std::tie(value, flags, unique, unique_floor, expires_lo, expires_hi, flush_lo, flush_hi,
                    stale, token_sent);
  }
  bool operator<(const ModelState& o) const { return key() < o.key(); }
  bool operator==(const ModelState& o) const { return key() == o.key(); }
};

// Model states and the values they hold, interned: equal ones get equal ids.
// State 0 and value 0 are null (kv: a missing key, nothing pending).
class States {
 public:
  static constexpr StateId kNull = 0;
  static constexpr std::size_t kStatesMax = 1u << 30;

  States();
  ValueId intern_value(const Value& v);
  const Value& value_of(ValueId id) const { return values_[id]; }
  StateId intern(const ModelState& s);
  const ModelState& state(StateId id) const { return states_[id]; }
  std::size_t size() const { return states_.size(); }

 private:
  std::vector<Value> values_;
  std::map<Value, ValueId> value_ids_;
  std::vector<ModelState> states_;
  std::map<ModelState, StateId> state_ids_;
};

// A state as a Value, for people and for CheckOptions::initial: cas-register
// and a plain kv item (flags 0, nothing else known): the value itself; a kv
// state with more: a map of its non-default fields ("value", "flags",
// "unique" and "unique_floor" as digit strings, "stale" and "token" as 1,
// "expires_lo", "expires_hi", "flush_lo", "flush_hi"). parse_state is its inverse.
Value describe(ModelKind model, const States& states, StateId id);
Result<StateId> parse_state(ModelKind model, const Value& v, States& states);

enum class StepKind : std::uint8_t {
  // cas-register (a, b: values)
  read,   // the state must be a; unchanged
  write,  // the state becomes a
  cas,    // the state must be a; it becomes b
  // kv
  kv_read,   // get, gets, gat, gats (a: bytes or 0 for a miss)
  kv_store,  // set, add, replace, append, prepend, cas (a: the bytes)
  kv_delete,
  kv_arith,  // incr, decr
  kv_touch,
  kv_flush,  // flush_all
  kv_evict,
  kv_restart,
};

// The storage verbs and incr/decr.
enum class KvMode : std::uint8_t { set, add, replace, append, prepend, cas, incr, decr };

// What the server answered; unknown: not observed (noreply, or pending).
enum class KvOutcome : std::uint8_t {
  unknown,
  stored,
  not_stored,
  exists,
  not_found,
  too_large,
  deleted,
  touched,
  number,       // incr/decr: `number` holds the new value
  non_numeric,  // incr/decr on a value that is not a number
  hit,          // a read that found the item
  miss,
};

// An exptime as the model needs it.
enum class KvExpiry : std::uint8_t { keep, never, relative, past, absolute };

struct Step {
  StepKind kind = StepKind::read;
  ValueId a = 0;
  ValueId b = 0;
  KvMode mode = KvMode::set;
  KvOutcome outcome = KvOutcome::unknown;
  KvExpiry expiry = KvExpiry::keep;  // store, touch, gat: keep = leave the item's
  bool check_flags = false;          // a hit: its flags were shown
  bool check_unique = false;         // a hit: its unique was shown
  bool touches = false;              // a read that is a gat/gats
  std::uint32_t flags = 0;           // stores: the flags; a hit: those shown
  std::uint32_t key_bytes = 0;       // for the size rules
  std::uint64_t number = 0;          // cas: its unique; a hit: the unique; arith: the result
  std::uint64_t delta = 0;           // arith
  std::int64_t amount = 0;           // relative: seconds (flush: its delay); absolute: ns
  // The meta commands (mg, ms, md, ma; kv_meta_model.cc).
  bool meta = false;        // mg (a kv_read), md (a kv_delete), ms (a kv_store)
  bool value_shown = true;  // a hit: its bytes were shown (mg without v: only that it hit)
  bool compares = false;    // ms, md, ma with C: the item's unique must be `compare`
  std::uint64_t compare = 0;
  bool invalidates = false;    // ms I: a lower unique stores stale; md I: mark stale
  std::int64_t vivify_s = 0;   // mg N, ma N: on a miss, an item expiring in this many seconds
  std::uint64_t initial = 0;   // ma J: the vivified number
  bool recache = false;        // mg R: an item that expires may win the token
  bool won = false;            // mg: W shown
  bool stale = false;          // mg: X shown
  bool token = false;          // mg: Z shown
  bool ttl_shown = false;      // mg: t shown
  bool ttl_never = false;      // ... as -1
  bool learns_unique = false;  // ms, ma c: `learned` is the new version's unique
  std::uint64_t learned = 0;
  bool number_shown = true;  // ma without v: HD, the new number not shown
};

// What one operation does, worked out once for both of its fates.
struct CompiledOp {
  bool every_key = false;  // restart, flush_all: in every key's sub-history
  // When it completed ok, with its result (only if a completion was given).
  Step completed;
  // When it may or may not have happened (info, never completed, or completed
  // after the point being checked). nullopt: then it constrains nothing (a
  // read) and is left out.
  std::optional<Step> pending;
};

// `ok` is the invocation's ok completion, or nullptr. Errors say what is
// wrong (an unknown f, a value of the wrong shape), not where.
Result<CompiledOp> compile(ModelKind model, const Operation& invocation, const Operation* ok,
                           States& states);

// When a step happens: its operation's call, and bounds on the instant it
// is linearized at (lo: the latest call of what came before, and its own;
// hi: the earliest return still to come, kNever when none).
struct StepTime {
  std::int64_t call_ns = 0;
  std::int64_t lo_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t hi_ns = kNever;
};

// The states a step may lead to: none when it cannot happen, several when
// an expiry or a delayed flush may or may not have come first, or an item
// size is close to the limit.
struct Successors {
  static constexpr std::size_t kMax = 8;
  std::array<StateId, kMax> ids{};
  std::uint8_t count = 0;
  void add(StateId id);
};

struct KvModelOptions {
  std::int64_t clock_error_ns = 0;   // E above
  std::uint32_t item_bytes_max = 0;  // 0: no size rules
  std::uint32_t item_header_bytes_max = 0;
};

// Applies steps to states; remembers the concatenations it has computed.
class Stepper {
 public:
  Stepper(ModelKind model, States& states, KvModelOptions kv = {})
      : model_(model), states_(states), kv_(kv) {}
  Successors apply(StateId state, const Step& step, const StepTime& time);
  States& states() { return states_; }
  ModelKind model() const { return model_; }
  // A kv store whose key and value may exceed the item size limit (and so be refused).
  bool may_refuse_as_too_large(const Step& step) const;

 private:
  Successors apply_register(StateId state, const Step& step);
  Successors apply_kv(StateId state, const Step& step, const StepTime& time);
  void apply_kv_to(const ModelState& s, const Step& step, const StepTime& time, Successors& out);
  void store(const ModelState& s, const Step& step, const StepTime& time, Successors& out);
  void arith(const ModelState& s, const Step& step, const StepTime& time, Successors& out);
  void meta_read(const ModelState& s, const Step& step, const StepTime& time, Successors& out);
  void meta_delete(const ModelState& s, const Step& step, const StepTime& time, Successors& out);
  // With `step.compares` (or a cas): whether the item's unique may be, or may not be, the one
  // compared, and may be above it.
  bool unique_may_match(const ModelState& s, std::uint64_t compare) const;
  bool unique_may_differ(const ModelState& s, std::uint64_t compare) const;
  bool unique_may_exceed(const ModelState& s, std::uint64_t compare) const;
  // The item `step` vivifies on a miss (mg N, ma N): `bytes`, flags 0, expiring in vivify_s.
  ModelState vivified(const ModelState& s, ValueId bytes, const Step& step,
                      const StepTime& time) const;
  ModelState stored_item(const ModelState& s, ValueId bytes, std::uint32_t flags) const;
  void set_expiry(ModelState& item, const Step& step, const StepTime& time) const;
  ValueId concat(ValueId head, ValueId tail);
  // Whether key + value bytes always, or never, fit in an item.
  bool surely_fits(std::uint64_t bytes) const;
  bool surely_too_large(std::uint64_t bytes) const;

  ModelKind model_;
  States& states_;
  KvModelOptions kv_;
  std::map<std::pair<ValueId, ValueId>, ValueId> concatenated_;
};

}  // namespace doppel::properties::linearizability

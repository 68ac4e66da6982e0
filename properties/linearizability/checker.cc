// The checker: split by key, search each key, and shrink a failure to a
// counter-example (see checker.h).

#include "properties/linearizability/checker.h"

#include <algorithm>
#include <limits>
#include <map>

#include "properties/linearizability/search.h"

namespace doppel::properties::linearizability {
namespace {

// One operation of a key's sub-history.
struct KeyOp {
  std::size_t invocation = 0;              // record index
  std::size_t completion = History::npos;  // its ok or info record, if any
  bool completed = false;                  // ok
  CompiledOp compiled;
  std::int64_t call_ns = 0;
  std::int64_t return_ns = 0;  // when completed
};

using KeyOps = std::vector<KeyOp>;

struct Prepared {
  std::map<std::string, KeyOps> keys;  // ordered: results never depend on hashing
  std::size_t operations = 0;
};

std::string where(const Operation& op, std::size_t index) {
  return op.line > 0 ? "line " + std::to_string(op.line) : "record #" + std::to_string(index);
}

Result<Prepared> prepare(const History& history, ModelKind model, States& states) {
  Prepared p;
  KeyOps every_key;
  const auto& records = history.records();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Operation& inv = records[i];
    if (inv.type != OpType::invoke) continue;
    ++p.operations;
    const std::size_t j = history.partner(i);
    const Operation* done = j == History::npos ? nullptr : &records[j];
    if (done != nullptr && done->type == OpType::fail) continue;  // it did not happen
    const bool ok = done != nullptr && done->type == OpType::ok;
    auto compiled = compile(model, inv, ok ? done : nullptr, states);
    if (!compiled) return make_error(compiled.code(), where(inv, i) + ": " + compiled.error().what);
    KeyOp k{i, j, ok, *compiled, inv.time_ns, ok ? done->time_ns : 0};
    if (compiled->every_key) {
      every_key.push_back(k);
    } else {
      p.keys[inv.key].push_back(k);
    }
  }
  for (auto& [key, ops] : p.keys) {
    if (every_key.empty()) continue;
    ops.insert(ops.end(), every_key.begin(), every_key.end());
    std::sort(ops.begin(), ops.end(),
              [](const KeyOp& a, const KeyOp& b) { return a.invocation < b.invocation; });
  }
  return p;
}

// Operations handed to a search, each with the KeyOp it came from.
struct Slice {
  std::vector<SearchOp> ops;
  std::vector<std::uint32_t> origin;  // index into the key's KeyOps
  std::vector<bool> completed;

  // Adds the operation, completed or pending (a pending read is left out).
  void add(const KeyOps& key_ops, std::uint32_t index, bool done) {
    const KeyOp& k = key_ops[index];
    DOPPEL_ASSERT(!done || k.completed);
    if (!done && !k.compiled.pending) return;
    ops.push_back(
        SearchOp{done ? k.compiled.completed : *k.compiled.pending, k.call_ns, k.return_ns, !done});
    origin.push_back(index);
    completed.push_back(done);
  }
  Slice subset(const KeyOps& key_ops, std::span<const std::uint32_t> positions) const {
    Slice s;
    for (const std::uint32_t p : positions) s.add(key_ops, origin[p], completed[p]);
    return s;
  }
};

Slice whole(const KeyOps& key_ops) {
  Slice s;
  for (std::uint32_t i = 0; i < key_ops.size(); ++i) s.add(key_ops, i, key_ops[i].completed);
  return s;
}

// Where each operation's call and return sit in the time order.
struct Positions {
  std::vector<std::size_t> call, ret;  // ret: max for a pending operation
  std::vector<std::size_t> returns;    // positions of the returns, in order
  std::vector<Entry> entries;
};

Positions positions_of(const Slice& s) {
  Positions p;
  p.entries = order_entries(s.ops);
  p.call.assign(s.ops.size(), 0);
  p.ret.assign(s.ops.size(), std::numeric_limits<std::size_t>::max());
  for (std::size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& e = p.entries[i];
    (e.call ? p.call : p.ret)[e.op] = i;
    if (!e.call) p.returns.push_back(i);
  }
  return p;
}

struct Shrunk {
  Slice window;
  std::vector<StateId> initial;  // the states the window may start in
  std::size_t before = 0;        // operations of the prefix before the window
  std::uint32_t culprit = 0;     // KeyOps index
  SearchResult longest;
  StateId longest_from = States::kNull;
};

class Shrinker {
 public:
  Shrinker(const KeyOps& key_ops, Stepper& stepper, const SearchLimits& limits)
      : key_ops_(key_ops), stepper_(stepper), limits_(limits) {}

  Shrunk shrink(StateId initial);
  std::uint64_t steps() const { return steps_; }

 private:
  SearchResult run(const Slice& s, StateId from, SearchMode mode = {}) {
    SearchResult r = search(s.ops, from, stepper_, limits_, mode);
    steps_ += r.steps;
    return r;
  }
  // The operations called before the k-th return; those completed after it are pending.
  Slice prefix(const Slice& all, const Positions& at, std::size_t k) const {
    const std::size_t cut = at.returns[k - 1];
    Slice s;
    for (std::uint32_t v = 0; v < all.ops.size(); ++v) {
      if (at.call[v] < cut) s.add(key_ops_, all.origin[v], all.completed[v] && at.ret[v] <= cut);
    }
    return s;
  }
  // The latest quiescent point of `p`: operations [0, c) of `order` all
  // returned before any of [c, n) was called. 0 when there is none.
  static std::size_t last_quiescent(const Slice& p, std::vector<std::uint32_t>& order);
  bool try_window(const Slice& p, const std::vector<std::uint32_t>& order, std::size_t cut,
                  StateId initial, Shrunk& out);

  static constexpr std::uint64_t kDisplaySteps = 1'000'000;

  const KeyOps& key_ops_;
  Stepper& stepper_;
  SearchLimits limits_;
  std::uint64_t steps_ = 0;
};

std::size_t Shrinker::last_quiescent(const Slice& p, std::vector<std::uint32_t>& order) {
  const Positions at = positions_of(p);
  order.resize(p.ops.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return at.call[a] < at.call[b]; });
  std::size_t best = 0, returned_by = 0;
  for (std::size_t c = 1; c < order.size(); ++c) {
    returned_by = std::max(returned_by, at.ret[order[c - 1]]);
    if (returned_by < at.call[order[c]]) best = c;
  }
  return best;
}

bool Shrinker::try_window(const Slice& p, const std::vector<std::uint32_t>& order, std::size_t cut,
                          StateId initial, Shrunk& out) {
  const std::span<const std::uint32_t> all(order);
  out.window = p.subset(key_ops_, all.subspan(cut));
  out.before = cut;
  out.initial = {initial};
  if (cut > 0) {
    const SearchResult head = run(p.subset(key_ops_, all.first(cut)), initial, {true, false});
    if (head.outcome != Outcome::linearizable) return false;
    out.initial = head.final_states;
  }
  for (const StateId from : out.initial) {
    const SearchResult r = run(out.window, from);
    if (r.outcome == Outcome::limit) return false;
    // The prefix fails, and every way through the operations before the
    // window ends in one of these states: so the window fails from each.
    DOPPEL_ASSERT_MSG(r.outcome == Outcome::not_linearizable, "a window linearizes");
  }
  // For the reader: the longest linearization of the window, with every
  // operation and a small budget (what is met by then is still a valid start).
  SearchLimits display = limits_;
  display.steps_max = std::max<std::uint64_t>(
      1000, std::min(limits_.steps_max, kDisplaySteps) / out.initial.size());
  out.longest = SearchResult{};
  out.longest_from = out.initial.front();
  for (const StateId from : out.initial) {
    SearchResult r = search(out.window.ops, from, stepper_, display, {false, true});
    steps_ += r.steps;
    if (r.longest.size() > out.longest.longest.size()) {
      out.longest = std::move(r);
      out.longest_from = from;
    }
  }
  return true;
}

Shrunk Shrinker::shrink(StateId initial) {
  const Slice all = whole(key_ops_);
  const Positions at = positions_of(all);
  DOPPEL_ASSERT(!at.returns.empty());
  // Non-linearizability is kept by longer prefixes: binary search the shortest.
  std::size_t lo = 1, hi = at.returns.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (run(prefix(all, at, mid), initial).outcome == Outcome::not_linearizable) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  Slice p = prefix(all, at, lo);
  // Pending operations whose effect nothing observes cannot matter: without
  // them the prefix still fails, and they no longer stand in every cut.
  const std::vector<std::uint32_t> kept = needed(p.ops, stepper_);
  if (kept.size() < p.ops.size()) p = p.subset(key_ops_, kept);
  std::vector<std::uint32_t> order;
  const std::size_t cut = last_quiescent(p, order);
  Shrunk out;
  out.culprit = all.origin[at.entries[at.returns[lo - 1]].op];
  if (cut > 0 && try_window(p, order, cut, initial, out)) return out;
  if (try_window(p, order, 0, initial, out)) return out;
  // Not even the prefix could be searched again within the limits: then the
  // whole sub-history, which the check itself found not linearizable.
  out.window = all;
  out.before = 0;
  out.initial = {initial};
  out.longest = SearchResult{};
  out.longest_from = initial;
  return out;
}

std::vector<Value> sorted_values(ModelKind model, const States& states,
                                 const std::vector<StateId>& ids) {
  std::vector<Value> out;
  for (const StateId id : ids) out.push_back(describe(model, states, id));
  std::sort(out.begin(), out.end());
  return out;
}

CounterExample make_counter_example(const History& history, const std::string& key,
                                    const KeyOps& key_ops, const Shrunk& s, ModelKind model,
                                    const States& states) {
  CounterExample ce;
  ce.key = key;
  ce.key_operations = key_ops.size();
  ce.operations_before = s.before;
  ce.initial_states = sorted_values(model, states, s.initial);
  const Value from = describe(model, states, s.longest_from);
  ce.longest_from =
      static_cast<std::size_t>(std::find(ce.initial_states.begin(), ce.initial_states.end(), from) -
                               ce.initial_states.begin());
  // Records in history order, so each process's stay paired; an operation
  // that completed after the failure point keeps its completion as an info
  // (it is pending in the prefix: its result came too late to matter).
  std::map<std::size_t, bool> records;  // record index -> demoted to info
  for (std::size_t i = 0; i < s.window.ops.size(); ++i) {
    const KeyOp& k = key_ops[s.window.origin[i]];
    records[k.invocation] = false;
    if (k.completion != History::npos)
      records[k.completion] = k.completed && !s.window.completed[i];
  }
  std::map<std::size_t, std::size_t> window_index;  // record index -> window index
  for (const auto& [r, demoted] : records) {
    window_index[r] = ce.window.size();
    Operation op = history.records()[r];
    if (demoted) {
      op.type = OpType::info;
      op.value = Value{};
      ce.unfinished.push_back(window_index.at(history.partner(r)));
    }
    Status added = ce.window.append(std::move(op));
    DOPPEL_ASSERT(added.ok());
  }
  ce.culprit = window_index.at(key_ops[s.culprit].invocation);
  for (std::size_t i = 0; i < s.longest.longest.size(); ++i) {
    const KeyOp& k = key_ops[s.window.origin[s.longest.longest[i]]];
    ce.longest.push_back(
        {window_index.at(k.invocation), describe(model, states, s.longest.longest_states[i])});
  }
  return ce;
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::linearizable:
      return "linearizable";
    case Verdict::not_linearizable:
      return "not linearizable";
    case Verdict::unknown:
      return "unknown (search limit)";
  }
  return "?";
}

Result<CheckResult> check_linearizable(const History& history, const CheckOptions& options) {
  States states;
  auto initial_state = parse_state(options.model, options.initial, states);
  if (!initial_state) return initial_state.error();
  const StateId initial = *initial_state;
  Stepper stepper(options.model, states,
                  KvModelOptions{options.clock_error_ns, options.item_bytes_max,
                                 options.item_header_bytes_max});
  auto prepared = prepare(history, options.model, states);
  if (!prepared) return prepared.error();
  const SearchLimits limits{options.steps_max, options.memo_bytes_max};
  CheckResult result;
  result.operations = prepared->operations;
  result.keys = prepared->keys.size();
  for (const auto& [key, key_ops] : prepared->keys) {
    const SearchResult r = search(whole(key_ops).ops, initial, stepper, limits);
    result.steps += r.steps;
    if (r.outcome == Outcome::not_linearizable) result.failed_keys.push_back(key);
    if (r.outcome == Outcome::limit) result.unknown_keys.push_back(key);
  }
  if (!result.unknown_keys.empty()) result.verdict = Verdict::unknown;
  if (result.failed_keys.empty()) return result;
  result.verdict = Verdict::not_linearizable;
  const std::string& key = result.failed_keys.front();
  const KeyOps& key_ops = prepared->keys.at(key);
  Shrinker shrinker(key_ops, stepper, limits);
  const Shrunk shrunk = shrinker.shrink(initial);
  result.steps += shrinker.steps();
  result.counter_example =
      make_counter_example(history, key, key_ops, shrunk, options.model, states);
  return result;
}

std::string summarize(const CheckResult& r, ModelKind model) {
  const std::string totals = std::to_string(r.operations) + " operations on " +
                             std::to_string(r.keys) + (r.keys == 1 ? " key" : " keys") +
                             " (model " + std::string(model_name(model)) + ", " +
                             std::to_string(r.steps) + " search steps)";
  const std::string unknown =
      std::to_string(r.unknown_keys.size()) + " of " + std::to_string(r.keys) +
      " keys hit the search limit (first: " +
      (r.unknown_keys.empty() ? "" : to_json(Value::of(r.unknown_keys[0]))) + ")";
  switch (r.verdict) {
    case Verdict::linearizable:
      return "linearizable: " + totals;
    case Verdict::unknown:
      return "unknown (search limit): " + unknown + "; " + totals;
    case Verdict::not_linearizable:
      break;
  }
  std::string out = "NOT linearizable: key " + to_json(Value::of(r.failed_keys.front())) + " (" +
                    std::to_string(r.failed_keys.size()) + " of " + std::to_string(r.keys) +
                    " keys fail); " + totals;
  if (!r.unknown_keys.empty()) out += "; " + unknown;
  return out;
}

namespace {

// A value as the counter-example prints it: JSON, cut short when long, so a
// kilobyte value does not drown the story.
std::string shown(const Value& v) {
  constexpr std::size_t kShownMax = 48;
  std::string text = to_json(v);
  if (text.size() <= kShownMax) return text;
  const std::size_t bytes = v.kind == Value::Kind::string ? v.text.size() : text.size();
  text.resize(kShownMax - 8);
  return text + "...\" (" + std::to_string(bytes) + " bytes)";
}

// "p3 get -> \"v1\"", "p1 set \"v2\"", "p2 cas [1, 2]", "p4 append \"x\" -> \"NOT_STORED\"".
std::string describe_op(const History& h, std::size_t i) {
  const Operation& inv = h.records()[i];
  std::string out = "p" + std::to_string(inv.process) + " " + inv.f;
  if (!inv.value.is_null()) out += " " + shown(inv.value);
  const std::size_t j = h.partner(i);
  if (j != History::npos && h.records()[j].type == OpType::ok) {
    const Value& result = h.records()[j].value;
    if (inv.value.is_null() || (!result.is_null() && result != inv.value)) {
      out += " -> " + shown(result);
    }
  }
  return out;
}

std::string when(const History& h, std::size_t i, bool unfinished) {
  const Operation& inv = h.records()[i];
  const std::size_t j = h.partner(i);
  std::string out = "[" + std::to_string(inv.time_ns) + " .. ";
  if (unfinished) {
    out += "after the failure point]";
  } else if (j == History::npos) {
    out += "never completed]";
  } else if (h.records()[j].type == OpType::info) {
    out += "? info]";
  } else {
    out += std::to_string(h.records()[j].time_ns) + "]";
  }
  return out;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

std::string state_list(const std::vector<Value>& states) {
  constexpr std::size_t kShownMax = 8;
  std::string out;
  for (std::size_t i = 0; i < states.size() && i < kShownMax; ++i) {
    out += (i ? ", " : "") + shown(states[i]);
  }
  if (states.size() > kShownMax) out += ", ... (" + std::to_string(states.size()) + " in all)";
  return out;
}

}  // namespace

std::string format_counter_example(const CounterExample& ce) {
  constexpr std::size_t kOpsShownMax = 60;
  const History& h = ce.window;
  const auto is_unfinished = [&](std::size_t i) {
    return std::find(ce.unfinished.begin(), ce.unfinished.end(), i) != ce.unfinished.end();
  };
  const auto line_of = [&](std::size_t i) {
    const std::uint64_t line = h.records()[i].line;
    return line > 0 ? "  line " + std::to_string(line) : std::string();
  };
  std::vector<std::size_t> invocations;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h.records()[i].type == OpType::invoke) invocations.push_back(i);
  }
  std::string out = "key " + shown(Value::of(ce.key)) + ": cannot linearize " +
                    describe_op(h, ce.culprit) + " " + when(h, ce.culprit, false) +
                    line_of(ce.culprit) + "\n";
  out += "  window: " + std::to_string(invocations.size()) + " of the key's " +
         std::to_string(ce.key_operations) + " operations; ";
  if (ce.operations_before == 0) {
    out += "the key starts as " + state_list(ce.initial_states) + "\n";
  } else {
    out += "the " + std::to_string(ce.operations_before) + " before it leave the key as " +
           (ce.initial_states.size() > 1 ? "one of " : "") + state_list(ce.initial_states) + "\n";
  }
  // A long window is shown by its end, where the failure is (culprit included).
  const std::size_t culprit_at = static_cast<std::size_t>(
      std::find(invocations.begin(), invocations.end(), ce.culprit) - invocations.begin());
  const std::size_t first = invocations.size() <= kOpsShownMax
                                ? 0
                                : std::min(culprit_at, invocations.size() - kOpsShownMax);
  out += "  operations, by invocation (times in ns; * marks the one that cannot be linearized):\n";
  if (first > 0) out += "    ... " + std::to_string(first) + " earlier\n";
  for (std::size_t n = first; n < invocations.size() && n < first + kOpsShownMax; ++n) {
    const std::size_t i = invocations[n];
    out += std::string(i == ce.culprit ? "  * " : "    ") + pad(describe_op(h, i), 36) + " " +
           when(h, i, is_unfinished(i)) + line_of(i) + "\n";
  }
  if (invocations.size() > first + kOpsShownMax) {
    out += "    ... " + std::to_string(invocations.size() - first - kOpsShownMax) + " later\n";
  }
  const std::string from =
      ce.initial_states.empty() ? "null" : shown(ce.initial_states[ce.longest_from]);
  if (ce.longest.empty()) {
    out += "  no operation of the window can be linearized first (from " + from + ")\n";
    return out;
  }
  out += "  longest linearization found: " + std::to_string(ce.longest.size()) + " of them, from " +
         from + ", each with the state after it:\n";
  const std::size_t skipped =
      ce.longest.size() > kOpsShownMax ? ce.longest.size() - kOpsShownMax : 0;
  if (skipped > 0) out += "    ... " + std::to_string(skipped) + " earlier\n";
  for (std::size_t n = skipped; n < ce.longest.size(); ++n) {
    out += "    " + pad(describe_op(h, ce.longest[n].op), 36) + " => " +
           shown(ce.longest[n].state) + "\n";
  }
  return out;
}

WindowView window_view(const CounterExample& ce) {
  const History& h = ce.window;
  WindowView v;
  v.key = ce.key;
  for (std::size_t i = 0; i < ce.initial_states.size() && i < 8; ++i) {
    v.initial.push_back(shown(ce.initial_states[i]));
  }
  if (v.initial.empty()) v.initial.push_back("null");
  std::vector<std::size_t> invocations;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h.records()[i].type == OpType::invoke) invocations.push_back(i);
  }
  std::map<std::size_t, std::size_t> order;  // window index -> place in the linearization
  std::map<std::size_t, std::string> state;
  for (std::size_t n = 0; n < ce.longest.size(); ++n) {
    order[ce.longest[n].op] = n + 1;
    state[ce.longest[n].op] = shown(ce.longest[n].state);
  }
  const std::size_t culprit_at = static_cast<std::size_t>(
      std::find(invocations.begin(), invocations.end(), ce.culprit) - invocations.begin());
  const std::size_t first = invocations.size() <= WindowView::kOpsMax
                                ? 0
                                : std::min(culprit_at, invocations.size() - WindowView::kOpsMax);
  if (first > 0) v.note = std::to_string(first) + " earlier operations of the window not drawn";
  for (std::size_t n = first; n < invocations.size() && n < first + WindowView::kOpsMax; ++n) {
    const std::size_t i = invocations[n];
    const Operation& inv = h.records()[i];
    WindowOp op;
    op.process = inv.process;
    op.op = describe_op(h, i);
    op.start_ns = inv.time_ns;
    const std::size_t j = h.partner(i);
    const bool unfinished =
        std::find(ce.unfinished.begin(), ce.unfinished.end(), i) != ce.unfinished.end();
    if (!unfinished && j != History::npos && h.records()[j].type == OpType::ok) {
      op.end_ns = h.records()[j].time_ns;
    }
    op.culprit = i == ce.culprit;
    if (auto it = order.find(i); it != order.end()) {
      op.order = it->second;
      op.state = state[i];
    }
    v.ops.push_back(std::move(op));
  }
  return v;
}

}  // namespace doppel::properties::linearizability

#pragma once
// Per-key linearizability of a history (see README.md).
//
// Linearizability is compositional (Herlihy & Wing's locality, P-compositionality
// in Horn & Kroening): a history is linearizable when every key's sub-history
// is, so the history is split by key and each key searched alone (search.h).
// A restart applies to every key: it is put in every key's sub-history, and
// each key may place it anywhere in its interval (each key on its own: a
// restart seen by several keys is not forced to one instant for all of them,
// so a bug that needs that is not caught; nothing linearizable is rejected).
//
// On failure the checker returns a counter-example for the first failing key
// (in key order): the shortest prefix of that key's history that cannot be
// linearized (cut at the completion that cannot be explained: operations
// completed after it are pending in the prefix), and of that prefix only the
// window after its last quiescent point (no operation in flight), starting
// from each state the operations before could have left. Pending operations
// whose effect nothing observes are left out of it (they cannot matter, and
// an info operation would otherwise stand in the way of every cut after its
// call). The window is a history on its own: checked from any of those
// initial states, it is not linearizable.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/history/history.h"
#include "properties/linearizability/model.h"
#include "runtime/result.h"

namespace doppel::properties::linearizability {

struct CheckOptions {
  ModelKind model = ModelKind::kv;
  // Per search of one key's sub-history (a step examines one entry); past it
  // the key's answer is "unknown", never a guess.
  std::uint64_t steps_max = 10'000'000;
  std::uint64_t memo_bytes_max = std::uint64_t{512} << 20;  // per search
  Value initial;  // every key's state before the history (null: missing; see describe())
  // kv: the bound on the server's clock error, and the item size rules (model.h).
  std::int64_t clock_error_ns = 0;
  std::uint32_t item_bytes_max = 0;  // 0: no size rules
  std::uint32_t item_header_bytes_max = 0;
};

enum class Verdict : std::uint8_t { linearizable, not_linearizable, unknown };
std::string_view verdict_name(Verdict v);

struct LinearizedOp {
  std::size_t op = 0;  // the invocation's index in CounterExample::window
  Value state;         // the key's state after it
};

struct CounterExample {
  std::string key;
  // The window's records, copied from the history (line numbers kept). An
  // operation that completed after the failure point is pending in the
  // prefix: its completion is here as an info, and it is listed in `unfinished`.
  History window;
  std::vector<std::size_t> unfinished;  // window indices of those invocations
  // Every state the key could be in at the window's start (sorted).
  std::vector<Value> initial_states;
  std::size_t key_operations = 0;     // operations on the key in the whole history
  std::size_t operations_before = 0;  // of them, before the window
  std::size_t culprit = 0;  // window index of the invocation whose completion cannot be linearized
  // The longest linearization of the window the search found, from
  // initial_states[longest_from].
  std::vector<LinearizedOp> longest;
  std::size_t longest_from = 0;
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  std::size_t operations = 0;  // invocations in the history
  std::size_t keys = 0;
  std::uint64_t steps = 0;                        // every search's, added up
  std::vector<std::string> failed_keys;           // not linearizable, in key order
  std::vector<std::string> unknown_keys;          // hit a search limit, in key order
  std::optional<CounterExample> counter_example;  // of failed_keys.front()
};

// Errors: an operation the model does not know or of the wrong shape,
// naming its line ("line 7: ...") or, in memory, its record ("record #12: ...").
Result<CheckResult> check_linearizable(const History& history, const CheckOptions& options = {});

// One line: "linearizable: 10000 operations on 100 keys (model kv, 31204 search steps)",
// "NOT linearizable: key \"k\" (1 of 100 keys fail) ..." or "unknown (search limit): ...".
std::string summarize(const CheckResult& result, ModelKind model);

// The counter-example, readably: the culprit, the window's operations with
// processes, times and values, and the longest linearization found.
std::string format_counter_example(const CounterExample& ce);

// The counter-example's window as a picture draws it (the trace viewer, `check linearizable
// --html`): each operation with its process, its text as format_counter_example writes it,
// its invocation and completion (-1: none, or only an info), whether it is the culprit, its
// place in the longest linearization (1-based; 0: not in it) and the state after it there.
// A long window keeps its end, where the failure is; `note` says what was left out.
struct WindowOp {
  std::int64_t process = 0;
  std::string op;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = -1;
  bool culprit = false;
  std::size_t order = 0;
  std::string state;
};
struct WindowView {
  static constexpr std::size_t kOpsMax = 200;
  std::string key;
  std::vector<std::string> initial;  // the states the key may start the window in
  std::vector<WindowOp> ops;
  std::string note;
};
WindowView window_view(const CounterExample& ce);

}  // namespace doppel::properties::linearizability

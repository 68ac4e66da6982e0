// The WGL search (see search.h). The list of entries is held in index arrays
// (no pointers, so nothing depends on addresses); lifting and unlifting are
// the dancing-links moves, undone in reverse order.

#include "properties/linearizability/search.h"

#include <algorithm>
#include <set>

namespace doppel::properties::linearizability {
namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The visited (linearized set, state) configurations. Each is stored as
// [hash, state, bits...] in one arena; the table holds arena indices + 1.
class ConfigSet {
 public:
  enum class Insert : std::uint8_t { added, present, full };

  ConfigSet(std::size_t words, std::uint64_t bytes_max)
      : words_(words), stride_(words + 2), bytes_max_(bytes_max), slots_(1024, 0) {}

  Insert insert(const std::vector<std::uint64_t>& bits, StateId state, std::uint64_t hash) {
    DOPPEL_ASSERT(bits.size() == words_);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask) {
      const std::uint64_t* c = &arena_[(slots_[i] - 1) * stride_];
      if (c[0] == hash && c[1] == state && std::equal(bits.begin(), bits.end(), c + 2)) {
        return Insert::present;
      }
    }
    const std::uint64_t bytes = (arena_.size() + stride_) * 8 + slots_.size() * 4;
    if (bytes > bytes_max_ || count_ >= kCountMax) return Insert::full;
    arena_.push_back(hash);
    arena_.push_back(state);
    arena_.insert(arena_.end(), bits.begin(), bits.end());
    slots_[i] = static_cast<std::uint32_t>(++count_);
    if (count_ * 2 > slots_.size()) grow();
    return Insert::added;
  }

 private:
  static constexpr std::size_t kCountMax = 0xffff'fff0;

  void grow() {
    std::vector<std::uint32_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const std::uint32_t s : old) {
      if (s == 0) continue;
      std::size_t i = arena_[(s - 1) * stride_] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::size_t words_;
  std::size_t stride_;
  std::uint64_t bytes_max_;
  std::vector<std::uint32_t> slots_;
  std::vector<std::uint64_t> arena_;
  std::size_t count_ = 0;
};

}  // namespace

std::vector<Entry> order_entries(std::span<const SearchOp> ops) {
  std::vector<Entry> entries;
  entries.reserve(ops.size() * 2);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto op = static_cast<std::uint32_t>(i);
    entries.push_back(Entry{op, true, ops[i].call_ns});
    if (ops[i].pending) continue;
    DOPPEL_ASSERT(ops[i].return_ns >= ops[i].call_ns);
    entries.push_back(Entry{op, false, ops[i].return_ns});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.time_ns != b.time_ns) return a.time_ns < b.time_ns;
    if (a.call != b.call) return a.call;
    return a.op < b.op;
  });
  return entries;
}

namespace {

// The list of entries: node 0 is the head, node i + 1 is entries[i], and
// node size + 1 is the end.
struct EntryList {
  explicit EntryList(const std::vector<Entry>& entries, std::size_t ops)
      : next(entries.size() + 2), prev(entries.size() + 2), return_of(entries.size() + 2, 0) {
    const auto end = static_cast<std::uint32_t>(entries.size() + 1);
    for (std::uint32_t i = 0; i < end; ++i) {
      next[i] = i + 1;
      prev[i + 1] = i;
    }
    std::vector<std::uint32_t> return_node(ops, 0);
    for (std::uint32_t i = 0; i + 1 < end; ++i) {
      if (!entries[i].call) return_node[entries[i].op] = i + 1;
    }
    for (std::uint32_t i = 0; i + 1 < end; ++i) {
      if (entries[i].call) return_of[i + 1] = return_node[entries[i].op];
    }
  }
  void unlink(std::uint32_t n) {
    next[prev[n]] = next[n];
    prev[next[n]] = prev[n];
  }
  void relink(std::uint32_t n) {
    next[prev[n]] = n;
    prev[next[n]] = n;
  }
  void lift(std::uint32_t call) {
    unlink(call);
    if (return_of[call] != 0) unlink(return_of[call]);
  }
  void unlift(std::uint32_t call) {  // the reverse of lift, in reverse order
    if (return_of[call] != 0) relink(return_of[call]);
    relink(call);
  }

  std::vector<std::uint32_t> next, prev;
  std::vector<std::uint32_t> return_of;  // call node -> its return node, 0 when pending
};

SearchResult search_all(std::span<const SearchOp> ops, StateId initial, Stepper& stepper,
                        const SearchLimits& limits, SearchMode mode) {
  DOPPEL_ASSERT(ops.size() < (std::size_t{1} << 31));
  const std::vector<Entry> entries = order_entries(ops);
  EntryList list(entries, ops.size());
  const auto end = static_cast<std::uint32_t>(entries.size() + 1);
  std::vector<std::uint64_t> bits((ops.size() + 63) / 64, 0);
  std::uint64_t zobrist = 0;  // the XOR of the linearized operations' keys
  ConfigSet memo(bits.size(), limits.memo_bytes_max);
  struct Frame {
    std::uint32_t call;  // the node linearized
    StateId before;      // the state before it
  };
  std::vector<Frame> stack;
  std::set<StateId> finals;
  SearchResult r;
  StateId state = initial;
  auto flip = [&](std::uint32_t op) {
    bits[op / 64] ^= std::uint64_t{1} << (op % 64);
    zobrist ^= mix64(op + 0x9e3779b97f4a7c15ULL);
  };
  auto undo = [&] {  // backtracks the last choice; returns the node to go on from
    const Frame f = stack.back();
    stack.pop_back();
    list.unlift(f.call);
    flip(entries[f.call - 1].op);
    state = f.before;
    return list.next[f.call];
  };
  std::uint32_t node = list.next[0];
  while (true) {
    if (node == end) {  // every operation left is pending: a linearization
      finals.insert(state);
      if (!mode.all_final_states || stack.empty()) break;
      node = undo();
      continue;
    }
    if (++r.steps > limits.steps_max) {
      r.outcome = Outcome::limit;
      return r;
    }
    const Entry& e = entries[node - 1];
    if (!e.call) {  // its operation should have been linearized by now
      if (stack.empty()) break;
      node = undo();
      continue;
    }
    if (const std::optional<StateId> after = stepper.apply(state, ops[e.op].step)) {
      flip(e.op);
      const auto added = memo.insert(bits, *after, mix64(zobrist ^ (*after * 0x9e3779b97f4a7c15ULL)));
      if (added == ConfigSet::Insert::full) {
        r.outcome = Outcome::limit;
        return r;
      }
      if (added == ConfigSet::Insert::added) {
        stack.push_back(Frame{node, state});
        state = *after;
        list.lift(node);
        node = list.next[0];
        if (mode.track_longest && stack.size() > r.longest.size()) {
          r.longest.clear();
          r.longest_states.clear();
          for (std::size_t i = 0; i < stack.size(); ++i) {
            r.longest.push_back(entries[stack[i].call - 1].op);
            r.longest_states.push_back(i + 1 < stack.size() ? stack[i + 1].before : state);
          }
        }
        continue;
      }
      flip(e.op);  // seen before: nothing new down there
    }
    node = list.next[node];
  }
  r.outcome = finals.empty() ? Outcome::not_linearizable : Outcome::linearizable;
  r.final_states.assign(finals.begin(), finals.end());
  return r;
}

// The operations a linearization may need. Pending operations are what makes
// the search exponential (each may or may not have happened), so one that no
// linearization needs is left out: a pending write of a value that nothing
// observes (no read returns it, no cas expects it, and nothing needs the key
// merely present), a pending remove when nothing observes a missing key, a
// pending cas whose new value nothing observes. Why: in any linearization,
// the operation right after such a write accepts its value, so it sets the
// state without looking at it (a write or a remove), or there is none; drop
// the write and the same sequence is still valid. Only for yes/no answers:
// dropping changes the states a search can end in and the longest it meets.
std::vector<std::uint32_t> needed(std::span<const SearchOp> ops) {
  std::set<StateId> observed;
  bool presence_needed = false;
  for (const SearchOp& op : ops) {
    switch (op.step.kind) {
      case StepKind::read:
      case StepKind::cas: observed.insert(op.step.a); break;
      case StepKind::append_missed:
      case StepKind::remove_absent: observed.insert(States::kNull); break;
      case StepKind::append:
      case StepKind::remove_present: presence_needed = true; break;
      case StepKind::write:
      case StepKind::remove: break;
    }
  }
  std::vector<std::uint32_t> kept;
  for (std::uint32_t i = 0; i < ops.size(); ++i) {
    const Step& step = ops[i].step;
    const bool unobserved =
        (step.kind == StepKind::write && !presence_needed && !observed.contains(step.a)) ||
        (step.kind == StepKind::cas && !presence_needed && !observed.contains(step.b)) ||
        (step.kind == StepKind::remove && !observed.contains(States::kNull));
    if (!(ops[i].pending && unobserved)) kept.push_back(i);
  }
  return kept;
}

}  // namespace

SearchResult search(std::span<const SearchOp> ops, StateId initial, Stepper& stepper,
                    const SearchLimits& limits, SearchMode mode) {
  if (mode.all_final_states || mode.track_longest) {
    return search_all(ops, initial, stepper, limits, mode);
  }
  const std::vector<std::uint32_t> kept = needed(ops);
  if (kept.size() == ops.size()) return search_all(ops, initial, stepper, limits, mode);
  std::vector<SearchOp> fewer;
  for (const std::uint32_t i : kept) fewer.push_back(ops[i]);
  return search_all(fewer, initial, stepper, limits, mode);
}

}  // namespace doppel::properties::linearizability

// The WGL search (see search.h). The list of entries is held in index arrays
// (no pointers, so nothing depends on addresses); lifting and unlifting are
// the dancing-links moves, undone in reverse order. The depth-first search
// keeps its levels in a vector: no recursion.

#include "properties/linearizability/search.h"

#include <algorithm>
#include <limits>
#include <set>

namespace doppel::properties::linearizability {
namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The visited configurations: (linearized set, model state), where the set is
// split in the completed operations N and the pending ones U. A configuration
// is dominated by one seen before with the same N and state and a subset of
// its U: that one had every option this one has (and the pending operations
// this one used besides), so whatever this one can reach, it could. The table
// groups configurations by (N, state); each group keeps the U sets met.
class ConfigSet {
 public:
  enum class Insert : std::uint8_t { added, dominated, full };

  ConfigSet(std::vector<std::uint64_t> pending_mask, std::uint64_t bytes_max)
      : pending_(std::move(pending_mask)),
        words_(pending_.size()),
        bytes_max_(bytes_max),
        slots_(1024, 0) {}

  Insert insert(const std::vector<std::uint64_t>& bits, StateId state, std::uint64_t hash) {
    DOPPEL_ASSERT(bits.size() == words_);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask) {
      const std::size_t g = slots_[i] - 1;
      if (same_group(g, bits, state, hash)) return add_pending_set(g, bits);
    }
    if (over_budget(kGroupHeader + words_)) return Insert::full;
    groups_.push_back(hash);
    groups_.push_back(state);
    groups_.push_back(0);  // the group's first U set, + 1
    for (std::size_t w = 0; w < words_; ++w) groups_.push_back(bits[w] & ~pending_[w]);
    const std::size_t g = group_count_++;
    slots_[i] = static_cast<std::uint32_t>(g + 1);
    if (group_count_ * 2 > slots_.size()) grow();
    return add_pending_set(g, bits);
  }

 private:
  static constexpr std::size_t kGroupHeader = 3;  // hash, state, first U set
  static constexpr std::size_t kCountMax = 0xffff'fff0;

  std::uint64_t* group(std::size_t g) { return &groups_[g * (kGroupHeader + words_)]; }

  bool same_group(std::size_t g, const std::vector<std::uint64_t>& bits, StateId state,
                  std::uint64_t hash) {
    const std::uint64_t* c = group(g);
    if (c[0] != hash || c[1] != state) return false;
    for (std::size_t w = 0; w < words_; ++w) {
      if (c[kGroupHeader + w] != (bits[w] & ~pending_[w])) return false;
    }
    return true;
  }

  Insert add_pending_set(std::size_t g, const std::vector<std::uint64_t>& bits) {
    std::uint64_t* head = &group(g)[2];
    for (std::uint64_t u = *head; u != 0; u = sets_[(u - 1) * (1 + words_)]) {
      const std::uint64_t* seen = &sets_[(u - 1) * (1 + words_) + 1];
      bool subset = true;
      for (std::size_t w = 0; w < words_ && subset; ++w) subset = (seen[w] & ~bits[w]) == 0;
      if (subset) return Insert::dominated;
    }
    if (over_budget(1 + words_)) return Insert::full;
    const std::uint64_t next = *head;  // read before sets_ may move
    sets_.push_back(next);
    for (std::size_t w = 0; w < words_; ++w) sets_.push_back(bits[w] & pending_[w]);
    group(g)[2] = ++set_count_;
    return Insert::added;
  }

  bool over_budget(std::size_t more_words) const {
    const std::uint64_t bytes =
        (groups_.size() + sets_.size() + more_words) * 8 + slots_.size() * 4;
    return bytes > bytes_max_ || group_count_ >= kCountMax || set_count_ >= kCountMax;
  }

  void grow() {
    std::vector<std::uint32_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const std::uint32_t s : old) {
      if (s == 0) continue;
      std::size_t i = group(s - 1)[0] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<std::uint64_t> pending_;  // the bits of pending operations
  std::size_t words_;
  std::uint64_t bytes_max_;
  std::vector<std::uint32_t> slots_;   // group index + 1, or 0
  std::vector<std::uint64_t> groups_;  // [hash, state, first set + 1, N...] each
  std::vector<std::uint64_t> sets_;    // [next set + 1, U...] each
  std::size_t group_count_ = 0;
  std::uint64_t set_count_ = 0;
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

// One level of the depth-first search: a configuration and where its
// choices stand. Calls are tried in list order; or, deferring, completed
// operations' calls first and pending ones (set aside on the way) after, so
// that configurations that used fewer pending operations come first and
// dominate the rest. A call whose step has several successor states (an
// expiry that may or may not have come first...) is tried with each.
struct Level {
  StateId state;
  std::uint32_t node;              // the next list node to look at
  std::uint32_t chosen = 0;        // the call linearized to reach the level above
  std::size_t deferred_begin = 0;  // this level's pending calls in `deferred`
  std::size_t deferred_next = 0;
  bool deferring = false;  // the walk is over: trying the pending calls
  // Bounds on the instant of the next linearization point: the latest call
  // linearized so far, and the earliest return not yet linearized. Both are
  // functions of the linearized set, so the memo stays sound.
  std::int64_t time_lo = std::numeric_limits<std::int64_t>::min();
  std::int64_t time_hi = kNever;
  std::uint32_t expanding = 0;  // the call whose successors are being tried
  Successors successors;
  std::uint8_t next_successor = 0;
};

// The set of linearized operations, with the Zobrist hash of its completed
// part (pending operations are told apart by ConfigSet, not by the hash).
class Linearized {
 public:
  explicit Linearized(std::span<const SearchOp> ops)
      : ops_(ops), bits_((ops.size() + 63) / 64, 0), pending_(bits_.size(), 0) {
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].pending) pending_[i / 64] |= std::uint64_t{1} << (i % 64);
    }
  }
  void flip(std::uint32_t op) {
    bits_[op / 64] ^= std::uint64_t{1} << (op % 64);
    if (!ops_[op].pending) zobrist_ ^= mix64(op + 0x9e3779b97f4a7c15ULL);
  }
  std::uint64_t hash(StateId state) const {
    return mix64(zobrist_ ^ (state * 0x9e3779b97f4a7c15ULL));
  }
  const std::vector<std::uint64_t>& bits() const { return bits_; }
  const std::vector<std::uint64_t>& pending() const { return pending_; }

 private:
  std::span<const SearchOp> ops_;
  std::vector<std::uint64_t> bits_, pending_;
  std::uint64_t zobrist_ = 0;
};

void record_longest(const std::vector<Level>& levels, const std::vector<Entry>& entries,
                    SearchResult& r) {
  r.longest.clear();
  r.longest_states.clear();
  for (std::size_t i = 0; i + 1 < levels.size(); ++i) {
    r.longest.push_back(entries[levels[i].chosen - 1].op);
    r.longest_states.push_back(levels[i + 1].state);
  }
}

SearchResult search_all(std::span<const SearchOp> ops, StateId initial, Stepper& stepper,
                        const SearchLimits& limits, SearchMode mode, bool defer_pending) {
  DOPPEL_ASSERT(ops.size() < (std::size_t{1} << 31));
  const std::vector<Entry> entries = order_entries(ops);
  EntryList list(entries, ops.size());
  const auto end = static_cast<std::uint32_t>(entries.size() + 1);
  Linearized linearized(ops);
  ConfigSet memo(linearized.pending(), limits.memo_bytes_max);
  SearchResult r;
  if (memo.insert(linearized.bits(), initial, linearized.hash(initial)) ==
      ConfigSet::Insert::full) {
    return r;
  }
  // The earliest return still in the list (kNever when none).
  const auto first_return = [&] {
    std::uint32_t node = list.next[0];
    while (node != end && entries[node - 1].call) node = list.next[node];
    return node == end ? kNever : entries[node - 1].time_ns;
  };
  std::vector<Level> levels{Level{initial, list.next[0]}};
  levels.back().time_hi = first_return();
  std::vector<std::uint32_t> deferred;
  std::set<StateId> finals;
  while (!levels.empty()) {
    if (++r.steps > limits.steps_max) {
      r.outcome = Outcome::limit;
      return r;
    }
    Level& at = levels.back();
    std::uint32_t candidate = 0;
    const bool same_call = at.next_successor < at.successors.count;
    if (same_call) {
      candidate = at.expanding;  // the same call, into its next successor state
    } else if (!at.deferring) {
      const std::uint32_t node = at.node;
      if (node == end || !entries[node - 1].call) {
        // The end: every completed operation is linearized. A return: its
        // operation should have been by now. Either way the walk is over.
        if (node == end) {
          finals.insert(at.state);
          if (!mode.all_final_states) break;
        }
        at.deferring = true;
        at.deferred_next = at.deferred_begin;
        continue;
      }
      at.node = list.next[node];
      if (defer_pending && ops[entries[node - 1].op].pending) {
        deferred.push_back(node);
        continue;
      }
      candidate = node;
    } else if (at.deferred_next < deferred.size()) {
      candidate = deferred[at.deferred_next++];
    } else {  // every choice here is tried: back to the level below
      deferred.resize(at.deferred_begin);
      levels.pop_back();
      if (levels.empty()) break;
      list.unlift(levels.back().chosen);
      linearized.flip(entries[levels.back().chosen - 1].op);
      continue;
    }
    const std::uint32_t op = entries[candidate - 1].op;
    const std::int64_t time_lo = std::max(at.time_lo, ops[op].call_ns);
    if (!same_call) {
      at.expanding = candidate;
      at.successors =
          stepper.apply(at.state, ops[op].step, StepTime{ops[op].call_ns, time_lo, at.time_hi});
      at.next_successor = 0;
      if (at.successors.count == 0) continue;
    }
    const StateId after = at.successors.ids[at.next_successor++];
    linearized.flip(op);
    const auto added = memo.insert(linearized.bits(), after, linearized.hash(after));
    if (added == ConfigSet::Insert::full) {
      r.outcome = Outcome::limit;
      return r;
    }
    if (added == ConfigSet::Insert::dominated) {
      linearized.flip(op);
      continue;
    }
    at.chosen = candidate;
    list.lift(candidate);
    Level next{after, list.next[0], 0, deferred.size()};
    next.time_lo = time_lo;
    next.time_hi = first_return();
    levels.push_back(next);
    if (mode.track_longest && levels.size() - 1 > r.longest.size()) {
      record_longest(levels, entries, r);
    }
  }
  r.outcome = finals.empty() ? Outcome::not_linearizable : Outcome::linearizable;
  r.final_states.assign(finals.begin(), finals.end());
  return r;
}

}  // namespace

// The operations a linearization may need. Pending operations are what makes
// the search exponential (each may or may not have happened), so one that no
// linearization needs is left out: a pending write of a value that nothing
// observes (no read returns it, no cas expects it, nothing needs the key
// merely present, and, if it may be refused as too large, which removes the
// key, nothing observes a missing key), a pending remove when nothing observes a missing key, a
// pending cas whose new value nothing observes, a pending mg that is a plain
// read (no touch, vivify or recache, and no stale mark to win on). Why: in any linearization,
// the operation right after such a write accepts its value, so it sets the
// state without looking at it (a write or a remove), or there is none; drop
// the write and the same sequence is still valid (and every later step is
// linearized no later than before, which the kv model's time rules only
// make easier). Only for yes/no answers: dropping changes the states a
// search can end in and the longest it meets.
//
// kv: only where every step of the key is a plain get, a set that keeps no
// expiry, a delete, an eviction or a restart; any other verb (or an expiry,
// a delayed flush, a shown unique or flags) may look at what the write left
// in more ways than this argument covers, and then nothing is left out.
std::vector<std::uint32_t> needed(std::span<const SearchOp> ops, const Stepper& stepper) {
  std::set<ValueId> observed;
  bool presence_needed = false, absence_observed = false, simple = true;
  // Whether a stale mark can arise (ms I, md I) or be seen (mg X, Z, W): if not, a pending mg
  // that neither touches, vivifies nor may win by R is a plain read.
  bool marks_matter = false;
  for (const SearchOp& op : ops) {
    const Step& step = op.step;
    marks_matter = marks_matter || step.invalidates || step.stale || step.token || step.won;
    switch (step.kind) {
      case StepKind::read:
      case StepKind::cas:
        observed.insert(step.a);
        break;
      case StepKind::write:
        break;
      case StepKind::kv_read:
        simple = simple && !step.touches;
        observed.insert(step.a);  // 0 for a miss
        absence_observed = absence_observed || step.outcome == KvOutcome::miss;
        break;
      case StepKind::kv_store:
        simple = simple && step.mode == KvMode::set && step.expiry == KvExpiry::never &&
                 (step.outcome == KvOutcome::stored || step.outcome == KvOutcome::unknown);
        break;
      case StepKind::kv_delete:
        presence_needed = presence_needed || step.outcome == KvOutcome::deleted;
        absence_observed = absence_observed || step.outcome == KvOutcome::not_found;
        break;
      case StepKind::kv_flush:
        simple = simple && step.expiry != KvExpiry::relative;
        break;
      case StepKind::kv_evict:
      case StepKind::kv_restart:
        break;
      default:
        simple = false;
        break;
    }
  }
  std::vector<std::uint32_t> kept;
  for (std::uint32_t i = 0; i < ops.size(); ++i) {
    const Step& step = ops[i].step;
    bool unobserved = false;
    switch (step.kind) {
      case StepKind::write:
        unobserved = !presence_needed && !observed.contains(step.a);
        break;
      case StepKind::cas:
        unobserved = !presence_needed && !observed.contains(step.b);
        break;
      case StepKind::kv_store:
        // A set refused as too large removes the key (memcached): then a later miss or
        // NOT_FOUND observes it.
        unobserved = simple && !presence_needed && !observed.contains(step.a) &&
                     !(absence_observed && stepper.may_refuse_as_too_large(step));
        break;
      case StepKind::kv_delete:
        unobserved = simple && !absence_observed;
        break;
      case StepKind::kv_read:
        unobserved =
            step.meta && !step.touches && step.vivify_s == 0 && !step.recache && !marks_matter;
        break;
      default:
        break;
    }
    if (!(ops[i].pending && unobserved)) kept.push_back(i);
  }
  return kept;
}

SearchResult search(std::span<const SearchOp> ops, StateId initial, Stepper& stepper,
                    const SearchLimits& limits, SearchMode mode) {
  if (mode.all_final_states || mode.track_longest) {
    return search_all(ops, initial, stepper, limits, mode, false);
  }
  std::vector<SearchOp> fewer;
  for (const std::uint32_t i : needed(ops, stepper)) fewer.push_back(ops[i]);
  // In list order a linearization, when there is one, is usually met soon
  // (an info operation most likely took effect soon after its call); but
  // proving there is none goes better with pending operations tried last. So
  // half the steps one way, then the rest the other.
  SearchLimits half = limits;
  half.steps_max = limits.steps_max / 2;
  SearchResult first = search_all(fewer, initial, stepper, half, mode, false);
  if (first.outcome != Outcome::limit) return first;
  half.steps_max = limits.steps_max - first.steps + 1;
  SearchResult second = search_all(fewer, initial, stepper, half, mode, true);
  second.steps += first.steps - 1;
  return second;
}

}  // namespace doppel::properties::linearizability

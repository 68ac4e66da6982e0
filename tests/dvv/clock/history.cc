#include "tests/dvv/clock/history.h"

#include <utility>

#include "runtime/assert.h"
#include "runtime/random.h"

namespace doppel::dvv::testing {

std::ostream& operator<<(std::ostream& os, const Op& op) {
  if (op.kind == Op::Kind::sync) {
    return os << "sync(r" << op.replica << " <- r" << op.source << ")";
  }
  os << "put(at r" << op.replica << ", context ";
  if (op.source < 0) {
    os << "none";
  } else {
    os << "from r" << op.source;
  }
  return os << ", fanout " << op.fanout << ")";
}

namespace {

Op make_op(int kind, int replica, int source, unsigned fanout) {
  Op op;
  op.kind = kind < 2 ? Op::Kind::put : Op::Kind::sync;
  op.replica = replica;
  op.source = source;
  op.fanout = fanout;
  if (op.kind == Op::Kind::sync && op.source < 0) op.source = (replica + 1) % kReplicas;
  return op;
}

}  // namespace

rc::Gen<Op> gen_op() {
  return rc::gen::apply(make_op, rc::gen::inRange(0, 3), rc::gen::inRange(0, kReplicas),
                        rc::gen::inRange(-1, kReplicas), rc::gen::inRange(0u, 1u << kReplicas));
}

std::vector<Op> random_ops(std::uint64_t seed, int count) {
  Prng rng(seed);
  std::vector<Op> ops;
  for (int i = 0; i < count; ++i) {
    const auto kind = static_cast<int>(rng.below(3));
    const auto replica = static_cast<int>(rng.below(kReplicas));
    const auto source = static_cast<int>(rng.between(-1, kReplicas - 1));
    const auto fanout = static_cast<unsigned>(rng.below(1u << kReplicas));
    ops.push_back(make_op(kind, replica, source, fanout));
  }
  return ops;
}

int CausalOracle::write(int coordinator, int read_from) {
  // The writer saw the siblings of the replica it read: the writes live there.
  std::vector<properties::dvv::ValueId> observed;
  if (read_from >= 0) {
    for (const int v : live_writes(read_from)) {
      observed.push_back(static_cast<properties::dvv::ValueId>(v) + 1);
    }
  }
  const auto id = order_.write(std::move(observed));
  const int w = static_cast<int>(id - 1);
  std::set<int>& at = known_[static_cast<std::size_t>(coordinator)];
  if (read_from >= 0) {
    const std::set<int>& seen = known(read_from);
    at.insert(seen.begin(), seen.end());
  }
  at.insert(w);
  return w;
}

void CausalOracle::deliver(int to, int from) {
  if (to == from) return;
  const std::set<int>& source = known(from);
  known_[static_cast<std::size_t>(to)].insert(source.begin(), source.end());
}

bool CausalOracle::in_past(int a, int b) const {
  const auto verdict =
      order_.in_past(static_cast<std::uint64_t>(a) + 1, static_cast<std::uint64_t>(b) + 1);
  DOPPEL_ASSERT_MSG(verdict.has_value(), "the causal history's search ran out of visits");
  return *verdict;
}

std::set<int> CausalOracle::live_writes(int replica) const {
  const std::set<int>& k = known(replica);
  std::set<int> out;
  for (const int v : k) {
    bool seen_by_another = false;
    for (const int w : k) {
      if (in_past(v, w)) {
        seen_by_another = true;
        break;
      }
    }
    if (!seen_by_another) out.insert(v);
  }
  return out;
}

std::set<std::string> CausalOracle::live(int replica) const {
  std::set<std::string> out;
  for (const int v : live_writes(replica)) out.insert(value_name(v));
  return out;
}

std::string value_name(int write) {
  return "v" + std::to_string(write);
}

History::History(ClockOptions options, std::int64_t step_s)
    : options_(options), step_s_(step_s), oracle_(kReplicas) {
  for (int i = 0; i < kReplicas; ++i) {
    replicas_.push_back(Object::empty(options.kind));
    seen_.push_back(replicas_.back());
  }
}

void History::apply(const Op& op) {
  DOPPEL_ASSERT(op.replica >= 0 && op.replica < kReplicas);
  DOPPEL_ASSERT(op.source >= -1 && op.source < kReplicas);
  now_s_ += step_s_;
  auto& at = replicas_[static_cast<std::size_t>(op.replica)];
  if (op.kind == Op::Kind::sync) {
    if (op.source < 0) return;
    at = sync(at, replica(op.source));
    oracle_.deliver(op.replica, op.source);
    seen_.push_back(at);
    return;
  }
  Write write;
  if (op.source >= 0) write.context = replica(op.source).context();
  const int w = oracle_.write(op.replica, op.source);
  write.value = value_name(w);
  write.coordinator = "r" + std::to_string(op.replica);
  write.client_id = "c" + std::to_string(w);
  write.timestamp_s = now_s_;
  coordinators_.insert(write.coordinator);
  at = put(at, write, options_);
  seen_.push_back(at);
  for (int i = 0; i < kReplicas; ++i) {
    if (i == op.replica || (op.fanout & (1u << i)) == 0) continue;
    auto& other = replicas_[static_cast<std::size_t>(i)];
    other = prune(sync(other, at), now_s_, options_);
    oracle_.deliver(i, op.replica);
    seen_.push_back(other);
  }
}

std::set<std::string> History::siblings(int i) const {
  const std::vector<Value> values = replica(i).siblings();
  return std::set<std::string>(values.begin(), values.end());
}

}  // namespace doppel::dvv::testing

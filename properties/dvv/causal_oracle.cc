#include "properties/dvv/causal_oracle.h"

#include "runtime/assert.h"

namespace doppel::properties::dvv {

ValueId CausalOracle::id_of(const std::string& value) const {
  const auto it = ids_.find(value);
  return it == ids_.end() ? 0 : it->second;
}

void CausalOracle::wrote(const std::string& key, const std::string& value,
                         const std::vector<std::string>& observed, bool tombstone) {
  DOPPEL_ASSERT_MSG(ids_.size() < kValuesMax, "too many values for the oracle");
  DOPPEL_ASSERT_MSG(ids_.count(value) == 0, "a value was written twice: values must be unique");
  std::vector<ValueId> seen;
  for (const std::string& s : observed) seen.push_back(id_of(s));
  ids_[value] = history_.write(std::move(seen));
  (tombstone ? tombstones_ : written_)[key].insert(value);
}

void CausalOracle::blind_delete(const std::string& key, bool answered) {
  blindly_deleted_up_to_[key] = answered ? history_.size() : ~ValueId{0};
}

void CausalOracle::acked(const std::string& key, const std::string& value) {
  DOPPEL_ASSERT_MSG(written_[key].count(value) != 0 || tombstones_[key].count(value) != 0,
                    "an acknowledged value never written");
  acked_[key].insert(value);
}

void CausalOracle::lww_exposed(const std::string& key, const std::string& value, bool ended,
                               bool whole) {
  DOPPEL_ASSERT_MSG(written(key, value), "an exposed value never written");
  lww_exposed_[key][value] = ended ? history_.size() : ~ValueId{0};
  if (whole) exposed_whole_[key].insert(value);
}

bool CausalOracle::written(const std::string& key, const std::string& value) const {
  for (const auto* m : {&written_, &tombstones_}) {
    auto it = m->find(key);
    if (it != m->end() && it->second.count(value) != 0) return true;
  }
  return false;
}

bool CausalOracle::concurrent(const std::string& a, const std::string& b) const {
  return a != b && !superseded_by(a, b) && !superseded_by(b, a);
}

bool CausalOracle::lww_may_drop(const std::string& key, const std::string& a) const {
  const auto exposed = lww_exposed_.find(key);
  if (exposed == lww_exposed_.end()) return false;
  // Dropped where an exposed write w was coordinated, `a` already there.
  for (const auto& [w, begun_before_end] : exposed->second) {
    if (id_of(a) <= begun_before_end && concurrent(a, w)) return true;
  }
  // Dropped where `a` itself was coordinated, exposed, a concurrent value w already there.
  const auto self = exposed->second.find(a);
  if (self == exposed->second.end()) return false;
  for (const auto* m : {&written_, &tombstones_}) {
    auto it = m->find(key);
    if (it == m->end()) continue;
    for (const std::string& w : it->second) {
      if (id_of(w) <= self->second && concurrent(a, w)) return true;
    }
  }
  return false;
}

bool CausalOracle::superseded_by(const std::string& a, const std::string& b) const {
  const std::optional<bool> seen = history_.in_past(id_of(a), id_of(b));
  // The search's bound is far above what a scenario writes; a run that outgrows it has
  // outgrown the oracle.
  DOPPEL_ASSERT_MSG(seen.has_value(), "the causal history is too large to search");
  return *seen;
}

std::size_t CausalOracle::false_conflicts(const std::vector<std::string>& siblings) const {
  std::size_t n = 0;
  for (const std::string& a : siblings) {
    for (const std::string& b : siblings) {
      if (&a != &b && superseded_by(a, b)) {
        ++n;
        break;
      }
    }
  }
  return n;
}

CausalOracle::Verdict CausalOracle::judge(const std::string& key,
                                          const std::vector<std::string>& siblings) const {
  Verdict v;
  const auto tombs = tombstones_.find(key);
  const auto blind = blindly_deleted_up_to_.find(key);
  auto deleted = [&](const std::string& a) {
    if (blind != blindly_deleted_up_to_.end() && id_of(a) <= blind->second) return true;
    if (tombs == tombstones_.end()) return false;
    for (const std::string& t : tombs->second) {
      if (superseded_by(a, t)) return true;
    }
    return false;
  };
  if (auto acked = acked_.find(key); acked != acked_.end()) {
    for (const std::string& a : acked->second) {
      if (tombs != tombstones_.end() && tombs->second.count(a) != 0) {
        // A delete the vv baseline may have dropped whole deleted nothing.
        if (const auto whole = exposed_whole_.find(key);
            whole != exposed_whole_.end() && whole->second.count(a) != 0 && lww_may_drop(key, a)) {
          v.lww_dropped.push_back(a);
          continue;
        }
        // An acknowledged delete: nothing it superseded may be present -- short of a value
        // written while the vv baseline applied, which a switch back to DVVSet gives a dot made
        // from the replica's clock (clock_conversion.h): a replica whose clock differs from the
        // deleter's makes another dot, which the tombstone does not cover.
        const auto whole = exposed_whole_.find(key);
        for (const std::string& s : siblings) {
          if (!superseded_by(s, a)) continue;
          const bool converted = whole != exposed_whole_.end() && whole->second.count(s) != 0;
          (converted ? v.lww_dropped : v.resurrected).push_back(s);
        }
        continue;
      }
      bool kept = deleted(a);
      for (const std::string& s : siblings) {
        if (kept) break;
        kept = s == a || superseded_by(a, s);
      }
      if (!kept) (lww_may_drop(key, a) ? v.lww_dropped : v.lost).push_back(a);
    }
  }
  for (const std::string& a : siblings) {
    for (const std::string& b : siblings) {
      if (&a != &b && superseded_by(a, b)) {
        v.false_siblings.push_back(a);
        break;
      }
    }
  }
  const auto written = written_.find(key);
  for (const std::string& s : siblings) {
    if (written == written_.end() || written->second.count(s) == 0) v.unwritten.push_back(s);
  }
  return v;
}

std::vector<std::string> CausalOracle::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : written_) out.push_back(k);
  return out;
}

}  // namespace doppel::properties::dvv

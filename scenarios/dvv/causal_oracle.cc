#include "scenarios/dvv/causal_oracle.h"

#include "runtime/assert.h"

namespace doppel::scenarios::dvv {

void CausalOracle::wrote(const std::string& key, const std::string& value, const std::vector<std::string>& observed) {
  DOPPEL_ASSERT_MSG(history_.size() < kValuesMax, "too many values for the oracle");
  DOPPEL_ASSERT_MSG(history_.count(value) == 0, "a value was written twice: values must be unique");
  std::set<std::string>& h = history_[value];
  for (const std::string& s : observed) {
    h.insert(s);
    auto it = history_.find(s);
    if (it != history_.end()) h.insert(it->second.begin(), it->second.end());
  }
  written_[key].insert(value);
  ++writes_;
}

void CausalOracle::acked(const std::string& key, const std::string& value) { acked_[key].insert(value); }

bool CausalOracle::superseded_by(const std::string& a, const std::string& b) const {
  auto it = history_.find(b);
  return it != history_.end() && it->second.count(a) != 0;
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

CausalOracle::Verdict CausalOracle::judge(const std::string& key, const std::vector<std::string>& siblings) const {
  Verdict v;
  auto acked = acked_.find(key);
  if (acked != acked_.end()) {
    for (const std::string& a : acked->second) {
      bool kept = false;
      for (const std::string& s : siblings) {
        if (s == a || superseded_by(a, s)) {
          kept = true;
          break;
        }
      }
      if (!kept) v.lost.push_back(a);
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
  return v;
}

std::vector<std::string> CausalOracle::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : written_) out.push_back(k);
  return out;
}

}  // namespace doppel::scenarios::dvv

#pragma once
// The exact causal history of every value written, against which the store's
// answers are judged. A client that GETs siblings S and then PUTs v with the
// GET's context has made v supersede every value of S (and, transitively,
// what they superseded); a blind PUT supersedes nothing. So:
//   - a value a is causally overwritten iff some stored value's history
//     holds a;
//   - a sibling kept beside another sibling whose history holds it is a
//     false conflict (a clock that cannot tell them apart);
//   - an acknowledged value that is neither among the final siblings nor in
//     the history of one of them was lost.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace doppel::scenarios::dvv {

class CausalOracle {
 public:
  static constexpr std::size_t kValuesMax = 1u << 20;

  void wrote(const std::string& key, const std::string& value, const std::vector<std::string>& observed);
  void acked(const std::string& key, const std::string& value);
  // a is in b's causal history: b was written knowing a.
  bool superseded_by(const std::string& a, const std::string& b) const;

  struct Verdict {
    std::vector<std::string> lost;            // acknowledged, neither present nor superseded
    std::vector<std::string> false_siblings;  // present beside a value that superseded them
  };
  Verdict judge(const std::string& key, const std::vector<std::string>& siblings) const;
  // Siblings of one answer that another of them superseded.
  std::size_t false_conflicts(const std::vector<std::string>& siblings) const;

  std::uint64_t writes() const { return writes_; }
  std::vector<std::string> keys() const;

 private:
  std::map<std::string, std::set<std::string>> history_;  // value -> what it superseded
  std::map<std::string, std::set<std::string>> acked_;    // key -> acknowledged values
  std::map<std::string, std::set<std::string>> written_;  // key -> every value written
  std::uint64_t writes_ = 0;
};

}  // namespace doppel::scenarios::dvv

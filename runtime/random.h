#pragma once
// Randomness of our own. std:: engines are fine but std:: distributions differ
// between standard libraries, so a seed would not mean the same run
// everywhere; everything here is specified down to the bit.

#include <cstdint>
#include <vector>

namespace doppel {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Prng {
 public:
  explicit Prng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed);
  std::uint64_t next();  // 64 uniform bits

  // An independent stream: the same parent and salt always give the same child.
  Prng fork(std::uint64_t salt);

  // Uniform integer in [0, bound), bound > 0, without modulo bias (Lemire).
  std::uint64_t below(std::uint64_t bound);
  // Uniform integer in [lo, hi], inclusive.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // True with probability numerator / denominator.
  bool chance(std::uint64_t numerator, std::uint64_t denominator);
  // Uniform double in [0, 1) with 53 random bits.
  double unit();

 private:
  std::uint64_t s_[4];
};

// Exponential with the given mean (inverse transform).
double exponential(Prng& rng, double mean);

// Pareto type I: scale x_m > 0, shape alpha > 0.
double pareto(Prng& rng, double scale, double shape);

// Zipf over [0, n) with exponent s (s > 0, s != 1 handled and s == 1 too),
// item 0 the most popular. Rejection-inversion (Hörmann & Derflinger 1996):
// O(1) per draw, no table.
class Zipf {
 public:
  Zipf(std::uint64_t n, double s);
  std::uint64_t operator()(Prng& rng) const;
  std::uint64_t size() const { return n_; }

 private:
  double h(double x) const;
  double h_inverse(double x) const;
  std::uint64_t n_;
  double s_;
  double h_x1_, h_n_, threshold_;
};

// "80/20": a fraction `hot_fraction` of the keys receives `hot_share` of the
// accesses, as the DVV paper's Pareto workload.
class HotSet {
 public:
  HotSet(std::uint64_t n, double hot_fraction, double hot_share);
  std::uint64_t operator()(Prng& rng) const;

 private:
  std::uint64_t n_, hot_n_;
  double hot_share_;
};

}  // namespace doppel

#include "runtime/random.h"

#include <cmath>

#include "runtime/assert.h"

namespace doppel {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

__extension__ using u128 = unsigned __int128;

}  // namespace

void Prng::reseed(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

std::uint64_t Prng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Prng Prng::fork(std::uint64_t salt) {
  std::uint64_t x = next() ^ (salt * 0xd1342543de82ef95ULL);
  return Prng(splitmix64(x));
}

std::uint64_t Prng::below(std::uint64_t bound) {
  DOPPEL_ASSERT(bound > 0);
  u128 m = static_cast<u128>(next()) * bound;
  std::uint64_t low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<u128>(next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t Prng::between(std::int64_t lo, std::int64_t hi) {
  DOPPEL_ASSERT(lo <= hi);
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(next());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span + 1));
}

bool Prng::chance(std::uint64_t numerator, std::uint64_t denominator) {
  DOPPEL_ASSERT(denominator > 0);
  DOPPEL_ASSERT(numerator <= denominator);
  return below(denominator) < numerator;
}

double Prng::unit() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double exponential(Prng& rng, double mean) {
  DOPPEL_ASSERT(mean > 0);
  return -mean * std::log1p(-rng.unit());  // unit() < 1, so the log is finite
}

double pareto(Prng& rng, double scale, double shape) {
  DOPPEL_ASSERT(scale > 0 && shape > 0);
  return scale / std::pow(1.0 - rng.unit(), 1.0 / shape);
}

Zipf::Zipf(std::uint64_t n, double s) : n_(n), s_(s) {
  DOPPEL_ASSERT(n > 0);
  DOPPEL_ASSERT(s > 0);
  h_x1_ = h(1.5) - 1.0;
  h_n_ = h(static_cast<double>(n) + 0.5);
  threshold_ = 2.0 - h_inverse(h(2.5) - std::exp(-s * std::log(2.0)));
}

// H(x) = integral of x^-s: (x^(1-s) - 1) / (1 - s), or log(x) when s == 1.
double Zipf::h(double x) const {
  const double log_x = std::log(x);
  const double t = (1.0 - s_) * log_x;
  if (std::fabs(t) < 1e-8) return log_x * (1.0 + t / 2.0);
  return std::expm1(t) / (1.0 - s_);
}

double Zipf::h_inverse(double x) const {
  double t = x * (1.0 - s_);
  if (t < -1.0) t = -1.0;
  if (std::fabs(t) < 1e-8) return std::exp(x * (1.0 - t / 2.0));
  return std::exp(std::log1p(t) / (1.0 - s_));
}

std::uint64_t Zipf::operator()(Prng& rng) const {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const double u = h_n_ + rng.unit() * (h_x1_ - h_n_);
    const double x = h_inverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0) k = 1.0;
    if (k > static_cast<double>(n_)) k = static_cast<double>(n_);
    if (k - x <= threshold_ || u >= h(k + 0.5) - std::exp(-s_ * std::log(k))) {
      return static_cast<std::uint64_t>(k) - 1;
    }
  }
  return 0;  // unreachable in practice: acceptance probability is high
}

HotSet::HotSet(std::uint64_t n, double hot_fraction, double hot_share)
    : n_(n), hot_share_(hot_share) {
  DOPPEL_ASSERT(n > 0);
  DOPPEL_ASSERT(hot_fraction > 0 && hot_fraction < 1);
  hot_n_ = static_cast<std::uint64_t>(static_cast<double>(n) * hot_fraction);
  if (hot_n_ == 0) hot_n_ = 1;
}

std::uint64_t HotSet::operator()(Prng& rng) const {
  if (hot_n_ >= n_ || rng.unit() < hot_share_) return rng.below(hot_n_);
  return hot_n_ + rng.below(n_ - hot_n_);
}

}  // namespace doppel

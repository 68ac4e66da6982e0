#include "properties/dedup/image_series.h"

#include <catch2/catch.hpp>
#include <set>

using doppel::properties::dedup::ImageSeries;
using doppel::properties::dedup::ImageSeriesOptions;

namespace {

ImageSeriesOptions small(std::uint64_t seed) {
  ImageSeriesOptions o;
  o.seed = seed;
  o.images = 3;
  o.versions = 4;
  o.image_bytes = 4u << 20;
  return o;
}

std::string whole(const ImageSeries& s, std::uint32_t image, std::uint32_t version) {
  std::string out;
  s.write(
      image, version,
      [&](std::string_view chunk) {
        out.append(chunk);
        return true;
      },
      64u << 10);
  return out;
}

// Share of blocks of `b` whose content is not at the same place in `a`.
double changed_share(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  std::size_t changed = 0;
  for (std::size_t i = 0; i < b.size(); ++i) changed += (i >= a.size() || a[i] != b[i]) ? 1 : 0;
  return static_cast<double>(changed) / static_cast<double>(b.size());
}

}  // namespace

TEST_CASE("image series: the same options give the same bytes, another seed other bytes") {
  const ImageSeries a(small(7)), b(small(7)), c(small(8));
  CHECK(whole(a, 1, 3) == whole(b, 1, 3));
  CHECK(whole(a, 1, 3) != whole(c, 1, 3));
  CHECK(a.total_bytes() == b.total_bytes());
}

TEST_CASE("image series: read() at any offset agrees with write()") {
  const ImageSeries s(small(3));
  const std::string all = whole(s, 2, 4);
  REQUIRE(all.size() == s.bytes(2, 4));
  for (std::uint64_t offset :
       std::initializer_list<std::uint64_t>{0, 1, 4095, 4096, 123457, all.size() - 10}) {
    std::string piece(9000, 'x');
    const std::size_t n = s.read(2, 4, offset, piece);
    CHECK(n == std::min<std::size_t>(9000, all.size() - offset));
    CHECK(piece.substr(0, n) == all.substr(offset, n));
  }
  std::string past(10, 'x');
  CHECK(s.read(2, 4, all.size(), past) == 0);
}

TEST_CASE("image series: clones share the master, versions change by the configured shares") {
  const ImageSeries s(small(11));
  const auto& v1 = s.blocks(0, 1);
  const auto& other = s.blocks(1, 1);
  // Two clones differ by about two personalisations (2 % each) of the master.
  const double clone_diff = changed_share(v1, other);
  CHECK(clone_diff > 0.0);
  CHECK(clone_diff < 0.1);
  // A week: 2 % edits, 1 % moved (moved blocks change at source and destination), 1 % appended.
  const auto& v2 = s.blocks(0, 2);
  CHECK(v2.size() == v1.size() + v1.size() * 10 / 1000);
  const double week = changed_share(v1, v2);
  CHECK(week > 0.02);
  CHECK(week < 0.1);
  // Zero blocks exist (never stored by the store) and many blocks repeat across the series.
  std::size_t zeros = 0;
  for (std::uint64_t id : v1) zeros += id == 0 ? 1 : 0;
  CHECK(zeros > v1.size() / 10);
  std::set<std::uint64_t> distinct;
  for (std::uint32_t i = 0; i < 3; ++i) {
    for (std::uint32_t v = 1; v <= 4; ++v)
      distinct.insert(s.blocks(i, v).begin(), s.blocks(i, v).end());
  }
  CHECK(distinct.size() < v1.size() * 2);
}

TEST_CASE("image series: bad options are refused, naming the option") {
  ImageSeriesOptions o = small(1);
  o.image_bytes = 5000;
  CHECK(check_image_series_options(o).error().message().find("image size") != std::string::npos);
  o = small(1);
  o.images = 0;
  CHECK(check_image_series_options(o).error().message().find("images") != std::string::npos);
  o = small(1);
  o.edit_permille = 1001;
  CHECK(!check_image_series_options(o).ok());
}

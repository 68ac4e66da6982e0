// The image cutter: segments and blocks whatever the input chunking, null
// blocks flagged, a short last segment; the manifest codec and its checks.

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include "components/dedup/client/image_cutter.h"
#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

// Cuts `image` feeding it in pieces of the given sizes (cycled).
std::vector<CutSegment> cut_in_pieces(std::string_view image, const std::vector<std::size_t>& sizes,
                                      const CutterOptions& options, VersionManifest& manifest) {
  ImageCutter cutter(options);
  std::vector<CutSegment> out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < image.size(); ++i) {
    const std::size_t n =
        std::min(std::max<std::size_t>(1, sizes[i % sizes.size()]), image.size() - at);
    REQUIRE(cutter.feed(image.substr(at, n), out).ok());
    at += n;
  }
  if (auto last = cutter.finish()) out.push_back(std::move(*last));
  manifest = cutter.manifest();
  return out;
}

}  // namespace

TEST_CASE("cutter: an image becomes full segments and a short last one, 4 KiB blocks", "[unit]") {
  Prng rng(1);
  const std::string image = random_bytes(rng, 3 * kSmallSegmentBytes + 5000);
  VersionManifest m;
  const std::vector<CutSegment> segs = cut_image(image, small_cutter(), m);
  REQUIRE(segs.size() == 4);
  REQUIRE(m.image_bytes == image.size());
  REQUIRE(m.segments.size() == 4);
  for (std::size_t s = 0; s < 3; ++s) {
    REQUIRE(segs[s].bytes.size() == kSmallSegmentBytes);
    REQUIRE(segs[s].manifest.blocks.size() == kSmallSegmentBytes / kBlockBytes);
    std::vector<Fingerprint> block_fps;
    for (std::size_t b = 0; b < kSmallSegmentBytes / kBlockBytes; ++b) {
      block_fps.push_back(
          Hasher::of(HashKind::sha256, segs[s].bytes.substr(b * kBlockBytes, kBlockBytes)));
      REQUIRE(segs[s].manifest.blocks[b].fp == block_fps.back());
    }
    REQUIRE(segs[s].manifest.fp == segment_fingerprint_of(HashKind::sha256, block_fps));
  }
  REQUIRE(segs[3].bytes.size() == 5000);
  REQUIRE(segs[3].manifest.blocks.size() == 2);
  REQUIRE(segs[3].manifest.blocks[1].fp ==
          Hasher::of(HashKind::sha256, std::string_view(image).substr(image.size() - 904)));
  REQUIRE(check_manifest(m, ManifestLimits{}).ok());
}

TEST_CASE("cutter: null blocks are flagged, a short null block too", "[unit]") {
  std::string image(3 * kBlockBytes + 100, '\0');
  image[kBlockBytes + 7] = 1;
  VersionManifest m;
  const std::vector<CutSegment> segs = cut_image(image, small_cutter(), m);
  REQUIRE(segs.size() == 1);
  const auto& blocks = segs[0].manifest.blocks;
  REQUIRE(blocks.size() == 4);
  REQUIRE(blocks[0].null);
  REQUIRE_FALSE(blocks[1].null);
  REQUIRE(blocks[2].null);
  REQUIRE(blocks[3].null);
  REQUIRE(blocks[3].fp == null_fingerprint(HashKind::sha256, 100));
  REQUIRE_FALSE(segs[0].manifest.all_null());
  VersionManifest zeros;
  REQUIRE(cut_image(std::string(kSmallSegmentBytes, '\0'), small_cutter(), zeros)[0]
              .manifest.all_null());
}

TEST_CASE("cutter: an empty image has no segments", "[unit]") {
  VersionManifest m;
  REQUIRE(cut_image("", small_cutter(), m).empty());
  REQUIRE(m.image_bytes == 0);
  REQUIRE(check_manifest(m, ManifestLimits{}).ok());
}

TEST_CASE("cutter: any input chunking gives the same segments and fingerprints", "[prop]") {
  rc::prop("chunking does not matter", [](const std::vector<std::size_t>& raw_sizes) {
    const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
    Prng rng(seed);
    const std::size_t blocks = *rc::gen::inRange<std::size_t>(0, 40);
    const std::string image = make_image(rng, blocks, *rc::gen::inRange<std::size_t>(0, 5000));
    std::vector<std::size_t> sizes;
    for (const std::size_t s : raw_sizes) sizes.push_back(1 + s % 20000);
    if (sizes.empty()) sizes.push_back(1 + *rc::gen::inRange<std::size_t>(0, 9000));
    const CutterOptions options = small_cutter(16 * 1024);
    VersionManifest whole, pieces;
    const auto a = cut_image(image, options, whole);
    const auto b = cut_in_pieces(image, sizes, options, pieces);
    RC_ASSERT(whole == pieces);
    RC_ASSERT(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) RC_ASSERT(a[i].bytes == b[i].bytes);
    RC_ASSERT(check_manifest(whole, ManifestLimits{}).ok());
  });
}

TEST_CASE("cutter: reading into its input space, with recycled buffers, cuts as feed does",
          "[prop]") {
  rc::prop("input_space/took equals feed", [](const std::vector<std::size_t>& raw_sizes) {
    Prng rng(*rc::gen::arbitrary<std::uint64_t>());
    const std::string image = make_image(rng, *rc::gen::inRange<std::size_t>(0, 40),
                                         *rc::gen::inRange<std::size_t>(0, 5000));
    std::vector<std::size_t> sizes;
    for (const std::size_t s : raw_sizes) sizes.push_back(1 + s % 20000);
    if (sizes.empty()) sizes.push_back(1 + *rc::gen::inRange<std::size_t>(0, 9000));
    const CutterOptions options = small_cutter(16 * 1024);
    VersionManifest whole;
    const auto expected = cut_image(image, options, whole);

    ImageCutter cutter(options);
    std::vector<CutSegment> got;
    std::vector<CutSegment> completed;
    std::size_t at = 0;
    for (std::size_t i = 0; at < image.size(); ++i) {
      const std::span<char> space = cutter.input_space(sizes[i % sizes.size()]);
      RC_ASSERT(!space.empty());
      const std::size_t n = std::min(space.size(), image.size() - at);
      std::string_view(image).substr(at, n).copy(space.data(), n);
      at += n;
      cutter.took(n, completed);
      for (CutSegment& c : completed) {
        got.push_back(c);
        // Hand the buffer back damaged: what is cut into it next must not see the old bytes.
        std::fill(c.bytes.begin(), c.bytes.end(), '\xAA');
        cutter.recycle(std::move(c.bytes));
      }
      completed.clear();
    }
    if (auto last = cutter.finish()) got.push_back(std::move(*last));
    RC_ASSERT(cutter.manifest() == whole);
    RC_ASSERT(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) RC_ASSERT(got[i].bytes == expected[i].bytes);
  });
}

TEST_CASE("cutter: no input space past image_bytes_max, and feed then names the limit", "[unit]") {
  CutterOptions options = small_cutter(16 * 1024);
  options.image_bytes_max = 10000;
  ImageCutter cutter(options);
  std::vector<CutSegment> completed;
  const std::span<char> space = cutter.input_space(1u << 20);
  REQUIRE(space.size() == 10000);
  cutter.took(space.size(), completed);
  REQUIRE(cutter.input_space(1u << 20).empty());
  REQUIRE(cutter.feed("x", completed).code() == Errc::too_large);
}

TEST_CASE("cutter: every split size from 1 byte up gives the same manifest", "[unit]") {
  Prng rng(5);
  const std::string image = make_image(rng, 9, 123);
  VersionManifest whole;
  cut_image(image, small_cutter(16 * 1024), whole);
  for (const std::size_t split : {1, 2, 5, 10, 100, 4095, 4096, 4097, 16384, 100000}) {
    VersionManifest m;
    cut_in_pieces(image, {static_cast<std::size_t>(split)}, small_cutter(16 * 1024), m);
    REQUIRE(m == whole);
  }
}

TEST_CASE("cutter: segment sizes outside 4 KiB..32 MiB or not whole blocks are refused", "[unit]") {
  REQUIRE(check_cutter_options(CutterOptions{kBlockBytes}).ok());
  REQUIRE(check_cutter_options(CutterOptions{32u << 20}).ok());
  REQUIRE_FALSE(check_cutter_options(CutterOptions{64u << 20}).ok());
  REQUIRE_FALSE(check_cutter_options(CutterOptions{5000}).ok());
  REQUIRE_FALSE(check_cutter_options(CutterOptions{0}).ok());
}

TEST_CASE("cutter: the manifest round-trips through its codec and damage is detected", "[unit]") {
  Prng rng(2);
  VersionManifest m;
  cut_image(make_image(rng, 40, 77), small_cutter(), m);
  const std::string bytes = encode_manifest(m);
  Result<VersionManifest> back = decode_manifest(bytes, ManifestLimits{});
  REQUIRE(back.ok());
  REQUIRE(*back == m);
  for (std::size_t at : {std::size_t{0}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] ^= 4;
    REQUIRE(decode_manifest(bad, ManifestLimits{}).code() == Errc::corrupt);
  }
  REQUIRE(decode_manifest(bytes.substr(0, bytes.size() - 9), ManifestLimits{}).code() ==
          Errc::corrupt);
}

TEST_CASE("cutter: check_manifest names what is wrong", "[unit]") {
  Prng rng(3);
  VersionManifest good;
  cut_image(make_image(rng, 20, 10), small_cutter(), good);
  VersionManifest m = good;
  m.image_bytes += 1;
  REQUIRE(check_manifest(m, ManifestLimits{}).code() == Errc::invalid_argument);
  m = good;
  m.segments[0].blocks.pop_back();
  REQUIRE(check_manifest(m, ManifestLimits{}).code() == Errc::invalid_argument);
  m = good;
  m.segments[0].blocks[0].null = !m.segments[0].blocks[0].null;
  REQUIRE(check_manifest(m, ManifestLimits{}).code() == Errc::invalid_argument);
  m = good;
  REQUIRE(check_manifest(m, ManifestLimits{32 * 1024, kImageBytesMax}).code() == Errc::too_large);
  REQUIRE(check_manifest(m, ManifestLimits{kSegmentBytesMax, 1000}).code() == Errc::too_large);
}

// Reverse dedup on recipes, re-pointing for removal, and the punch/compact
// choice, as pure functions.

#include <catch2/catch.hpp>

#include "components/dedup/store/block_removal.h"
#include "components/dedup/store/reverse_dedup.h"

using namespace doppel;
using namespace doppel::dedup;

namespace {

Fingerprint fp_of(int n) {
  return Hasher::of(HashKind::sha256, std::to_string(n));
}

// A recipe of full blocks: content c at position p is direct (segment, p) if c > 0, else null.
Recipe recipe_of(VersionNumber v, SegmentId segment, const std::vector<int>& contents) {
  Recipe r{"img", v, HashKind::sha256, contents.size() * kBlockBytes, {}};
  for (std::size_t p = 0; p < contents.size(); ++p) {
    if (contents[p] == 0) {
      r.entries.push_back(RecipeEntry{});
    } else {
      r.entries.push_back(
          RecipeEntry{RefKind::direct, segment, static_cast<std::uint32_t>(p), fp_of(contents[p])});
    }
  }
  return r;
}

SegmentMeta meta_of(SegmentId id, std::size_t blocks, std::uint32_t refs) {
  std::vector<Fingerprint> fps;
  for (std::size_t b = 0; b < blocks; ++b) fps.push_back(fp_of(static_cast<int>(b) + 1));
  SegmentMeta m = new_segment_meta(id, fp_of(-static_cast<int>(id)),
                                   static_cast<std::uint32_t>(blocks * kBlockBytes), fps,
                                   std::vector<bool>(blocks, false));
  for (SegmentBlock& b : m.blocks) b.refs = refs;
  return m;
}

BlockDeltas drop_first(std::size_t n) {
  BlockDeltas d;
  for (std::uint32_t b = 0; b < n; ++b) d[b] = -1;
  return d;
}

}  // namespace

TEST_CASE("reverse dedup: matched blocks of the old version point to the new one", "[unit]") {
  Recipe prev = recipe_of(1, 10, {1, 2, 3, 0, 4});
  const Recipe next = recipe_of(2, 20, {1, 9, 2, 3, 0});
  RefDeltas deltas;
  const ReverseDedupCount n = reverse_dedup(prev, next, deltas);
  REQUIRE(n.blocks == 3);
  REQUIRE(n.bytes == 3 * kBlockBytes);
  REQUIRE(prev.entries[0] == RecipeEntry{RefKind::indirect, 2, 0, fp_of(1)});  // same position
  REQUIRE(prev.entries[1] == RecipeEntry{RefKind::indirect, 2, 2, fp_of(2)});  // moved
  REQUIRE(prev.entries[2] == RecipeEntry{RefKind::indirect, 2, 3, fp_of(3)});
  REQUIRE(prev.entries[3].kind == RefKind::null);
  REQUIRE(prev.entries[4].kind == RefKind::direct);  // content 4 is gone from v2
  REQUIRE(deltas[10] == BlockDeltas{{0, -1}, {1, -1}, {2, -1}});
}

TEST_CASE("reverse dedup: removing a version re-points what pointed into it", "[unit]") {
  Recipe v1 = recipe_of(1, 10, {1, 2, 3});
  Recipe v2 = recipe_of(2, 20, {1, 2, 5});
  const Recipe v3 = recipe_of(3, 30, {1, 7, 8});
  RefDeltas ignored;
  reverse_dedup(v1, v2, ignored);  // v1: 1,2 -> v2
  reverse_dedup(v2, v3, ignored);  // v2: 1 -> v3
  RefDeltas deltas;
  count_direct_refs(v2, -1, deltas);
  REQUIRE(repoint(v1, v2, deltas) == 2);
  REQUIRE(v1.entries[0] == RecipeEntry{RefKind::indirect, 3, 0, fp_of(1)});  // now to v3
  REQUIRE(v1.entries[1] == RecipeEntry{RefKind::direct, 20, 1, fp_of(2)});   // v2's block
  REQUIRE(deltas[20] == BlockDeltas{{1, 0}, {2, -1}});
}

TEST_CASE("removal: below the rebuild threshold blocks are punched, at it compacted", "[unit]") {
  const SegmentMeta m = meta_of(1, 10, 1);
  // 1 of 10 = 10% < 20%: punch.
  RemovalPlan one = plan_block_removal(m, drop_first(1), 20);
  REQUIRE(one.kind == RemovalKind::punch);
  REQUIRE(one.removed == std::vector<std::uint32_t>{0});
  REQUIRE(one.punches.size() == 1);
  REQUIRE(one.punches[0].offset == 0);
  REQUIRE(one.punches[0].length == kBlockBytes);
  REQUIRE(one.after.blocks[0].state == BlockState::punched);
  REQUIRE(one.after.space().punched_bytes == kBlockBytes);
  // 2 of 10 = 20%: compact into generation 1, live blocks packed.
  RemovalPlan two = plan_block_removal(m, drop_first(2), 20);
  REQUIRE(two.kind == RemovalKind::compact);
  REQUIRE(two.after.generation == 1);
  REQUIRE(two.after.blocks[2].slot == 0);
  REQUIRE(two.after.blocks[9].slot == 7);
  REQUIRE(two.after.space().compacted_bytes == 2 * kBlockBytes);
  REQUIRE(two.after.space().balanced());
  // Earlier holes count: one punched, then one more reaches 20%.
  RemovalPlan again = plan_block_removal(one.after, BlockDeltas{{5, -1}}, 20);
  REQUIRE(again.kind == RemovalKind::compact);
  REQUIRE(again.after.blocks[0].state == BlockState::compacted);
  // All gone: drop.
  REQUIRE(plan_block_removal(m, drop_first(10), 20).kind == RemovalKind::drop);
  // Threshold 0 always compacts; 100 always punches.
  REQUIRE(plan_block_removal(m, drop_first(1), 0).kind == RemovalKind::compact);
  REQUIRE(plan_block_removal(m, drop_first(9), 100).kind == RemovalKind::punch);
}

TEST_CASE("removal: adjacent punched blocks make one hole and counts above zero stay", "[unit]") {
  SegmentMeta m = meta_of(1, 20, 1);
  m.blocks[3].refs = 2;
  BlockDeltas d{{1, -1}, {2, -1}, {3, -1}, {7, -1}};
  RemovalPlan p = plan_block_removal(m, d, 50);
  REQUIRE(p.kind == RemovalKind::punch);
  REQUIRE(p.removed == std::vector<std::uint32_t>{1, 2, 7});
  REQUIRE(p.punches.size() == 2);
  REQUIRE(p.punches[0].offset == kBlockBytes);
  REQUIRE(p.punches[0].length == 2 * kBlockBytes);
  REQUIRE(p.after.blocks[3].refs == 1);
  REQUIRE(p.after.blocks[3].state == BlockState::present);
}

TEST_CASE("removal: compacted data holds only the live blocks in order, each checked", "[unit]") {
  std::string data;
  std::vector<Fingerprint> fps;
  for (char c = 'a'; c < 'e'; ++c) {
    data += std::string(kBlockBytes, c);
    fps.push_back(Hasher::of(HashKind::sha256, std::string(kBlockBytes, c)));
  }
  SegmentMeta m = new_segment_meta(1, Hasher::of(HashKind::sha256, data), 4 * kBlockBytes, fps,
                                   std::vector<bool>(4, false));
  for (SegmentBlock& b : m.blocks) b.refs = 1;
  RemovalPlan p = plan_block_removal(m, BlockDeltas{{1, -1}, {2, -1}}, 20);
  REQUIRE(p.kind == RemovalKind::compact);
  Result<std::string> out = compact_data(m, p.after, data);
  REQUIRE(out.ok());
  REQUIRE(*out == std::string(kBlockBytes, 'a') + std::string(kBlockBytes, 'd'));
  REQUIRE(compact_data(m, p.after, data.substr(0, 3 * kBlockBytes)).code() == Errc::corrupt);
  // A bit flipped in a live block is not copied into the new file.
  std::string flipped = data;
  flipped[3 * kBlockBytes + 100] ^= 0x10;
  REQUIRE(compact_data(m, p.after, flipped).code() == Errc::corrupt);
  // ...while one in a removed block does not matter.
  flipped = data;
  flipped[kBlockBytes + 7] ^= 0x01;
  REQUIRE(compact_data(m, p.after, flipped).ok());
}

TEST_CASE("removal: segment metadata round-trips and damage is detected", "[unit]") {
  SegmentMeta m = meta_of(7, 16, 3);
  m = plan_block_removal(m, BlockDeltas{{4, -3}}, 20).after;
  const std::string bytes = encode_segment_meta(m);
  Result<SegmentMeta> back = decode_segment_meta(bytes, 7, 1u << 20);
  REQUIRE(back.ok());
  REQUIRE(*back == m);
  REQUIRE(decode_segment_meta(bytes, 8, 1u << 20).code() == Errc::corrupt);
  for (const std::size_t at : {std::size_t{20}, kSegmentHeaderBytes + 5, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] ^= 1;
    REQUIRE(decode_segment_meta(bad, 7, 1u << 20).code() == Errc::corrupt);
  }
  REQUIRE(decode_segment_meta(bytes.substr(0, bytes.size() - 41), 7, 1u << 20).code() ==
          Errc::corrupt);
}

TEST_CASE("removal: recipes round-trip and damage is detected", "[unit]") {
  Recipe r = recipe_of(3, 5, {1, 0, 2, 3});
  r.entries[2] = RecipeEntry{RefKind::indirect, 4, 1, fp_of(2)};
  const std::string bytes = encode_recipe(r);
  Result<Recipe> back = decode_recipe(bytes, "img", 3, kImageBytesMax);
  REQUIRE(back.ok());
  REQUIRE(back->entries == r.entries);
  REQUIRE(back->header() == r.header());
  REQUIRE(decode_recipe(bytes, "img", 4, kImageBytesMax).code() == Errc::corrupt);
  REQUIRE(decode_recipe(bytes, "other", 3, kImageBytesMax).code() == Errc::corrupt);
  std::string bad = bytes;
  bad[kRecipeHeaderBytes + 50] ^= 2;
  REQUIRE(decode_recipe(bad, "img", 3, kImageBytesMax).code() == Errc::corrupt);
}

// Cross-image block dedup (components/dedup/store/cross_dedup.h): the plan on
// its own, then the store with fleets of clones: a clone's edited segments
// cost what the clone changed, every version reads back, and removals, gc,
// restarts and the fragmentation budget keep every invariant.

#include "components/dedup/store/cross_dedup.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

Fingerprint fp_of(int content) {
  return Hasher::of(HashKind::sha256, "block " + std::to_string(content));
}

// A segment of whole blocks with these contents (0: null), each with `refs` references.
SegmentMeta segment(SegmentId id, const std::vector<int>& contents, std::uint32_t refs) {
  std::vector<Fingerprint> fps;
  std::vector<bool> nulls;
  for (int c : contents) {
    fps.push_back(c == 0 ? Fingerprint{} : fp_of(c));
    nulls.push_back(c == 0);
  }
  SegmentMeta m =
      new_segment_meta(id, fp_of(-static_cast<int>(id)),
                       static_cast<std::uint32_t>(contents.size() * kBlockBytes), fps, nulls);
  for (SegmentBlock& b : m.blocks) b.refs = b.state == BlockState::present ? refs : 0;
  return m;
}

std::unique_ptr<Store> open_store(Runtime& rt, StoreOptions options = small_options()) {
  Result<std::unique_ptr<Store>> store = Store::boot(rt, rt.fs(), options);
  REQUIRE(store.ok());
  return std::move(*store);
}

CommitResult commit_checked(Store& store, std::string_view image, std::string_view bytes) {
  Result<CommitResult> r = backup(store, image, bytes);
  REQUIRE(r.ok());
  const Status s = store.check();
  INFO((s.ok() ? std::string() : s.error().message()));
  REQUIRE(s.ok());
  return *r;
}

// A clone: one block rewritten in every `stride` blocks, so every segment differs from the
// template's and coarse dedup finds nothing.
std::string clone_of(Prng& rng, std::string bytes, std::size_t stride) {
  for (std::size_t b = rng.below(stride); b * kBlockBytes < bytes.size(); b += stride) {
    bytes.replace(b * kBlockBytes, kBlockBytes, random_bytes(rng, kBlockBytes));
  }
  return bytes;
}

}  // namespace

TEST_CASE("cross dedup plan: the candidate standing for the most blocks is borrowed from first",
          "[sim]") {
  const SegmentMeta fresh = segment(10, {1, 2, 3, 4, 5, 6, 7, 8, 0, 9}, 0);
  const SegmentMeta small = segment(3, {1, 2, 50, 51}, 1);
  const SegmentMeta big = segment(4, {60, 3, 4, 5, 6, 7, 2}, 1);
  const std::vector<const SegmentMeta*> candidates{&small, &big};
  const CrossDedupPlan one = plan_cross_dedup(fresh, candidates, 1);
  REQUIRE(one.targets == std::vector<SegmentId>{4});
  REQUIRE(one.blocks == 6);  // 2..7
  REQUIRE(one.lent[1] == BlockRef{4, 6});
  REQUIRE_FALSE(one.lent[0]);
  const CrossDedupPlan two = plan_cross_dedup(fresh, candidates, 2);
  // small adds block 1 only: one block is not worth a second segment to read.
  REQUIRE(two.targets == std::vector<SegmentId>{4});
  REQUIRE(plan_cross_dedup(fresh, candidates, 0).blocks == 0);
}

TEST_CASE("cross dedup plan: only present, referenced blocks of the same length are borrowed",
          "[sim]") {
  const SegmentMeta fresh = segment(10, {1, 2, 3, 4}, 0);
  SegmentMeta other = segment(5, {1, 2, 3, 4}, 1);
  other.blocks[0].state = BlockState::punched;
  other.blocks[0].refs = 0;
  other.blocks[1].refs = 0;  // an upload nothing references yet
  const std::vector<const SegmentMeta*> candidates{&other};
  const CrossDedupPlan p = plan_cross_dedup(fresh, candidates, 4);
  REQUIRE(p.blocks == 2);
  REQUIRE_FALSE(p.lent[0]);
  REQUIRE_FALSE(p.lent[1]);
  REQUIRE(p.lent[2] == BlockRef{5, 2});
  REQUIRE(p.bytes == 2 * kBlockBytes);
}

TEST_CASE("cross dedup plan: what it lends is there, and within the budget", "[sim]") {
  rc::prop(
      "every lent block is the same content, present and referenced, in at most "
      "targets_max segments each worth its read",
      [] {
        const auto contents = [](std::size_t n) {
          return *rc::gen::container<std::vector<int>>(n, rc::gen::inRange(0, 24));
        };
        const SegmentMeta fresh = segment(100, contents(*rc::gen::inRange(1, 40)), 0);
        std::vector<SegmentMeta> others;
        const int count = *rc::gen::inRange(0, 6);
        for (int c = 0; c < count; ++c) {
          SegmentMeta m =
              segment(static_cast<SegmentId>(1 + c), contents(*rc::gen::inRange(1, 40)), 1);
          for (SegmentBlock& b : m.blocks) {  // some removed, some unreferenced
            if (b.state != BlockState::present) continue;
            const int fate = *rc::gen::inRange(0, 6);
            if (fate == 0) b = SegmentBlock{b.fp, 0, BlockState::punched, b.slot};
            if (fate == 1) b.refs = 0;
          }
          others.push_back(std::move(m));
        }
        std::vector<const SegmentMeta*> candidates;
        for (const SegmentMeta& m : others) candidates.push_back(&m);
        const std::size_t targets_max = *rc::gen::inRange<std::size_t>(0, 4);
        const CrossDedupPlan p = plan_cross_dedup(fresh, candidates, targets_max);
        RC_ASSERT(p.targets.size() <= targets_max);
        RC_ASSERT(p.lent.size() == fresh.blocks.size());
        std::map<SegmentId, std::size_t> per_target;
        std::uint64_t blocks = 0;
        for (std::size_t b = 0; b < p.lent.size(); ++b) {
          if (!p.lent[b]) continue;
          ++blocks;
          RC_ASSERT(fresh.blocks[b].state == BlockState::present);
          const SegmentMeta& t = others[p.lent[b]->segment - 1];
          const SegmentBlock& tb = t.blocks[p.lent[b]->block];
          RC_ASSERT(tb.state == BlockState::present);
          RC_ASSERT(tb.refs > 0);
          RC_ASSERT(tb.fp == fresh.blocks[b].fp);
          ++per_target[t.id];
        }
        RC_ASSERT(blocks == p.blocks);
        RC_ASSERT(per_target.size() == p.targets.size());
        for (const auto& [id, n] : per_target) RC_ASSERT(n >= kBlocksPerTargetMin);
      });
}

TEST_CASE("cross dedup budget: segments read per MiB, the segment itself included", "[sim]") {
  REQUIRE(cross_dedup_targets_max(4u << 20, 4) == 15);
  REQUIRE(cross_dedup_targets_max(1u << 20, 4) == 3);
  REQUIRE(cross_dedup_targets_max(1u << 20, 1) == 1);
  REQUIRE(cross_dedup_targets_max(64u << 10, 4) == 1);  // at least one other segment
  REQUIRE(cross_dedup_targets_max(4u << 20, 0) == 0);   // off
}

TEST_CASE("segment hooks: the smallest digests of present blocks, kept through the file format",
          "[sim]") {
  SegmentMeta m = segment(7, {1, 2, 3, 4, 5, 0, 6}, 1);
  std::vector<std::uint64_t> all;
  for (const SegmentBlock& b : m.blocks) {
    if (b.state == BlockState::present) all.push_back(block_hook(b.fp));
  }
  std::sort(all.begin(), all.end());
  SegmentHeader h = m.header();
  REQUIRE(h.hook_count == kHooksPerSegment);
  REQUIRE(std::vector<std::uint64_t>(h.hooks.begin(), h.hooks.end()) ==
          std::vector<std::uint64_t>(all.begin(), all.begin() + kHooksPerSegment));
  Result<SegmentMeta> back = decode_segment_meta(encode_segment_meta(m), 7, 1u << 20);
  REQUIRE(back.ok());
  REQUIRE(back->header() == h);
  // A removed block's hook goes: the hook index only leads to blocks that are there.
  for (SegmentBlock& b : m.blocks) {
    if (b.state == BlockState::present && block_hook(b.fp) == all[0]) {
      b.state = BlockState::punched;
      b.refs = 0;
    }
  }
  REQUIRE(m.header().hooks[0] == all[1]);
}

TEST_CASE("store: a clone edited in every segment costs what it changed, not a copy", "[sim]") {
  SimNode sim(21);
  Model model;
  StoreStats after_clone;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(21);
    const std::string gold = make_image(rng, 256);
    commit_checked(*store, "gold", gold);
    model["gold"][1] = gold;
    const StoreStats before = store->stats();
    const std::string clone = clone_of(rng, gold, 8);
    const CommitResult r = commit_checked(*store, "clone", clone);
    model["clone"][1] = clone;
    after_clone = store->stats();
    REQUIRE(r.blocks_cross_deduped > 150);
    // 32 blocks rewritten: what the clone costs, give or take the null ones.
    REQUIRE(after_clone.stored_bytes - before.stored_bytes <= 32 * kBlockBytes);
    REQUIRE(after_clone.cross_deduped_bytes == r.blocks_cross_deduped * kBlockBytes);
    REQUIRE(after_clone.balanced());
    REQUIRE(mismatch(*store, model).empty());
  }));
  // After a restart the hooks come back from the segments' headers: a second clone finds them.
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(store->check().ok());
    REQUIRE(store->stats().hook_entries > 0);
    Prng rng(22);
    const std::string clone = clone_of(rng, model["gold"][1], 8);
    const CommitResult r = commit_checked(*store, "clone2", clone);
    model["clone2"][1] = clone;
    REQUIRE(r.blocks_cross_deduped > 150);
    REQUIRE(store->stats().stored_bytes - after_clone.stored_bytes <= 32 * kBlockBytes);
    REQUIRE(mismatch(*store, model).empty());
  }));
}

TEST_CASE("store: with cross-image dedup off, an edited clone is stored whole (the paper)",
          "[sim]") {
  SimNode sim(23);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.cross_dedup_segments_per_mib = 0;
    auto store = open_store(rt, o);
    Prng rng(23);
    const std::string gold = make_image(rng, 256);
    commit_checked(*store, "gold", gold);
    const StoreStats before = store->stats();
    const CommitResult r = commit_checked(*store, "clone", clone_of(rng, gold, 8));
    REQUIRE(r.blocks_cross_deduped == 0);
    REQUIRE(store->stats().stored_bytes - before.stored_bytes > 150 * kBlockBytes);
  }));
}

TEST_CASE("store: borrowed blocks outlive the image that stored them, through removals and gc",
          "[sim]") {
  SimNode sim(24);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.unreferenced_ttl = Duration(0);
    auto store = open_store(rt, o);
    Prng rng(24);
    Model model;
    std::string gold = make_image(rng, 192);
    commit_checked(*store, "gold", gold);
    model["gold"][1] = gold;
    std::string clone = clone_of(rng, gold, 6);
    commit_checked(*store, "clone", clone);
    model["clone"][1] = clone;
    // Both go on: the template's next version reverse-dedups its first; the clone's borrows.
    gold = clone_of(rng, gold, 16);
    commit_checked(*store, "gold", gold);
    model["gold"][2] = gold;
    clone = clone_of(rng, clone, 9);
    const CommitResult r = commit_checked(*store, "clone", clone);
    model["clone"][2] = clone;
    REQUIRE(r.blocks_cross_deduped > 0);
    REQUIRE(mismatch(*store, model).empty());
    for (const VersionNumber v : {1, 2}) {
      REQUIRE(store->remove_version("gold", v).ok());
      model["gold"].erase(v);
      REQUIRE(store->check().ok());
      REQUIRE(mismatch(*store, model).empty());
    }
    REQUIRE(store->gc().ok());
    REQUIRE(store->check().ok());
    REQUIRE(mismatch(*store, model).empty());
    REQUIRE(store->remove_version("clone", 1).ok());
    REQUIRE(store->remove_version("clone", 2).ok());
    REQUIRE(store->gc().ok());
    REQUIRE(store->check().ok());
    const StoreStats empty = store->stats();
    REQUIRE(empty.stored_bytes == 0);
    REQUIRE(empty.hook_entries == 0);
  }));
}

// The two blocks of `segment` whose hooks are smallest: the ones its hooks find.
std::string hooked_blocks(const std::string& segment) {
  std::vector<std::pair<std::uint64_t, std::size_t>> by_hook;
  for (std::size_t b = 0; b * kBlockBytes < segment.size(); ++b) {
    const std::string_view block(segment.data() + b * kBlockBytes, kBlockBytes);
    by_hook.emplace_back(block_hook(Hasher::of(HashKind::sha256, block)), b);
  }
  std::sort(by_hook.begin(), by_hook.end());
  std::string out;
  for (int k = 0; k < 2; ++k) out += segment.substr(by_hook[k].second * kBlockBytes, kBlockBytes);
  return out;
}

TEST_CASE("store: a segment borrowing from many others reads from at most its budget", "[sim]") {
  for (const std::uint32_t per_mib : {32u, 256u}) {
    SimNode sim(25);
    REQUIRE(sim.run([&](Runtime& rt) {
      StoreOptions o = small_options();
      // A 64 KiB segment may then read from 2 segments (itself and one other), or from 16.
      o.cross_dedup_segments_per_mib = per_mib;
      auto store = open_store(rt, o);
      Prng rng(25);
      // Eight images of one segment each; the new one holds two blocks of each.
      std::string mix;
      for (int i = 0; i < 8; ++i) {
        const std::string image = random_bytes(rng, kSmallSegmentBytes);
        commit_checked(*store, "src" + std::to_string(i), image);
        mix += hooked_blocks(image);
      }
      const CommitResult r = commit_checked(*store, "mix", mix);
      REQUIRE(r.blocks_cross_deduped == (per_mib == 32 ? 2 : 16));
      REQUIRE(*restore(*store, "mix", 1) == mix);
    }));
  }
}

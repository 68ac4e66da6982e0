// The store in the simulator: round trips, global segment dedup, reverse
// dedup, punching and compaction, chains of indirect references, limits.
// check() (every invariant, by a full scan) runs after every operation.

#include <catch2/catch.hpp>

#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

// Commits and checks every invariant; returns the result.
CommitResult commit_checked(Store& store, std::string_view image, std::string_view bytes,
                            std::uint32_t segment_bytes = kSmallSegmentBytes) {
  Result<CommitResult> r = backup(store, image, bytes, segment_bytes);
  REQUIRE(r.ok());
  const Status s = store.check();
  INFO((s.ok() ? std::string() : s.error().message()));
  REQUIRE(s.ok());
  return *r;
}

std::unique_ptr<Store> open_store(Runtime& rt, StoreOptions options = small_options()) {
  Result<std::unique_ptr<Store>> store = Store::boot(rt, rt.fs(), options);
  REQUIRE(store.ok());
  return std::move(*store);
}

}  // namespace

TEST_CASE("store: versions of several images read back byte-identical, also after a restart",
          "[sim]") {
  SimNode sim(1);
  Model model;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(11);
    const std::string base = make_image(rng, 60, 300);
    for (const char* image : {"alpha", "beta", "gamma"}) {
      std::string bytes = base;  // images cloned from one master, as in the paper
      for (int v = 1; v <= 5; ++v) {
        bytes = edit_image(rng, bytes);
        const CommitResult r = commit_checked(*store, image, bytes);
        REQUIRE(r.version == static_cast<VersionNumber>(v));
        model[image][r.version] = bytes;
      }
    }
    REQUIRE(mismatch(*store, model).empty());
    REQUIRE(store->stats().balanced());
  }));
  // The node's memory is gone; the disk is what the next store sees.
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(store->check().ok());
    REQUIRE(mismatch(*store, model).empty());
  }));
}

TEST_CASE("store: segments shared across images are stored once", "[sim]") {
  SimNode sim(2);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(2);
    const std::string bytes = make_image(rng, 64);
    commit_checked(*store, "a", bytes);
    const StoreStats one = store->stats();
    commit_checked(*store, "b", bytes);
    const StoreStats two = store->stats();
    REQUIRE(two.segments == one.segments);
    REQUIRE(two.stored_bytes == one.stored_bytes);
    REQUIRE(two.logical_bytes == 2 * one.logical_bytes);
    VersionManifest m;
    const auto segs = cut_image(bytes, small_cutter(), m);
    std::vector<Fingerprint> fps;
    for (const auto& s : segs) fps.push_back(s.manifest.fp);
    fps.push_back(Hasher::of(HashKind::sha256, "not stored"));
    Result<std::vector<bool>> have = store->has_segments(fps);
    REQUIRE(have.ok());
    for (std::size_t i = 0; i < segs.size(); ++i) {
      REQUIRE((*have)[i] == !segs[i].manifest.all_null());
    }
    REQUIRE_FALSE(have->back());
  }));
}

TEST_CASE("store: reverse dedup makes indirect references and reduces stored bytes", "[sim]") {
  SimNode sim(3);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(3);
    std::string v1 = make_image(rng, 64);
    commit_checked(*store, "vm", v1);
    const StoreStats before = store->stats();
    // One block changed in each segment: coarse dedup finds nothing, reverse dedup the rest.
    std::string v2 = v1;
    for (std::size_t s = 0; s < 4; ++s) {
      const std::size_t at = s * kSmallSegmentBytes + 5 * kBlockBytes;
      v2.replace(at, kBlockBytes, random_bytes(rng, kBlockBytes));
    }
    const CommitResult r = commit_checked(*store, "vm", v2);
    REQUIRE(r.blocks_reverse_deduped > 40);
    const StoreStats after = store->stats();
    REQUIRE(after.indirect_bytes == r.blocks_reverse_deduped * kBlockBytes);
    // The second version costs what it added (4 blocks), not a second copy.
    REQUIRE(after.stored_bytes <= before.stored_bytes + 4 * kBlockBytes);
    REQUIRE(after.compacted_bytes > 0);
    Result<std::vector<VersionInfo>> versions = store->list_versions("vm");
    REQUIRE(versions.ok());
    REQUIRE((*versions)[0].indirect_bytes == r.blocks_reverse_deduped * kBlockBytes);
    REQUIRE((*versions)[1].indirect_bytes == 0);  // the newest version is all direct
    REQUIRE(*restore(*store, "vm", 1) == v1);
    REQUIRE(*restore(*store, "vm", 2) == v2);
  }));
}

TEST_CASE("store: the punch or compact choice follows the rebuild threshold", "[sim]") {
  // A 16-block segment; v2 changes k blocks of it, so v1 loses 16 - k.
  // Changing 14 blocks removes 2 of 16 (12.5%): punched at 20%, compacted at 10%.
  for (const std::uint32_t threshold : {20u, 10u}) {
    SimNode sim(4);
    REQUIRE(sim.run([&](Runtime& rt) {
      StoreOptions o = small_options();
      o.rebuild_threshold_percent = threshold;
      auto store = open_store(rt, o);
      Prng rng(4);
      const std::string v1 = random_bytes(rng, kSmallSegmentBytes);
      commit_checked(*store, "vm", v1);
      std::string v2 = v1;
      v2.replace(2 * kBlockBytes, 14 * kBlockBytes, random_bytes(rng, 14 * kBlockBytes));
      const CommitResult r = commit_checked(*store, "vm", v2);
      REQUIRE(r.blocks_reverse_deduped == 2);
      REQUIRE(r.blocks_removed == 2);
      const StoreStats st = store->stats();
      if (threshold == 20) {
        REQUIRE(r.segments_punched == 1);
        REQUIRE(st.punched_bytes == 2 * kBlockBytes);
        REQUIRE(st.compacted_bytes == 0);
      } else {
        REQUIRE(r.segments_compacted == 1);
        REQUIRE(st.compacted_bytes == 2 * kBlockBytes);
        REQUIRE(st.punched_bytes == 0);
      }
      REQUIRE(*restore(*store, "vm", 1) == v1);
      REQUIRE(*restore(*store, "vm", 2) == v2);
    }));
  }
}

TEST_CASE(
    "store: a compaction throws the old data file into the trash; emptying it, gc and the "
    "next boot unlink what is there",
    "[sim]") {
  SimNode sim(5);
  std::string v2, v3;
  const auto trash = [](Runtime& rt) {
    Result<std::vector<std::string>> names = rt.fs().list("dedup/trash");
    REQUIRE(names.ok());
    return *names;
  };
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.rebuild_threshold_percent = 10;  // 2 blocks of 16 removed: compacted
    auto store = open_store(rt, o);
    Prng rng(4);
    const std::string v1 = random_bytes(rng, kSmallSegmentBytes);
    commit_checked(*store, "vm", v1);
    REQUIRE(trash(rt).empty());
    v2 = v1;
    v2.replace(2 * kBlockBytes, 14 * kBlockBytes, random_bytes(rng, 14 * kBlockBytes));
    REQUIRE(commit_checked(*store, "vm", v2).segments_compacted == 1);
    // The old generation left segments/ with the change (check() passed), into the trash.
    REQUIRE(trash(rt) == std::vector<std::string>{"0000000000000001.0.data"});
    REQUIRE(store->empty_trash().value() == 1);
    REQUIRE(trash(rt).empty());
    REQUIRE(store->empty_trash().value() == 0);
    REQUIRE(*restore(*store, "vm", 1) == v1);
    // Removing the oldest version throws away the compacted data; gc empties the trash.
    REQUIRE(store->remove_version("vm", 1).ok());
    REQUIRE(trash(rt).size() == 1);
    REQUIRE(store->gc().ok());
    REQUIRE(trash(rt).empty());
    REQUIRE(store->check().ok());
    // A crash between a change and the emptying leaves the trash full...
    v3 = v2;
    v3.replace(0, 14 * kBlockBytes, random_bytes(rng, 14 * kBlockBytes));
    REQUIRE(commit_checked(*store, "vm", v3).segments_compacted == 1);
    REQUIRE(trash(rt).size() == 1);
  }));
  // ...and the next boot empties it.
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(trash(rt).empty());
    REQUIRE(store->check().ok());
    REQUIRE(*restore(*store, "vm", 2) == v2);
    REQUIRE(*restore(*store, "vm", 3) == v3);
  }));
}

TEST_CASE("store: the oldest of a long series reads through a chain of indirect references",
          "[sim]") {
  SimNode sim(5);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(5);
    std::vector<std::string> versions{make_image(rng, 32, 1000)};
    commit_checked(*store, "vm", versions[0]);
    for (int v = 2; v <= 12; ++v) {
      std::string next = versions.back();
      next.replace(rng.below(32) * kBlockBytes, kBlockBytes, random_bytes(rng, kBlockBytes));
      commit_checked(*store, "vm", next);
      versions.push_back(next);
    }
    // Most of version 1 now lives in version 12: eleven hops for most blocks.
    Result<VersionInfo> oldest = store->version_info("vm", 1);
    REQUIRE(oldest->indirect_bytes > oldest->image_bytes / 2);
    for (std::size_t v = 0; v < versions.size(); ++v) {
      REQUIRE(*restore(*store, "vm", v + 1, 7777) == versions[v]);
    }
    // Any range, any alignment.
    for (int i = 0; i < 50; ++i) {
      const std::size_t at = rng.below(versions[0].size());
      const std::size_t n = 1 + rng.below(20000);
      std::string buf(n, '\0');
      Result<std::size_t> got = store->read("vm", 1, at, buf);
      REQUIRE(got.ok());
      REQUIRE(buf.substr(0, *got) == versions[0].substr(at, n));
    }
  }));
}

TEST_CASE("store: null blocks are never stored and read back as zeros", "[sim]") {
  SimNode sim(6);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(6);
    std::string bytes(3 * kSmallSegmentBytes + 100, '\0');  // one all-null segment and more
    bytes.replace(kSmallSegmentBytes, 5 * kBlockBytes, random_bytes(rng, 5 * kBlockBytes));
    commit_checked(*store, "sparse", bytes);
    const StoreStats st = store->stats();
    REQUIRE(st.stored_bytes == 5 * kBlockBytes);
    REQUIRE(st.null_bytes == bytes.size() - 5 * kBlockBytes);
    REQUIRE(*restore(*store, "sparse", 1) == bytes);
    commit_checked(*store, "empty", "");
    REQUIRE(restore(*store, "empty", 1)->empty());
  }));
}

TEST_CASE("store: a commit with a missing segment fails and leaves nothing", "[sim]") {
  SimNode sim(7);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(7);
    VersionManifest m;
    const auto segs = cut_image(make_image(rng, 40), small_cutter(), m);
    REQUIRE(store->put_segment(segs[0].manifest.fp, segs[0].bytes).ok());
    Result<CommitResult> r = store->commit("vm", m);
    REQUIRE(r.code() == Errc::not_found);
    REQUIRE(r.error().what.find(segs[1].manifest.fp.hex()) != std::string::npos);
    REQUIRE(store->list_images()->empty());
    REQUIRE(store->check().ok());
  }));
}

TEST_CASE("store: bad input is refused with a clear error", "[sim]") {
  SimNode sim(8);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.versions_per_image_max = 2;
    o.images_max = 2;
    auto store = open_store(rt, o);
    Prng rng(8);
    const std::string seg = random_bytes(rng, kBlockBytes * 3);
    std::vector<Fingerprint> block_fps;
    for (std::size_t b = 0; b < 3; ++b)
      block_fps.push_back(Hasher::of(HashKind::sha256, seg.substr(b * kBlockBytes, kBlockBytes)));
    const Fingerprint fp = segment_fingerprint_of(HashKind::sha256, block_fps);
    REQUIRE(store->put_segment(Hasher::of(HashKind::sha256, "x"), seg).code() ==
            Errc::invalid_argument);
    REQUIRE(store->put_segment(Hasher::of(HashKind::sha1, seg), seg).code() ==
            Errc::invalid_argument);
    REQUIRE(store->put_segment(fp, "").code() == Errc::too_large);
    REQUIRE(*store->put_segment(fp, seg));
    REQUIRE_FALSE(*store->put_segment(fp, seg));  // idempotent
    const std::string bytes = make_image(rng, 20);
    REQUIRE(backup(*store, "../etc", bytes).code() == Errc::invalid_argument);
    REQUIRE(backup(*store, "a.next", bytes).code() == Errc::invalid_argument);
    REQUIRE(backup(*store, std::string(129, 'a'), bytes).code() == Errc::invalid_argument);
    REQUIRE(backup(*store, "a", bytes).ok());
    REQUIRE(backup(*store, "a", bytes).ok());
    REQUIRE(backup(*store, "a", bytes).code() == Errc::no_space);  // versions_per_image_max
    REQUIRE(backup(*store, "b", bytes).ok());
    REQUIRE(backup(*store, "c", bytes).code() == Errc::no_space);  // images_max
    std::string buf(10, '\0');
    REQUIRE(store->read("a", 9, 0, buf).code() == Errc::not_found);
    REQUIRE(store->read("a", 1, bytes.size() + 1, buf).code() == Errc::invalid_argument);
    REQUIRE(*store->read("a", 1, bytes.size(), buf) == 0);
    std::string huge(o.read_bytes_max + 1, '\0');
    REQUIRE(store->read("a", 1, 0, huge).code() == Errc::too_large);
    REQUIRE(store->list_versions("zzz").code() == Errc::not_found);
    REQUIRE(store->check().ok());
  }));
}

TEST_CASE("store: SHA-1 fingerprints work as in the paper", "[sim]") {
  SimNode sim(9);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.hash = HashKind::sha1;
    auto store = open_store(rt, o);
    Prng rng(9);
    const std::string v1 = make_image(rng, 40, 9);
    const std::string v2 = edit_image(rng, v1);
    for (const std::string* bytes : {&v1, &v2}) {
      VersionManifest m;
      const auto segs = cut_image(*bytes, CutterOptions{kSmallSegmentBytes, HashKind::sha1}, m);
      for (const auto& s : segs) {
        if (!s.manifest.all_null()) REQUIRE(store->put_segment(s.manifest.fp, s.bytes).ok());
      }
      REQUIRE(store->commit("vm", m).ok());
    }
    REQUIRE(store->check().ok());
    REQUIRE(*restore(*store, "vm", 1) == v1);
    REQUIRE(*restore(*store, "vm", 2) == v2);
  }));
}

TEST_CASE("store: random workloads keep every invariant after every operation", "[sim]") {
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    SimNode sim(seed);
    REQUIRE(sim.run([&](Runtime& rt) {
      StoreOptions o = small_options();
      o.rebuild_threshold_percent = static_cast<std::uint32_t>(seed * 13 % 101);
      o.unreferenced_ttl = Duration(0);
      auto store = open_store(rt, o);
      Prng rng(seed);
      Model model;
      std::map<std::string, std::string> latest;
      const std::string master = make_image(rng, 48, 10);
      for (int step = 0; step < 30; ++step) {
        const std::string image = "img" + std::to_string(rng.below(3));
        const std::uint64_t op = rng.below(10);
        if (op < 7 || model[image].empty()) {
          std::string& bytes = latest[image];
          bytes = edit_image(rng, bytes.empty() ? master : bytes);
          const CommitResult r = commit_checked(*store, image, bytes, 16 * 1024);
          model[image][r.version] = bytes;
        } else if (op < 9) {
          auto& versions = model[image];
          auto it = std::next(versions.begin(), static_cast<long>(rng.below(versions.size())));
          REQUIRE(store->remove_version(image, it->first).ok());
          versions.erase(it);
        } else {
          REQUIRE(store->gc().ok());
        }
        const Status s = store->check();
        INFO((s.ok() ? std::string() : s.error().message()));
        REQUIRE(s.ok());
      }
      REQUIRE(mismatch(*store, model).empty());
    }));
  }
}

TEST_CASE(
    "store: a version streamed in pieces reads right while commits reverse-dedup and "
    "compact it",
    "[sim]") {
  for (const sim::DiskModel disk : {sim::DiskModel::ssd, sim::DiskModel::hdd}) {
    sim::AmbientFaults faults;
    faults.disk_model = disk;
    SimNode sim(10, faults);
    REQUIRE(sim.run([&](Runtime& rt) {
      auto store = open_store(rt);
      Prng rng(10);
      std::string bytes = make_image(rng, 64, 10);
      const std::string v1 = bytes;
      commit_checked(*store, "vm", v1);
      int readers_done = 0;
      bool committing = false;
      std::uint64_t pieces = 0, pieces_between_commits = 0;
      for (int r = 0; r < 2; ++r) {
        rt.spawn("reader", [&] {
          for (int round = 0; round < 3; ++round) {
            std::string got(v1.size(), '\0');
            for (std::uint64_t at = 0; at < got.size(); at += 9000) {
              const std::size_t n = std::min<std::size_t>(9000, got.size() - at);
              Result<std::size_t> read =
                  store->read("vm", 1, at, std::span<char>(got).subspan(at, n));
              REQUIRE(read.ok());
              ++pieces;
              pieces_between_commits += committing ? 1 : 0;
            }
            REQUIRE(got == v1);
          }
          ++readers_done;
        });
      }
      committing = true;
      for (int v = 2; v <= 6; ++v) {
        bytes = edit_image(rng, bytes);
        commit_checked(*store, "vm", bytes);
      }
      committing = false;
      while (readers_done < 2) rt.sleep(Duration(1'000'000));
      REQUIRE(pieces > 100);
      REQUIRE(pieces_between_commits > 10);  // the reads did interleave with the commits
      REQUIRE(store->stats().indirect_bytes > 0);
    }));
  }
}

TEST_CASE("store: a segment repeated within an image is stored once and counted each time",
          "[sim]") {
  SimNode sim(12);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(12);
    const std::string seg = random_bytes(rng, kSmallSegmentBytes);
    const std::string v1 = seg + seg + random_bytes(rng, kSmallSegmentBytes) + seg;
    commit_checked(*store, "vm", v1);  // check(): each block of seg counts 3 references
    REQUIRE(store->stats().segments == 2);
    REQUIRE(store->stats().stored_bytes == 2 * kSmallSegmentBytes);
    std::string v2 = v1;
    v2.replace(kSmallSegmentBytes + 100, 10, "0123456789");  // one copy changes
    const CommitResult r = commit_checked(*store, "vm", v2);
    REQUIRE(r.blocks_removed == 0);  // every block of v1 is still somewhere in v2
    REQUIRE(*restore(*store, "vm", 1) == v1);
    REQUIRE(*restore(*store, "vm", 2) == v2);
  }));
}

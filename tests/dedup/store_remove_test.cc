// Removing versions (oldest, middle, newest, all) and gc, in the simulator.

#include <catch2/catch.hpp>

#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

std::unique_ptr<Store> open_store(Runtime& rt, StoreOptions options = small_options()) {
  Result<std::unique_ptr<Store>> store = Store::boot(rt, rt.fs(), options);
  REQUIRE(store.ok());
  return std::move(*store);
}

void require_checked(Store& store) {
  const Status s = store.check();
  INFO((s.ok() ? std::string() : s.error().message()));
  REQUIRE(s.ok());
}

// Commits `n` versions of `image`, each an edit of the one before.
void commit_series(Store& store, Model& model, const std::string& image, Prng& rng, int n) {
  std::string bytes = make_image(rng, 40, 500);
  for (int i = 0; i < n; ++i) {
    bytes = edit_image(rng, bytes);
    Result<CommitResult> r = backup(store, image, bytes);
    REQUIRE(r.ok());
    model[image][r->version] = bytes;
    require_checked(store);
  }
}

void remove_checked(Store& store, Model& model, const std::string& image, VersionNumber v) {
  Result<RemoveResult> r = store.remove_version(image, v);
  REQUIRE(r.ok());
  model[image].erase(v);
  require_checked(store);
  REQUIRE(mismatch(store, model).empty());
}

}  // namespace

TEST_CASE("store remove: deleting the oldest versions returns their space", "[sim]") {
  SimNode sim(21);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(21);
    Model model;
    commit_series(*store, model, "vm", rng, 6);
    std::uint64_t stored = store->stats().stored_bytes;
    for (VersionNumber v = 1; v <= 6; ++v) {
      remove_checked(*store, model, "vm", v);
      const std::uint64_t now = store->stats().stored_bytes;
      REQUIRE(now <= stored);
      stored = now;
    }
    // Nothing is left: every segment was dropped, every byte returned.
    const StoreStats st = store->stats();
    REQUIRE(st.versions == 0);
    REQUIRE(st.images == 0);
    REQUIRE(st.segments == 0);
    REQUIRE(st.stored_bytes == 0);
    REQUIRE(store->list_images()->empty());
  }));
}

TEST_CASE("store remove: deleting a middle version re-points the older ones", "[sim]") {
  SimNode sim(22);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(22);
    Model model;
    commit_series(*store, model, "vm", rng, 5);
    Result<RemoveResult> r = store->remove_version("vm", 3);
    REQUIRE(r.ok());
    REQUIRE(r->entries_repointed > 0);
    model["vm"].erase(3);
    require_checked(*store);
    REQUIRE(mismatch(*store, model).empty());
    remove_checked(*store, model, "vm", 2);
    remove_checked(*store, model, "vm", 4);
  }));
}

TEST_CASE(
    "store remove: deleting the newest version leaves the one before all direct, and its "
    "number is not reused, even after a restart",
    "[sim]") {
  SimNode sim(23);
  Model model;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(23);
    commit_series(*store, model, "vm", rng, 3);
    REQUIRE(store->version_info("vm", 2)->indirect_bytes > 0);
    remove_checked(*store, model, "vm", 3);
    REQUIRE(store->version_info("vm", 2)->indirect_bytes == 0);
  }));
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    require_checked(*store);
    REQUIRE(mismatch(*store, model).empty());
    Prng rng(24);
    const std::string bytes = make_image(rng, 10);
    Result<CommitResult> r = backup(*store, "vm", bytes);
    REQUIRE(r.ok());
    REQUIRE(r->version == 4);
    model["vm"][4] = bytes;
    require_checked(*store);
    // All versions gone: the image is no longer listed; numbering goes on.
    for (VersionNumber v : {1, 2, 4}) remove_checked(*store, model, "vm", v);
    REQUIRE(store->list_images()->empty());
    REQUIRE(store->list_versions("vm").code() == Errc::not_found);
    REQUIRE(backup(*store, "vm", bytes)->version == 5);
    REQUIRE(store->remove_version("vm", 4).code() == Errc::not_found);
    REQUIRE(store->remove_version("nope", 1).code() == Errc::not_found);
  }));
}

TEST_CASE("store remove: segments shared with another image stay while it uses them", "[sim]") {
  SimNode sim(25);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(25);
    Model model;
    const std::string master = make_image(rng, 40);
    for (const char* image : {"a", "b"}) {
      REQUIRE(backup(*store, image, master).ok());
      model[image][1] = master;
    }
    const StoreStats shared = store->stats();
    remove_checked(*store, model, "a", 1);
    REQUIRE(store->stats().stored_bytes == shared.stored_bytes);  // b still holds them
    remove_checked(*store, model, "b", 1);
    REQUIRE(store->stats().stored_bytes == 0);
  }));
}

TEST_CASE("store gc: drops uploaded segments nothing references once the ttl has passed", "[sim]") {
  SimNode sim(26);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(26);
    Model model;
    commit_series(*store, model, "vm", rng, 2);
    const StoreStats before = store->stats();
    REQUIRE(before.unreferenced_bytes == 0);
    // An upload that is never committed.
    VersionManifest m;
    for (const CutSegment& s : cut_image(make_image(rng, 30), small_cutter(), m)) {
      if (!s.manifest.all_null()) REQUIRE(store->put_segment(s.manifest.fp, s.bytes).ok());
    }
    REQUIRE(store->stats().unreferenced_bytes > 0);
    REQUIRE(store->gc()->segments_dropped == 0);  // it may still be committed
    rt.sleep(Duration(2 * store->options().unreferenced_ttl));
    Result<GcReport> gc = store->gc();
    REQUIRE(gc.ok());
    REQUIRE(gc->segments_dropped > 0);
    REQUIRE(gc->bytes_freed > 0);
    const StoreStats after = store->stats();
    REQUIRE(after.unreferenced_bytes == 0);
    REQUIRE(after.stored_bytes == before.stored_bytes);
    REQUIRE(after.segments == before.segments);
    require_checked(*store);
    REQUIRE(mismatch(*store, model).empty());
  }));
}

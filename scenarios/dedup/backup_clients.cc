#include "scenarios/dedup/backup_clients.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "components/dedup/api/uploader.h"
#include "scenarios/dedup/intruder.h"
#include "scenarios/scenario_users.h"

namespace doppel::scenarios {

using namespace std::chrono_literals;
using dedup::VersionNumber;

std::unique_ptr<dedup::DedupClient> DedupBackupClients::make_client(std::uint32_t image) {
  dedup::DedupClientOptions o;
  if (image % 2 == 1) o.upload_chunk_bytes = 1 + rt_.random().below(64 << 10);
  o.request_timeout = std::chrono::milliseconds(w_.timeout_ms);
  o.transfer_io_timeout = std::chrono::milliseconds(w_.timeout_ms);
  o.admin_timeout = std::chrono::milliseconds(w_.timeout_ms * 4);
  o.authorization = authorization_of(kOwner);
  return std::make_unique<dedup::DedupClient>(rt_, Endpoint{kDedupServer, kDedupPort}, o);
}

void DedupBackupClients::backoff(int attempt) {
  rt_.sleep(std::chrono::milliseconds(50 + 25 * std::min(attempt, 40)));
}

namespace {

// As `doppel backup put` reads a file: straight into the segment being cut, in reads of up to
// `read_max` bytes, so that reads end anywhere in a block or a segment.
Status feed_in_place(dedup::Uploader& up, std::string_view bytes, std::size_t read_max) {
  while (!bytes.empty()) {
    const std::span<char> space = up.input_space(std::min(bytes.size(), read_max));
    if (space.empty()) return up.feed(bytes);  // past the image limit: feed() names it
    std::memcpy(space.data(), bytes.data(), space.size());
    if (Status s = up.fed(space.size()); !s) return s;
    bytes.remove_prefix(space.size());
  }
  return {};
}

}  // namespace

// One upload and commit of series version `content`, handed over as a stream of chunks
// (feed) or, half the time, read into place as the CLI does (input_space, fed).
Result<VersionNumber> DedupBackupClients::put_once(dedup::DedupClient& client, std::uint32_t image,
                                                   std::uint32_t content) {
  dedup::UploadOptions o;
  o.cutter.segment_bytes = static_cast<std::uint32_t>(w_.segment_mb) << 20;
  o.cutter.hash = w_.hash_kind();
  // Half the uploads borrow (upload avoidance), half send new segments whole and leave
  // cross-image dedup to the commit, as a client predating borrowing does: both paths meet
  // every fault.
  o.borrow = rt_.random().below(2) == 0;
  dedup::Uploader up(rt_, client, name(image), o);
  const bool in_place = rt_.random().below(2) == 0;
  const std::size_t read_max = 512 + rt_.random().below(96u << 10);
  Status fed;
  series_.write(
      image, content,
      [&](std::string_view chunk) {
        fed = in_place ? feed_in_place(up, chunk, read_max) : up.feed(chunk);
        return fed.ok();
      },
      256u << 10);
  if (!fed) return fed.error();
  auto committed = up.finish();
  if (!committed) return committed.error();
  return committed->version;
}

// Backs up series version `content` of the image until a commit is acknowledged.
// During the fault phase it keeps trying; once the faults have healed it must succeed within
// the liveness bound (retries inside it are fine), or progress fails.
bool DedupBackupClients::put(dedup::DedupClient& client, std::uint32_t image,
                             std::uint32_t content) {
  const Instant started = rt_.now();
  for (int attempt = 0;; ++attempt) {
    const std::int64_t invoked = to_ns(rt_.now());
    auto v = put_once(client, image, content);
    reports_.reached("put");
    // For the trace viewer: the image's client, and a failed upload that may have committed.
    rt_.record(Event("DedupClientPut")
                   .detail("client", image)
                   .detail("key", name(image))
                   .detail("content", content)
                   .detail("version", v ? *v : 0)
                   .detail("error", v ? "" : v.error().message())
                   .detail("start", invoked)
                   .detail("outcome", v ? "ok" : "unknown"));
    if (v) {
      if (!ledger_.committed(image, *v, content)) {
        world_.fail("restorable",
                    name(image) + " version " + std::to_string(*v) + " was acknowledged twice");
      }
      ++counts_.committed;
      return true;
    }
    // The commit may have happened before the answer was lost.
    ledger_.maybe_committed(image, content);
    ++counts_.maybe_committed;
    // The store found the damage the disk did and takes no more changes
    // (read-only until an operator repairs it): what it claims to do.
    if (v.code() == Errc::corrupt && damage_.any) {
      ++counts_.failed_ops;
      return false;
    }
    if (quiet_since_ &&
        rt_.now() - std::max(*quiet_since_, started) > std::chrono::milliseconds(w_.liveness_ms)) {
      ++counts_.failed_ops;
      world_.fail("progress", name(image) + ": a put after the heal did not succeed within " +
                                  std::to_string(w_.liveness_ms) + " ms: " + v.error().message());
      return false;
    }
    backoff(attempt);
  }
}

Result<bool> DedupBackupClients::same(dedup::DedupClient& client, std::uint32_t image,
                                      VersionNumber v, std::uint32_t content) {
  std::uint64_t offset = 0;
  bool equal = true;
  std::string expected;
  auto n = client.read(name(image), v, [&](std::string_view piece) -> Status {
    expected.resize(piece.size());
    const std::size_t got = series_.read(image, content, offset, expected);
    if (got != piece.size() || std::string_view(expected) != piece) equal = false;
    offset += piece.size();
    return {};
  });
  if (!n) return n.error();
  ++counts_.reads;
  return equal && offset == series_.bytes(image, content);
}

void DedupBackupClients::read_some(dedup::DedupClient& client, std::uint32_t image) {
  const auto live = ledger_.live(image);
  if (live.empty()) return;
  const auto [v, content] = live[rt_.random().below(live.size())];
  auto r = same(client, image, v, content);
  reports_.reached("read");
  if (r && !*r)
    reports_.violated("restorable",
                      name(image) + " version " + std::to_string(v) + " read back different bytes");
}

// One byte range of a live version, in one of the forms a client sends (RFC 9110 14.1.2:
// first-last, first-, -suffix; sometimes past the end), and the version's head: which
// bytes came is worked out here from the size the series says, and they must be its bytes.
void DedupBackupClients::read_range_some(dedup::DedupClient& client, std::uint32_t image) {
  const auto live = ledger_.live(image);
  if (live.empty()) return;
  Prng& rng = rt_.random();
  const auto [v, content] = live[rng.below(live.size())];
  const std::uint64_t size = series_.bytes(image, content);
  const std::uint64_t a = rng.below(size + size / 8 + 1);
  const std::uint64_t n = rng.below(size / 4 + 2);
  std::string range = "bytes=";
  std::optional<std::pair<std::uint64_t, std::uint64_t>> want;  // nullopt: a 416
  switch (rng.below(3)) {
    case 0:
      range += std::to_string(a) + "-" + std::to_string(a + n);
      if (a < size) want = {a, std::min(a + n, size - 1)};
      break;
    case 1:
      range += std::to_string(a) + "-";
      if (a < size) want = {a, size - 1};
      break;
    default:
      range += "-" + std::to_string(n);
      if (n > 0 && size > 0) want = {size - std::min(n, size), size - 1};
      break;
  }
  const std::string what = name(image) + " version " + std::to_string(v) + " " + range;
  std::string expected;
  bool equal = true;
  std::uint64_t offset = 0;
  auto r = client.read_range(name(image), v, range, [&](std::string_view piece) -> Status {
    if (!want) return {};  // a 416's reason
    expected.resize(piece.size());
    const std::uint64_t from = (want ? want->first : 0) + offset;
    if (series_.read(image, content, from, expected) != piece.size() || expected != piece)
      equal = false;
    offset += piece.size();
    return {};
  });
  reports_.reached(want ? "read-range" : "read-range-past-end");
  if (r) {
    const bool as_wanted =
        want ? !r->unsatisfiable && !r->whole && r->first == want->first && r->last == want->second
             : r->unsatisfiable || (r->whole && size == 0);
    if (!as_wanted || r->size != size || !equal) {
      reports_.violated("restorable", what + " of " + std::to_string(size) + " bytes answered " +
                                          (r->unsatisfiable ? std::string("416")
                                                            : std::to_string(r->first) + "-" +
                                                                  std::to_string(r->last)) +
                                          " of " + std::to_string(r->size) +
                                          (equal ? "" : ", with bytes that are not the version's"));
      return;
    }
  }
  auto head = client.head(name(image), v);
  reports_.reached("head");
  if (head && (head->version != v || head->bytes != size)) {
    reports_.violated("restorable", name(image) + " version " + std::to_string(v) +
                                        ": HEAD says version " + std::to_string(head->version) +
                                        " of " + std::to_string(head->bytes) + " bytes, not " +
                                        std::to_string(size));
  }
}

void DedupBackupClients::remove_some(dedup::DedupClient& client, std::uint32_t image) {
  const auto removable = ledger_.removable(image);
  if (removable.empty()) return;
  const VersionNumber v = removable[rt_.random().below(removable.size())];
  ledger_.removing(image, v);
  const std::int64_t invoked = to_ns(rt_.now());
  auto r = client.remove(name(image), v);
  reports_.reached("remove");
  rt_.record(Event("DedupClientRemove")
                 .detail("client", image)
                 .detail("key", name(image))
                 .detail("version", v)
                 .detail("start", invoked)
                 .detail("outcome", r ? "ok" : "unknown"));
  if (r) {
    ledger_.removed(image, v);
    ++counts_.removed;
  }
}

void DedupBackupClients::run_client(std::uint32_t image) {
  auto client = make_client(image);
  Prng& rng = rt_.random();
  for (std::uint32_t content = 1; content <= series_.options().versions; ++content) {
    if (w_.pause_ms > 0) rt_.sleep(std::chrono::milliseconds(rng.between(0, 2 * w_.pause_ms)));
    if (!put(*client, image, content)) return;
    if (rng.chance(static_cast<std::uint64_t>(w_.read_percent), 100)) read_some(*client, image);
    if (rng.chance(static_cast<std::uint64_t>(w_.read_percent), 100)) {
      read_range_some(*client, image);
    }
    if (rng.chance(static_cast<std::uint64_t>(w_.remove_percent), 100)) remove_some(*client, image);
    if (rng.chance(static_cast<std::uint64_t>(w_.gc_percent), 100)) {
      reports_.reached("gc");
      counts_.gcs += client->gc().ok() ? 1 : 0;
    }
  }
}

// One race against the image's backups: what it does is drawn from the race weights.
void DedupBackupClients::race_once(dedup::DedupClient& client, std::uint32_t image) {
  Prng& rng = rt_.random();
  const std::uint64_t total =
      static_cast<std::uint64_t>(w_.race_read + w_.race_put + w_.race_gc + w_.race_verify);
  if (total == 0) return;
  auto roll = static_cast<std::int64_t>(rng.below(total));
  if ((roll -= w_.race_read) < 0) {
    read_some(client, image);
  } else if ((roll -= w_.race_put) < 0) {
    // A second upload of the same image at once: it commits a version of its own, or not.
    const auto content = static_cast<std::uint32_t>(1 + rng.below(series_.options().versions));
    auto v = put_once(client, image, content);
    reports_.reached("put-racing");
    if (!v) {
      ledger_.maybe_committed(image, content);
    } else if (!ledger_.committed(image, *v, content)) {
      world_.fail("restorable",
                  name(image) + " version " + std::to_string(*v) + " was acknowledged twice");
    }
  } else if ((roll -= w_.race_gc) < 0) {
    reports_.reached("gc-racing");
    counts_.gcs += client.gc().ok() ? 1 : 0;
  } else {
    // Verify while versions are written: it must neither crash nor block the writers; its
    // verdict is judged at the end, on a quiet store.
    reports_.reached("verify-racing");
    (void)client.verify();
  }
}

// Races the image's backups until they are done (image_done[image]) or the faults heal.
void DedupBackupClients::race(std::uint32_t image, const std::vector<char>& image_done) {
  auto client = make_client(image + 1);
  while (!image_done[image] && !quiet_since_) {
    if (w_.pause_ms > 0) rt_.sleep(std::chrono::milliseconds(rt_.random().between(0, w_.pause_ms)));
    if (image_done[image] || quiet_since_) break;
    race_once(*client, image);
  }
}

void DedupBackupClients::run() {
  int running = 0;
  Condition done(rt_);
  std::vector<char> image_done(series_.options().images, 0);
  auto start = [&](std::string_view name, std::function<void()> body) {
    ++running;
    rt_.spawn(name, [body = std::move(body), &running, &done] {
      body();
      --running;
      done.notify_all();
    });
  };
  for (std::uint32_t image = 0; image < series_.options().images; ++image) {
    start("dedup-client", [this, image, &image_done] {
      run_client(image);
      image_done[image] = 1;
    });
    for (std::int64_t r = 0; r < w_.racers; ++r) {
      start("dedup-racer", [this, image, &image_done] { race(image, image_done); });
    }
  }
  start("dedup-intruder", [this, &image_done] {
    DedupIntruder intruder(rt_, reports_, ledger_, series_, w_);
    auto busy = [&] {
      return !quiet_since_ &&
             std::find(image_done.begin(), image_done.end(), 0) != image_done.end();
    };
    while (busy()) {
      rt_.sleep(std::chrono::milliseconds(rt_.random().between(0, 2 * w_.intrude_ms)));
      if (busy()) intruder.attempt();
    }
  });
  while (running > 0) done.wait();
  while (!quiet_since_) rt_.sleep(100ms);
}

}  // namespace doppel::scenarios

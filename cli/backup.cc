// doppel backup: the client of the dedup backup server (components/dedup/api/http_api.h).
//
//   doppel backup put FILE --image NAME [--server URL] [--segment-mb N] [--hash sha256|sha1]
//   doppel backup get NAME[@VERSION] -o FILE [--server URL]
//   doppel backup ls [NAME] [--server URL]
//   doppel backup rm NAME@VERSION [--server URL]
//   doppel backup verify [--server URL]
//   doppel backup gc [--server URL]
//   doppel backup stats [--server URL]
//
// put streams the file through the cutter (never the whole image in memory), uploads only the
// segments the server lacks (without the blocks it holds in other segments), commits, and
// prints the new version number on stdout; get writes
// FILE.tmp and renames it to FILE once complete and synced. Progress goes to stderr (a live line
// on a terminal, then a summary). Exit codes: 0 ok; 1 damage found, the server unreachable or
// refusing; 2 bad usage or input (a missing file, a bad URL, an unknown image or version).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/backup_client.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "components/access/gate.h"
#include "components/dedup/api/uploader.h"

namespace doppel::cli {
namespace {

// The file is read in pieces of this size (the cutter takes any chunking).
constexpr std::size_t kFileReadBytes = 1u << 20;
// Backups of one file when a commit finds a lender gave a borrowed block up (lender_gave_up).
constexpr int kPutAttemptsMax = 3;

struct BackupArgs {
  std::string server = kDefaultServerUrl;
  std::string file;     // put: the image; get: where to write it
  std::string image;    // put --image; ls NAME
  std::string version;  // get / rm: NAME[@VERSION]
  std::string hash;
  int segment_mb = 0;
  int uploads = 2;            // put: segment uploads in flight
  bool no_borrow = false;     // put: send new segments whole
  std::string user;           // --user: HTTP Basic credentials for a server with users
  std::string password_file;  // --password-file: the user's password (its first line)
  std::string ca_file;        // --ca-file: the CAs an https:// server's certificate is checked by
};

struct VersionRef {
  std::string image;
  std::optional<dedup::VersionNumber> version;  // none: the latest
};

std::string image_rules() {
  return "1 to " + std::to_string(dedup::kImageNameBytesMax) +
         " of A-Z a-z 0-9 . _ -, not starting with '.'";
}

// NAME, NAME@latest or NAME@N (N from 1).
Result<VersionRef> parse_version_ref(const std::string& text, bool version_required) {
  const auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, "'" + text + "': " + why);
  };
  const auto at = text.rfind('@');
  VersionRef ref{text.substr(0, at), std::nullopt};
  if (!dedup::valid_image_name(ref.image)) return bad("an image name is " + image_rules());
  if (at == std::string::npos) {
    if (version_required) return bad("expected NAME@VERSION");
    return ref;
  }
  const std::string v = text.substr(at + 1);
  if (v == "latest" && !version_required) return ref;
  dedup::VersionNumber n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n == 0) {
    return bad(version_required ? "expected NAME@N, a version number from 1"
                                : "expected NAME@N (a version number from 1) or NAME@latest");
  }
  ref.version = n;
  return ref;
}

// Runs `fn` against the server named by --server; a bad URL is a usage error.
int with_server(const BackupArgs& a, const std::function<int(BackupContext&)>& fn) {
  auto access = read_client_access(a.server, a.user, a.password_file, a.ca_file);
  if (!access) return usage_error("backup: " + access.error().what);
  return run_backup_client(a.server, access->server, access->authorization, access->ca_pem, fn);
}

// --- put

Result<dedup::CutterOptions> cutter_options(const BackupArgs& a, const dedup::ServerInfo& info,
                                            const std::string& url) {
  dedup::CutterOptions o;
  o.hash = info.hash;
  o.segment_bytes = info.segment_bytes;
  o.image_bytes_max = info.image_bytes_max;
  if (a.segment_mb > 0) {
    o.segment_bytes = static_cast<std::uint32_t>(a.segment_mb) << 20;
    if (o.segment_bytes > info.segment_bytes_max) {
      return make_error(Errc::invalid_argument,
                        "--segment-mb " + std::to_string(a.segment_mb) + ": the server at " + url +
                            " takes segments of at most " + human_bytes(info.segment_bytes_max));
    }
  }
  if (!a.hash.empty() && dedup::parse_hash_kind(a.hash) != info.hash) {
    return make_error(Errc::invalid_argument, "--hash " + a.hash + ": the server at " + url +
                                                  " fingerprints with " +
                                                  std::string(dedup::hash_kind_name(info.hash)));
  }
  return o;
}

std::string put_progress(const BackupArgs& a, const dedup::UploadProgress& p, std::uint64_t total,
                         Duration elapsed) {
  std::string line = a.image + ": " + human_bytes(p.bytes_done);
  if (total > 0) {
    line += " of " + human_bytes(total) + " (" +
            std::to_string(p.bytes_done * 100 / std::max<std::uint64_t>(total, 1)) + "%)";
  }
  return line + ", " + rate(p.bytes_done, elapsed) +
         ", segments: " + std::to_string(p.segments_uploaded) + " uploaded, " +
         std::to_string(p.segments_deduplicated) + " deduplicated, " +
         std::to_string(p.segments_null) + " null";
}

void put_summary(const BackupArgs& a, const dedup::UploadProgress& p, const dedup::CommitResult& c,
                 Duration elapsed) {
  std::fprintf(stderr,
               "doppel: backup put: %s version %llu: %s in %.2f s, %s; %llu segments: %llu "
               "uploaded (%s), %llu deduplicated, %llu null; %llu blocks found in other "
               "segments (%llu of them not sent); %llu blocks of the previous "
               "version reverse-deduplicated\n",
               a.image.c_str(), static_cast<unsigned long long>(c.version),
               human_bytes(p.bytes_done).c_str(), static_cast<double>(elapsed.count()) / 1e9,
               rate(p.bytes_done, elapsed).c_str(), static_cast<unsigned long long>(p.segments),
               static_cast<unsigned long long>(p.segments_uploaded),
               human_bytes(p.bytes_uploaded).c_str(),
               static_cast<unsigned long long>(p.segments_deduplicated),
               static_cast<unsigned long long>(p.segments_null),
               static_cast<unsigned long long>(c.blocks_cross_deduped),
               static_cast<unsigned long long>(p.blocks_borrowed),
               static_cast<unsigned long long>(c.blocks_reverse_deduped));
}

// A commit the server refused because a block a segment borrowed was given up since the upload
// (store/cross_dedup.h): backing up again uploads what nothing lends any more.
bool lender_gave_up(const Error& e) {
  // (The server answers 409: the client's manifest and the store disagree.)
  return (e.code == Errc::protocol || e.code == Errc::not_found) &&
         e.message().find("back up the version again") != std::string::npos;
}

// One backup of the file from where it is read now. `again` is set (and nothing printed) when
// the commit failed only because a lender gave a borrowed block up: the caller may retry.
int put_once(BackupContext& ctx, const BackupArgs& a, int fd, std::uint64_t total,
             const dedup::UploadOptions& options, std::optional<Error>& again) {
  dedup::Uploader up(ctx.rt, ctx.client, a.image, options);
  ProgressLine progress(ctx.rt);
  const Instant start = ctx.rt.now();
  for (;;) {
    // Read straight into the segment being cut (an image past the limit gets no room: feed()
    // then names the limit).
    const std::span<char> space = up.input_space(kFileReadBytes);
    char over;
    const ssize_t n = space.empty() ? ::read(fd, &over, 1) : ::read(fd, space.data(), space.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      progress.done();
      std::fprintf(stderr, "doppel: backup put: reading %s: %s\n", a.file.c_str(),
                   std::strerror(errno));
      return kExitFailed;
    }
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    if (Status s = space.empty() ? up.feed(std::string_view(&over, 1)) : up.fed(got); !s) {
      progress.done();
      return fail(ctx, "put", s.error());
    }
    progress.update([&] { return put_progress(a, up.progress(), total, ctx.rt.now() - start); });
  }
  auto committed = up.finish();
  progress.done();
  if (!committed && lender_gave_up(committed.error())) {
    again = committed.error();
    return kExitFailed;
  }
  if (!committed) return fail(ctx, "put", committed.error());
  std::printf("%llu\n", static_cast<unsigned long long>(committed->version));
  std::fflush(stdout);
  put_summary(a, up.progress(), *committed, ctx.rt.now() - start);
  return kExitOk;
}

int put_image(BackupContext& ctx, const BackupArgs& a, int fd, std::uint64_t total) {
  auto info = ctx.client.info();
  if (!info) return fail(ctx, "put", info.error());
  auto cutter = cutter_options(a, *info, ctx.server_url);
  if (!cutter) return usage_error("backup put: " + cutter.error().what);
  dedup::UploadOptions options{*cutter};
  options.uploads_max = static_cast<std::size_t>(a.uploads);
  options.borrow = !a.no_borrow;
  for (int attempt = 1;; ++attempt) {
    std::optional<Error> again;
    const int code = put_once(ctx, a, fd, total, options, again);
    if (!again) return code;
    if (attempt == kPutAttemptsMax || ::lseek(fd, 0, SEEK_SET) != 0)
      return fail(ctx, "put", *again);
    std::fprintf(stderr, "doppel: backup put: %s; backing up again (attempt %d of %d)\n",
                 again->message().c_str(), attempt + 1, kPutAttemptsMax);
  }
}

int cmd_put(const BackupArgs& a) {
  if (!dedup::valid_image_name(a.image)) {
    return usage_error("backup put: --image '" + a.image + "': an image name is " + image_rules());
  }
  const int fd = ::open(a.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return usage_error("backup put: " + a.file + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return usage_error("backup put: " + a.file + ": not a file");
  }
  // A regular file's or a block device's size; a pipe has none (the progress shows no total).
  const off_t end = ::lseek(fd, 0, SEEK_END);
  const std::uint64_t total = end > 0 ? static_cast<std::uint64_t>(end) : 0;
  if (end >= 0) (void)::lseek(fd, 0, SEEK_SET);
  const int code = with_server(a, [&](BackupContext& ctx) { return put_image(ctx, a, fd, total); });
  ::close(fd);
  return code;
}

// --- get

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io_error, "writing " + path + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Starts writing back what has been written so far, every kWritebackBytes, without waiting:
// the disk works while the transfer goes on, and the final fsync waits for the last piece only
// instead of for the whole image.
class Writeback {
 public:
  static constexpr std::uint64_t kWritebackBytes = 16u << 20;
  explicit Writeback(int fd) : fd_(fd) {}
  void wrote(std::uint64_t end) {
    if (end - started_ < kWritebackBytes) return;
    // Advice only: where it is not supported, fsync does all of the work at the end.
    (void)::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(end - started_),
                            SYNC_FILE_RANGE_WRITE);
    started_ = end;
  }

 private:
  int fd_;
  std::uint64_t started_ = 0;
};

// Syncs and closes the file, then renames it into place.
Status publish(int fd, const std::string& tmp, const std::string& path) {
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(Errc::io_error, "finishing " + path + ": " + std::strerror(errno));
  }
  return {};
}

int get_image(BackupContext& ctx, const BackupArgs& a, const VersionRef& ref) {
  auto head = ctx.client.head(ref.image, ref.version);
  if (!head) return fail(ctx, "get", head.error());
  const std::string tmp = a.file + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return usage_error("backup get: " + tmp + ": " + std::strerror(errno));
  ProgressLine progress(ctx.rt);
  const Instant start = ctx.rt.now();
  std::uint64_t written = 0;
  Writeback writeback(fd);
  auto got = ctx.client.read(ref.image, head->version, [&](std::string_view piece) -> Status {
    if (Status s = write_all(fd, piece, tmp); !s) return s;
    written += piece.size();
    writeback.wrote(written);
    progress.update([&] {
      const std::uint64_t percent = written * 100 / std::max<std::uint64_t>(head->bytes, 1);
      return ref.image + "@" + std::to_string(head->version) + ": " + human_bytes(written) +
             " of " + human_bytes(head->bytes) + " (" + std::to_string(percent) + "%), " +
             rate(written, ctx.rt.now() - start);
    });
    return {};
  });
  progress.done();
  Status done = got ? publish(fd, tmp, a.file) : Status(got.error());
  if (!done) {
    if (!got) ::close(fd);
    ::unlink(tmp.c_str());
    if (!got && ctx.client.last_status() == 0 && written > 0) {
      std::fprintf(stderr,
                   "doppel: backup get: the transfer was cut short after %s (%s); the server "
                   "may have found damage (doppel backup verify says)\n",
                   human_bytes(written).c_str(), got.error().message().c_str());
      return kExitFailed;
    }
    return fail(ctx, "get", done.error());
  }
  const Duration elapsed = ctx.rt.now() - start;
  const std::string chain =
      head->chain ? ", indirect chain " + std::to_string(*head->chain) : std::string();
  std::fprintf(
      stderr, "doppel: backup get: %s version %llu: %s to %s in %.2f s, %s%s\n", ref.image.c_str(),
      static_cast<unsigned long long>(head->version), human_bytes(written).c_str(), a.file.c_str(),
      static_cast<double>(elapsed.count()) / 1e9, rate(written, elapsed).c_str(), chain.c_str());
  return kExitOk;
}

int cmd_get(const BackupArgs& a) {
  auto ref = parse_version_ref(a.version, false);
  if (!ref) return usage_error("backup get: " + ref.error().what);
  return with_server(a, [&](BackupContext& ctx) { return get_image(ctx, a, *ref); });
}

// --- ls, rm, verify, gc, stats

int list_images(BackupContext& ctx) {
  auto images = ctx.client.list_images();
  if (!images) return fail(ctx, "ls", images.error());
  if (images->empty()) std::printf("no images\n");
  if (images->empty()) return kExitOk;
  std::printf("%-32s %8s %8s %8s %12s %12s\n", "IMAGE", "VERSIONS", "OLDEST", "LATEST",
              "LATEST_SIZE", "ALL_SIZES");
  for (const dedup::ImageSummary& i : *images) {
    std::printf("%-32s %8llu %8llu %8llu %12s %12s\n", i.name.c_str(),
                static_cast<unsigned long long>(i.versions),
                static_cast<unsigned long long>(i.oldest),
                static_cast<unsigned long long>(i.latest), human_bytes(i.latest_bytes).c_str(),
                human_bytes(i.logical_bytes).c_str());
  }
  return kExitOk;
}

int list_versions(BackupContext& ctx, const std::string& image) {
  auto versions = ctx.client.list_versions(image);
  if (!versions) return fail(ctx, "ls", versions.error());
  std::printf("%-10s %12s %14s %14s %14s %14s\n", "VERSION", "SIZE", "BYTES", "NULL", "DIRECT",
              "INDIRECT");
  for (const dedup::VersionInfo& v : *versions) {
    std::printf("%-10llu %12s %14llu %14llu %14llu %14llu\n",
                static_cast<unsigned long long>(v.version), human_bytes(v.image_bytes).c_str(),
                static_cast<unsigned long long>(v.image_bytes),
                static_cast<unsigned long long>(v.null_bytes),
                static_cast<unsigned long long>(v.direct_bytes),
                static_cast<unsigned long long>(v.indirect_bytes));
  }
  return kExitOk;
}

int cmd_ls(const BackupArgs& a) {
  if (!a.image.empty() && !dedup::valid_image_name(a.image)) {
    return usage_error("backup ls: '" + a.image + "': an image name is " + image_rules());
  }
  return with_server(a, [&](BackupContext& ctx) {
    return a.image.empty() ? list_images(ctx) : list_versions(ctx, a.image);
  });
}

int cmd_rm(const BackupArgs& a) {
  auto ref = parse_version_ref(a.version, true);
  if (!ref) return usage_error("backup rm: " + ref.error().what);
  return with_server(a, [&](BackupContext& ctx) {
    auto removed = ctx.client.remove(ref->image, *ref->version);
    if (!removed) return fail(ctx, "rm", removed.error());
    std::printf(
        "removed %s version %llu: %s freed, %llu blocks removed, %llu references "
        "re-pointed\n",
        ref->image.c_str(), static_cast<unsigned long long>(*ref->version),
        human_bytes(removed->bytes_freed).c_str(),
        static_cast<unsigned long long>(removed->blocks_removed),
        static_cast<unsigned long long>(removed->entries_repointed));
    return kExitOk;
  });
}

void print_damage(const dedup::VerifyReport& r) {
  for (const std::string& p : r.problems) std::printf("  problem: %s\n", p.c_str());
  for (const dedup::Damage& d : r.damage) {
    std::printf("  damaged: %s version %llu, bytes %llu-%llu (%s): %s\n", d.image.c_str(),
                static_cast<unsigned long long>(d.version),
                static_cast<unsigned long long>(d.offset),
                static_cast<unsigned long long>(d.offset + d.length - 1),
                human_bytes(d.length).c_str(), d.what.c_str());
  }
  if (r.damage_count > r.damage.size()) {
    std::printf("  ... and %llu more damaged ranges\n",
                static_cast<unsigned long long>(r.damage_count - r.damage.size()));
  }
}

int verify(BackupContext& ctx) {
  auto report = ctx.client.verify();
  if (!report) return fail(ctx, "verify", report.error());
  std::printf("verified %llu segments, %llu blocks, %llu versions: %s\n",
              static_cast<unsigned long long>(report->segments_checked),
              static_cast<unsigned long long>(report->blocks_checked),
              static_cast<unsigned long long>(report->versions_checked),
              report->clean() ? "clean" : "DAMAGE FOUND");
  if (report->clean()) return kExitOk;
  print_damage(*report);
  std::fflush(stdout);
  std::fprintf(stderr, "doppel: backup verify: damage found: %llu damaged ranges, %zu problems\n",
               static_cast<unsigned long long>(report->damage_count), report->problems.size());
  return kExitFailed;
}

int gc(BackupContext& ctx) {
  auto report = ctx.client.gc();
  if (!report) return fail(ctx, "gc", report.error());
  std::printf("gc: dropped %llu unreferenced segments, %s freed\n",
              static_cast<unsigned long long>(report->segments_dropped),
              human_bytes(report->bytes_freed).c_str());
  return kExitOk;
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

double per_mib(std::uint64_t n, std::uint64_t bytes) {
  return bytes == 0 ? 0.0 : static_cast<double>(n) * (1 << 20) / static_cast<double>(bytes);
}

int stats(BackupContext& ctx) {
  auto st = ctx.client.stats();
  if (!st) return fail(ctx, "stats", st.error());
  const std::pair<const char*, std::uint64_t> counts[] = {
      {"images", st->images},
      {"versions", st->versions},
      {"segments", st->segments},
      {"complete_segments", st->complete_segments},
      {"hook_entries", st->hook_entries},
  };
  const std::pair<const char*, std::uint64_t> bytes[] = {
      {"logical_bytes", st->logical_bytes},
      {"null_bytes", st->null_bytes},
      {"direct_bytes", st->direct_bytes},
      {"indirect_bytes", st->indirect_bytes},
      {"segment_data_bytes", st->segment_data_bytes},
      {"stored_bytes", st->stored_bytes},
      {"punched_bytes", st->punched_bytes},
      {"compacted_bytes", st->compacted_bytes},
      {"unreferenced_bytes", st->unreferenced_bytes},
  };
  for (const auto& [name, value] : counts) {
    std::printf("%-20s %16llu\n", name, static_cast<unsigned long long>(value));
  }
  for (const auto& [name, value] : bytes) {
    std::printf("%-20s %16llu  %s\n", name, static_cast<unsigned long long>(value),
                human_bytes(value).c_str());
  }
  std::printf("%-20s %16s\n", "balanced", st->balanced() ? "yes" : "NO");
  // What each kind of dedup saved, as shares of the bytes of every version there is. Segment
  // and cross-image savings are counted when each version was committed; reverse dedup's are
  // the bytes old versions read through later ones now.
  const std::uint64_t logical = st->logical_bytes;
  std::printf("\nsaved, of %s in all versions:\n", human_bytes(logical).c_str());
  const std::pair<const char*, std::uint64_t> saved[] = {
      {"null blocks", st->null_bytes},
      {"segment dedup", st->segment_deduped_bytes},
      {"cross-image dedup", st->cross_deduped_bytes},
      {"reverse dedup", st->indirect_bytes},
  };
  for (const auto& [name, value] : saved) {
    std::printf("  %-18s %12s %6.1f %%\n", name, human_bytes(value).c_str(), share(value, logical));
  }
  const std::uint64_t data = logical - st->null_bytes;
  std::printf("  %-18s %12s %6.1f %% of non-null bytes\n", "stored now",
              human_bytes(st->stored_bytes).c_str(), share(st->stored_bytes, data));
  auto images = ctx.client.list_images();
  if (!images) return fail(ctx, "stats", images.error());
  if (images->empty()) return kExitOk;
  std::printf(
      "\nrestore fragmentation of each image's latest version (reads are runs of "
      "consecutive blocks of one segment):\n");
  std::printf("  %-32s %8s %10s %10s %14s %12s %6s\n", "IMAGE", "VERSION", "SIZE", "SEGMENTS",
              "SEGMENTS/MiB", "READS/MiB", "CHAIN");
  for (const dedup::ImageSummary& i : *images) {
    auto layout = ctx.client.layout(i.name, i.latest);
    if (!layout) return fail(ctx, "stats", layout.error());
    std::printf("  %-32s %8llu %10s %10llu %14.2f %12.2f %6u\n", i.name.c_str(),
                static_cast<unsigned long long>(i.latest), human_bytes(layout->image_bytes).c_str(),
                static_cast<unsigned long long>(layout->segments),
                per_mib(layout->segments, layout->data_bytes),
                per_mib(layout->runs, layout->data_bytes), layout->chain);
  }
  return kExitOk;
}

}  // namespace

void add_backup_commands(CLI::App& app, Commands& commands) {
  auto a = std::make_shared<BackupArgs>();
  CLI::App* backup = app.add_subcommand("backup", "Back up and restore images on a dedup server");
  backup->require_subcommand(1);
  const auto sub = [&](const char* name, const char* what, std::function<int()> run) {
    CLI::App* c = backup->add_subcommand(name, what);
    c->add_option("--server", a->server,
                  "The dedup server's URL: http://HOST:PORT, or https:// for TLS")
        ->capture_default_str();
    c->add_option("--user", a->user, "A user of the server (HTTP Basic; with --password-file)");
    c->add_option("--password-file", a->password_file,
                  "A file whose first line is the user's password");
    c->add_option("--ca-file", a->ca_file,
                  "PEM CAs to check an https:// server's certificate by (default: the system's)");
    c->callback([&commands, run] { commands.action = run; });
    return c;
  };
  CLI::App* put = sub("put", "Back up FILE as a new version of an image; prints its number",
                      [a] { return cmd_put(*a); });
  put->add_option("FILE", a->file, "The image to back up")->required();
  put->add_option("--image", a->image, "The image's name")->required();
  put->add_option("--segment-mb", a->segment_mb, "Segment size (default: the server's)")
      ->check(CLI::Range(1, 32));
  put->add_option("--hash", a->hash, "Fingerprints (must be the server's)")
      ->check(CLI::IsMember({"sha256", "sha1"}));
  put->add_option("--uploads", a->uploads,
                  "Segment uploads in flight at once, each on its own connection")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  put->add_flag("--no-borrow", a->no_borrow,
                "Upload new segments whole, also the blocks the server holds in other segments "
                "(it then finds them at the commit)");
  CLI::App* get = sub("get", "Restore NAME[@VERSION] (the latest by default) to a file",
                      [a] { return cmd_get(*a); });
  get->add_option("NAME@VERSION", a->version, "The image, and the version or latest")->required();
  get->add_option("-o,--output", a->file, "Where to write it (via FILE.tmp)")->required();
  CLI::App* ls = sub("ls", "List the images, or the versions of one", [a] { return cmd_ls(*a); });
  ls->add_option("NAME", a->image, "An image: list its versions");
  CLI::App* rm = sub("rm", "Remove one version", [a] { return cmd_rm(*a); });
  rm->add_option("NAME@VERSION", a->version, "The version to remove")->required();
  sub("verify", "Re-hash everything stored; exit 1 listing any damage",
      [a] { return with_server(*a, verify); });
  sub("gc", "Drop segments no version references", [a] { return with_server(*a, gc); });
  sub("stats", "The server's space accounting", [a] { return with_server(*a, stats); });
}

}  // namespace doppel::cli

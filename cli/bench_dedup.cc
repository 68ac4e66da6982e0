// doppel bench dedup: the RevDedup paper's evaluation on a generated VM-image series, for doppel's
// backup server and for restic and borg (Debian's packages) on the same files, in one run.
//
// The series (properties/dedup/image_series.h) is written to files first; each tool then backs
// up every image's version 1, then every version 2, ... (as weekly backups), and restores every
// version from the latest to the oldest. Every tool is run as its users run it, one command per
// image and version, with its default settings (restic 0.14: zstd "auto" compression; borg 1.2:
// lz4; doppel: 4 MiB segments, SHA-256); timing is wall time around each command, so process
// start-up is counted for all alike. Each restored file is compared with the original after its
// timing. Space is the repository's allocated bytes on disk (punched holes free space, so `du`
// and not the file sizes), over the logical bytes of every version.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "properties/dedup/image_series.h"

namespace doppel::cli {
namespace {

namespace fs = std::filesystem;

struct Args {
  std::uint32_t images = 5;
  std::uint32_t versions = 8;
  std::uint64_t image_mb = 256;
  std::uint64_t seed = 1;
  std::string series = "versions";  // or "fleet"
  std::uint32_t run_blocks = 0;     // 0: the series' own
  std::string tools = "doppel,restic,borg";
  std::string dir;  // empty: a new directory under /var/tmp, removed afterwards
  bool keep = false;
};

struct ToolResult {
  std::string tool;
  std::string error;  // non-empty: the tool could not finish
  std::uint64_t logical_bytes = 0;
  std::uint64_t data_bytes = 0;  // of those, in blocks that are not all zero
  std::uint64_t stored_bytes = 0;
  double backup_seconds = 0;
  std::vector<double> restore_mbs;  // by version, latest first
  std::int64_t chain = -1;          // doppel only
};

double mb_per_s(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
}

std::string file_of(const std::string& data, std::uint32_t image, std::uint32_t version) {
  return data + "/vm" + std::to_string(image) + "-v" + std::to_string(version) + ".img";
}

// A line on stderr that rewrites itself, on a terminal only.
void progress(const std::string& line) {
  if (::isatty(2) == 0) return;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

Status write_series(const properties::dedup::ImageSeries& s, const std::string& data) {
  const std::uint64_t total = s.total_bytes();
  std::uint64_t done = 0;
  for (std::uint32_t i = 0; i < s.options().images; ++i) {
    for (std::uint32_t v = 1; v <= s.options().versions; ++v) {
      const std::string path = file_of(data, i, v);
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr) return make_error(Errc::io_error, path + ": " + std::strerror(errno));
      bool ok = true;
      s.write(i, v, [&](std::string_view chunk) {
        ok = std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size();
        done += chunk.size();
        if (done % (256u << 20) == 0) {
          progress("generating the series: " + std::to_string(done >> 20) + " of " +
                   std::to_string(total >> 20) + " MiB");
        }
        return ok;
      });
      if (std::fclose(f) != 0 || !ok)
        return make_error(Errc::io_error, path + ": write failed (disk full?)");
    }
  }
  progress("");
  return {};
}

// Allocated bytes under `dir` (holes not counted), as du.
std::uint64_t allocated_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

bool same_file(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::string ba(1 << 20, '\0'), bb(1 << 20, '\0');
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount()) return false;
    if (fa.gcount() == 0) return true;
    if (std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(fa.gcount())) != 0) return false;
  }
}

// One backup tool, driven by its command line.
class Tool {
 public:
  Tool(std::string name, std::string work) : name_(std::move(name)), work_(std::move(work)) {}
  virtual ~Tool() = default;
  const std::string& name() const { return name_; }
  virtual Status start() = 0;
  virtual Status backup(const std::string& file, std::uint32_t image, std::uint32_t version) = 0;
  // Restores into `out_dir`; returns the restored file's path.
  virtual Result<std::string> restore(const std::string& file, std::uint32_t image,
                                      std::uint32_t version, const std::string& out_dir) = 0;
  virtual std::string repository() const { return work_ + "/repo"; }
  // Waits until the work of the last command is done, also what a server does after answering,
  // so that the repository's size is final.
  virtual Status settle() { return {}; }
  virtual void stop() {}
  std::int64_t chain() const { return chain_; }

 protected:
  // Runs the command; an error with the log's last line unless it exits 0.
  Status run(const std::vector<std::string>& argv, const std::string& cwd = "") {
    ChildOptions o;
    o.log = work_ + "/last.log";
    o.cwd = cwd;
    o.env = env_;
    auto f = run_child(argv, o);
    if (!f) return f.error();
    if (f->exit_code == 127) {
      return make_error(Errc::not_found,
                        argv[0] + ": not found (scripts/setup.sh installs restic and borgbackup)");
    }
    if (f->exit_code != 0) {
      return make_error(Errc::io_error, argv[0] + " " + argv[1] + " exited " +
                                            std::to_string(f->exit_code) + ": " + log_tail(o.log));
    }
    return {};
  }
  std::string log() const {
    std::ifstream in(work_ + "/last.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string name_;
  std::string work_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::int64_t chain_ = -1;
};

class DoppelTool final : public Tool {
 public:
  using Tool::Tool;
  ~DoppelTool() override { stop(); }

  Status start() override {
    port_ = free_loopback_port();
    const std::string config = work_ + "/dedup.toml";
    std::ofstream(config)
        << "[node]\nname = \"bench\"\ncomponent = \"dedup\"\nlisten = \"127.0.0.1:" << port_
        << "\"\ndata_dir = \"" << repository() << "\"\ncores = 1\npin = false\n";
    ChildOptions o;
    o.log = work_ + "/server.log";
    auto pid = spawn_child({self_exe(), "serve", "--config", config}, o);
    if (!pid) return pid.error();
    pid_ = *pid;
    return await_listening(pid_, port_, "doppel serve", o.log);
  }
  Status backup(const std::string& file, std::uint32_t image, std::uint32_t) override {
    return run({self_exe(), "backup", "put", file, "--image", "vm" + std::to_string(image),
                "--server", url()});
  }
  Result<std::string> restore(const std::string&, std::uint32_t image, std::uint32_t version,
                              const std::string& out_dir) override {
    const std::string out = out_dir + "/restored.img";
    if (Status s = run({self_exe(), "backup", "get",
                        "vm" + std::to_string(image) + "@" + std::to_string(version), "-o", out,
                        "--server", url()});
        !s) {
      return s.error();
    }
    const std::string text = log();
    if (auto at = text.find("indirect chain "); at != std::string::npos) {
      chain_ = std::max<std::int64_t>(chain_, std::atoll(text.c_str() + at + 15));
    }
    return out;
  }
  void stop() override { stop_child(pid_); }
  // The server unlinks what a commit threw away once it has answered (dedup README, "the
  // trash"): until then the files still take their space.
  Status settle() override {
    const std::string trash = repository() + "/dedup/trash";
    for (int i = 0; i < kSettlePollsMax; ++i) {
      std::error_code ec;
      if (fs::is_empty(trash, ec) || ec) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return make_error(Errc::timed_out, "the server did not empty " + trash + " within 10 s");
  }

 private:
  static constexpr int kSettlePollsMax = 1000;  // of 10 ms
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class ResticTool final : public Tool {
 public:
  ResticTool(std::string name, std::string work) : Tool(std::move(name), std::move(work)) {
    env_ = {{"RESTIC_PASSWORD", "doppel-bench"}, {"RESTIC_CACHE_DIR", work_ + "/cache"}};
  }
  Status start() override { return run({"restic", "init", "--repo", repository()}); }
  Status backup(const std::string& file, std::uint32_t image, std::uint32_t version) override {
    if (Status s =
            run({"restic", "backup", "--repo", repository(), "--json", "--host", "bench", file});
        !s)
      return s;
    const std::string text = log();
    const auto at = text.rfind("\"snapshot_id\":\"");
    if (at == std::string::npos)
      return make_error(Errc::protocol, "restic backup printed no snapshot_id");
    snapshots_[{image, version}] = text.substr(at + 15, text.find('"', at + 15) - at - 15);
    return {};
  }
  Result<std::string> restore(const std::string& file, std::uint32_t image, std::uint32_t version,
                              const std::string& out_dir) override {
    if (Status s = run({"restic", "restore", "--repo", repository(), snapshots_[{image, version}],
                        "--target", out_dir});
        !s) {
      return s.error();
    }
    return out_dir + file;  // restic restores the absolute path under the target
  }

 private:
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> snapshots_;
};

class BorgTool final : public Tool {
 public:
  BorgTool(std::string name, std::string work) : Tool(std::move(name), std::move(work)) {
    env_ = {{"BORG_BASE_DIR", work_ + "/base"},
            {"BORG_PASSPHRASE", ""},
            {"BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes"}};
  }
  Status start() override { return run({"borg", "init", "--encryption=none", repository()}); }
  Status backup(const std::string& file, std::uint32_t image, std::uint32_t version) override {
    const fs::path p(file);
    return run(
        {"borg", "create", repository() + "::" + archive(image, version), p.filename().string()},
        p.parent_path().string());
  }
  Result<std::string> restore(const std::string& file, std::uint32_t image, std::uint32_t version,
                              const std::string& out_dir) override {
    if (Status s = run({"borg", "extract", repository() + "::" + archive(image, version)}, out_dir);
        !s) {
      return s.error();
    }
    return out_dir + "/" + fs::path(file).filename().string();
  }

 private:
  static std::string archive(std::uint32_t image, std::uint32_t version) {
    return "vm" + std::to_string(image) + "-v" + std::to_string(version);
  }
};

std::unique_ptr<Tool> make_tool(const std::string& name, const std::string& work) {
  if (name == "doppel") return std::make_unique<DoppelTool>(name, work);
  if (name == "restic") return std::make_unique<ResticTool>(name, work);
  if (name == "borg") return std::make_unique<BorgTool>(name, work);
  return nullptr;
}

// Every timed step starts on a quiet disk: without this the first tool would pay for writing
// back the freshly generated series, and each tool for what the one before left dirty.
void settle_disk() {
  ::sync();
}

// The tools take turns at each step -- one image version backed up, or restored, by each tool
// in a row -- rather than one tool doing all of its work and then the next: a host that speeds
// up or slows down during the run (a shared VM does) then affects every tool alike. Who goes
// first rotates from step to step, so that no tool always reads an image right after another
// one did.
class Contest {
 public:
  Contest(std::vector<std::unique_ptr<Tool>> tools, const properties::dedup::ImageSeries& series,
          std::string data)
      : tools_(std::move(tools)), series_(series), data_(std::move(data)), results_(tools_.size()) {
    for (std::size_t t = 0; t < tools_.size(); ++t) results_[t].tool = tools_[t]->name();
  }

  std::vector<ToolResult> run(const std::string& work) {
    each([&](Tool& tool, ToolResult&) { return tool.start(); }, "start");
    const std::uint32_t images = series_.options().images, versions = series_.options().versions;
    for (std::uint32_t v = 1; v <= versions; ++v) {
      for (std::uint32_t i = 0; i < images; ++i) {
        each(
            [&](Tool& tool, ToolResult& r) -> Status {
              progress(tool.name() + ": backing up version " + std::to_string(v) + " of image " +
                       std::to_string(i));
              settle_disk();
              const auto start = std::chrono::steady_clock::now();
              if (Status st = tool.backup(file_of(data_, i, v), i, v); !st) return st;
              r.backup_seconds += seconds_since(start);
              r.logical_bytes += series_.bytes(i, v);
              r.data_bytes += series_.data_bytes(i, v);
              return {};
            },
            "backup");
      }
    }
    each(
        [&](Tool& tool, ToolResult& r) -> Status {
          if (Status st = tool.settle(); !st) return st;
          r.stored_bytes = allocated_bytes(tool.repository());
          return {};
        },
        "settle");
    const std::string out_dir = work + "/restore";
    std::vector<double> seconds(tools_.size());
    for (std::uint32_t v = versions; v >= 1; --v) {
      std::fill(seconds.begin(), seconds.end(), 0.0);
      std::uint64_t bytes = 0;
      for (std::uint32_t i = 0; i < images; ++i) {
        each(
            [&](Tool& tool, ToolResult&) -> Status {
              progress(tool.name() + ": restoring version " + std::to_string(v) + " of image " +
                       std::to_string(i));
              fs::remove_all(out_dir);
              fs::create_directories(out_dir);
              settle_disk();
              const auto start = std::chrono::steady_clock::now();
              auto restored = tool.restore(file_of(data_, i, v), i, v, out_dir);
              seconds[index_of(tool)] += seconds_since(start);
              if (!restored) return restored.error();
              if (!same_file(*restored, file_of(data_, i, v))) {
                return make_error(Errc::corrupt, "vm" + std::to_string(i) + " version " +
                                                     std::to_string(v) + " came back different");
              }
              return {};
            },
            "restore");
        bytes += series_.bytes(i, v);
      }
      for (std::size_t t = 0; t < tools_.size(); ++t)
        results_[t].restore_mbs.push_back(mb_per_s(bytes, seconds[t]));
    }
    fs::remove_all(out_dir);
    for (std::size_t t = 0; t < tools_.size(); ++t) {
      results_[t].chain = tools_[t]->chain();
      tools_[t]->stop();
    }
    progress("");
    return results_;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::size_t index_of(const Tool& tool) const {
    for (std::size_t t = 0; t < tools_.size(); ++t) {
      if (tools_[t].get() == &tool) return t;
    }
    DOPPEL_ASSERT_MSG(false, "not a tool of this contest");
    return 0;
  }
  // One step for every tool still in the contest, the first one rotating; a tool that fails is
  // out (its result says why) and the others go on.
  void each(const std::function<Status(Tool&, ToolResult&)>& step, const std::string& what) {
    const std::size_t n = tools_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t t = (turn_ + k) % n;
      if (!results_[t].error.empty()) continue;
      if (Status st = step(*tools_[t], results_[t]); !st) {
        results_[t].error = what + ": " + st.error().message();
        tools_[t]->stop();
      }
    }
    ++turn_;
  }

  std::vector<std::unique_ptr<Tool>> tools_;
  const properties::dedup::ImageSeries& series_;
  std::string data_;
  std::vector<ToolResult> results_;
  std::size_t turn_ = 0;
};

// 1 - repository bytes / bytes of all versions in blocks that are not all zero.
double data_saving(const ToolResult& r) {
  return r.data_bytes == 0
             ? 0.0
             : 1.0 - static_cast<double>(r.stored_bytes) / static_cast<double>(r.data_bytes);
}

void print_table(const std::vector<ToolResult>& results, std::uint32_t versions) {
  std::printf("%-8s %9s %11s %11s", "tool", "saving %", "of data %", "backup MB/s");
  for (std::uint32_t v = versions; v >= 1; --v)
    std::printf(" %7s", ("v" + std::to_string(v) + " MB/s").c_str());
  std::printf(" %6s\n", "chain");
  for (const ToolResult& r : results) {
    if (!r.error.empty()) {
      std::printf("%-8s failed: %s\n", r.tool.c_str(), r.error.c_str());
      continue;
    }
    const double saving =
        100.0 * (1.0 - static_cast<double>(r.stored_bytes) / static_cast<double>(r.logical_bytes));
    std::printf("%-8s %9.2f %11.2f %11.1f", r.tool.c_str(), saving, 100.0 * data_saving(r),
                mb_per_s(r.logical_bytes, r.backup_seconds));
    for (double mbs : r.restore_mbs) std::printf(" %7.1f", mbs);
    if (r.chain >= 0) {
      std::printf(" %6lld\n", static_cast<long long>(r.chain));
    } else {
      std::printf(" %6s\n", "-");
    }
  }
}

// The goals of the series (README): on the versions series, at least restic's space saving; on
// a fleet, within one point of it on the non-zero data, and the oldest restore at least restic's.
void print_goals(const std::vector<ToolResult>& results, bool fleet) {
  const ToolResult* d = nullptr;
  const ToolResult* restic = nullptr;
  for (const ToolResult& r : results) {
    if (!r.error.empty()) continue;
    if (r.tool == "doppel") d = &r;
    if (r.tool == "restic") restic = &r;
  }
  if (d == nullptr) return;
  const auto saving = [](const ToolResult& r) {
    return 1.0 - static_cast<double>(r.stored_bytes) / static_cast<double>(r.logical_bytes);
  };
  const auto line = [](const char* goal, bool met, double ours, double theirs, const char* unit) {
    std::printf("  %-48s %s (%.2f%s vs %.2f%s)\n", goal, met ? "met" : "NOT met", ours, unit,
                theirs, unit);
  };
  std::printf("\ngoals:\n");
  if (restic != nullptr) {
    if (fleet) {
      line("space saving of data within 1 point of restic's",
           data_saving(*d) >= data_saving(*restic) - 0.01, 100 * data_saving(*d),
           100 * data_saving(*restic) - 1, "%");
    } else {
      line("space saving at least restic's", saving(*d) >= saving(*restic), 100 * saving(*d),
           100 * saving(*restic), "%");
    }
    const double b = mb_per_s(d->logical_bytes, d->backup_seconds);
    const double rb = mb_per_s(restic->logical_bytes, restic->backup_seconds);
    line("backup at least 2x restic", b >= 2 * rb, b, 2 * rb, " MB/s");
    line("latest restore at least 2x restic",
         d->restore_mbs.front() >= 2 * restic->restore_mbs.front(), d->restore_mbs.front(),
         2 * restic->restore_mbs.front(), " MB/s");
    if (fleet) {
      line("oldest restore at least restic's", d->restore_mbs.back() >= restic->restore_mbs.back(),
           d->restore_mbs.back(), restic->restore_mbs.back(), " MB/s");
    }
  }
  line("oldest restore within 2x of the latest",
       2 * d->restore_mbs.back() >= d->restore_mbs.front(), d->restore_mbs.back(),
       d->restore_mbs.front() / 2, " MB/s");
}

int cmd_bench_dedup(const Args& a) {
  properties::dedup::ImageSeriesOptions o;
  if (a.series == "fleet") {
    o = properties::dedup::fleet_series(a.seed, a.images, a.versions, a.image_mb << 20);
  } else {
    o.seed = a.seed;
    o.images = a.images;
    o.versions = a.versions;
    o.image_bytes = a.image_mb << 20;
  }
  if (a.run_blocks > 0) o.run_blocks_max = a.run_blocks;
  if (Status s = properties::dedup::check_image_series_options(o); !s)
    return usage_error("bench dedup: " + s.error().message());
  std::vector<std::string> names;
  std::stringstream list(a.tools);
  for (std::string t; std::getline(list, t, ',');) {
    if (make_tool(t, "") == nullptr)
      return usage_error("bench dedup: --tools: unknown tool '" + t + "' (doppel, restic, borg)");
    names.push_back(t);
  }
  std::string root = a.dir;
  const bool made_root = root.empty();
  if (made_root) {
    char tmpl[] = "/var/tmp/doppel-bench-dedup-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      return usage_error(std::string("bench dedup: mkdtemp: ") + std::strerror(errno));
    root = tmpl;
  }
  std::error_code ec;
  root = fs::absolute(root, ec).string();  // restic restores files under their absolute paths
  fs::create_directories(root + "/data", ec);
  if (ec) return usage_error("bench dedup: " + root + ": " + ec.message());
  const properties::dedup::ImageSeries series(o);
  std::printf(
      "doppel bench dedup: %s series, %u images x %u versions of %llu MiB (%.2f GiB in all), "
      "seed %llu, in %s\n%s\n",
      a.series.c_str(), a.images, a.versions, static_cast<unsigned long long>(a.image_mb),
      static_cast<double>(series.total_bytes()) / (1ull << 30),
      static_cast<unsigned long long>(a.seed), root.c_str(),
      properties::dedup::describe(o).c_str());
  std::fflush(stdout);
  if (Status s = write_series(series, root + "/data"); !s) {
    std::fprintf(stderr, "doppel: bench dedup: %s\n", s.error().message().c_str());
    return kExitFailed;
  }
  std::vector<std::unique_ptr<Tool>> tools;
  for (const std::string& name : names) {
    fs::create_directories(root + "/" + name);
    tools.push_back(make_tool(name, root + "/" + name));
  }
  const std::vector<ToolResult> results =
      Contest(std::move(tools), series, root + "/data").run(root);
  if (!a.keep) {
    for (const std::string& name : names) fs::remove_all(root + "/" + name, ec);
  }
  std::printf(
      "\nsaving = 1 - repository bytes on disk / bytes of all versions (of data: / their bytes in "
      "blocks not all zero); MB/s = 10^6 bytes of images per wall second, one command per image "
      "and version; restores from the latest "
      "version to the oldest; chain = the longest chain of indirect references a restore "
      "followed\n\n");
  print_table(results, a.versions);
  print_goals(results, a.series == "fleet");
  if (!a.keep) {  // only what we made
    fs::remove_all(root + "/data", ec);
    if (made_root) fs::remove_all(root, ec);
  }
  bool failed = false;
  for (const ToolResult& r : results) failed |= !r.error.empty();
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

void add_bench_dedup(CLI::App& bench, Commands& commands) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = bench.add_subcommand("dedup",
                                       "RevDedup vs restic and borg on a generated VM-image "
                                       "series: space, backup and restore speed");
  cmd->add_option("--images", a->images, "Images cloned from one master (default 5)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--versions", a->versions, "Weekly versions of each image (default 8)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--image-mb", a->image_mb, "Size of version 1 of each image, MiB (default 256)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--seed", a->seed, "Seed of the series (default 1)");
  cmd->add_option("--series", a->series,
                  "versions: weekly edits in runs of up to 64 blocks (the paper's kind); fleet: "
                  "clones diverging by short scattered runs (default versions)")
      ->check(CLI::IsMember({"versions", "fleet"}));
  cmd->add_option("--run-blocks", a->run_blocks,
                  "Rewritten runs are 1 to this many 4 KiB blocks (default: the series' own, 64 "
                  "for versions, 4 for fleet)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--tools", a->tools, "Comma list of doppel, restic, borg (default all three)");
  cmd->add_option("--dir", a->dir,
                  "Where the series and repositories go (default a new /var/tmp directory)");
  cmd->add_flag("--keep", a->keep, "Keep the series and repositories afterwards");
  cmd->callback([&commands, a] { commands.action = [a] { return cmd_bench_dedup(*a); }; });
}

}  // namespace doppel::cli

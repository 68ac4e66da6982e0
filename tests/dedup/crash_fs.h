#pragma once
// A FileSystem decorator for crash tests: it counts the operations that
// change the disk (creating opens, writes, syncs, punches, truncates,
// renames, removes, directory changes) and, at the chosen one, stops before
// doing it and raises a flag, so that the test can crash the node exactly
// there. The crash itself is the simulator's (sim/disk.h): unsynced writes
// are kept, lost or torn, and only a prefix of the unsynced name changes
// survives.
//
// Two ways to stop: `park` parks the calling fiber until the crash unwinds
// it (with Cancelled, through the store's frames, as a real crash of the
// node would); `fail` fails that operation and every later one with EIO
// and without effect, so the store's calls return and the node crashes with
// no fiber inside the store. AddressSanitizer cannot follow exceptions
// across Boost.Context stack switches (google/sanitizers#189: it reports
// stale stack poison during the unwinding), so sanitizer builds use `fail`.

#include <cstdint>
#include <limits>
#include <memory>

#include "runtime/fs.h"
#include "runtime/runtime.h"

namespace doppel::dedup::test {

enum class StopMode : std::uint8_t { park, fail };

class CrashFs final : public FileSystem {
 public:
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  CrashFs(Runtime& rt, FileSystem& inner, std::uint64_t stop_at, StopMode mode, bool& stopped)
      : rt_(rt), inner_(inner), stop_at_(stop_at), mode_(mode), stopped_(stopped) {}

  std::uint64_t operations() const { return count_; }
  // The disk works again (after a stop in fail mode): a disk error that passed.
  void heal() {
    stopped_ = false;
    stop_at_ = kNever;
  }

  // Before each operation that changes the disk: false once stopped (fail mode).
  bool step() {
    if (stopped_) return false;
    if (count_++ != stop_at_) return true;
    stopped_ = true;
    if (mode_ == StopMode::park) {
      rt_.sleep(Duration(std::int64_t{1} << 62));  // until the crash unwinds this fiber
    }
    return false;
  }
  // Before each operation that only reads.
  bool alive() const { return !stopped_; }
  static Error gone() { return make_error(Errc::io_error, "crash point: the disk is gone"); }

  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override;
  Status rename(std::string_view from, std::string_view to) override {
    return step() ? inner_.rename(from, to) : gone();
  }
  Status remove(std::string_view path) override { return step() ? inner_.remove(path) : gone(); }
  Status make_dir(std::string_view path) override {
    return step() ? inner_.make_dir(path) : gone();
  }
  Result<std::vector<std::string>> list(std::string_view dir) override {
    if (!alive()) return gone();
    return inner_.list(dir);
  }
  Status sync_dir(std::string_view dir) override { return step() ? inner_.sync_dir(dir) : gone(); }

 private:
  Runtime& rt_;
  FileSystem& inner_;
  std::uint64_t stop_at_;
  StopMode mode_;
  bool& stopped_;
  std::uint64_t count_ = 0;
};

class CrashFile final : public File {
 public:
  CrashFile(CrashFs& fs, std::unique_ptr<File> inner) : fs_(fs), inner_(std::move(inner)) {}
  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    if (!fs_.alive()) return CrashFs::gone();
    return inner_->pread(into, offset);
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    return fs_.step() ? inner_->pwrite(bytes, offset) : CrashFs::gone();
  }
  Status datasync() override { return fs_.step() ? inner_->datasync() : CrashFs::gone(); }
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    return fs_.step() ? inner_->punch_hole(offset, length) : CrashFs::gone();
  }
  Status truncate(std::uint64_t size) override {
    return fs_.step() ? inner_->truncate(size) : CrashFs::gone();
  }
  Result<std::uint64_t> size() override {
    if (!fs_.alive()) return CrashFs::gone();
    return inner_->size();
  }

 private:
  CrashFs& fs_;
  std::unique_ptr<File> inner_;
};

inline Result<std::unique_ptr<File>> CrashFs::open(std::string_view path, OpenOptions options) {
  if ((options.create || options.truncate) ? !step() : !alive()) return gone();
  Result<std::unique_ptr<File>> f = inner_.open(path, options);
  if (!f) return f.error();
  return std::unique_ptr<File>(new CrashFile(*this, std::move(*f)));
}

}  // namespace doppel::dedup::test

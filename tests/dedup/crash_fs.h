#pragma once
// A FileSystem decorator for crash tests: it counts the operations that
// change the disk (creating opens, writes, syncs, punches, truncates,
// renames, removes, directory changes) and, at the chosen one, stops the
// calling fiber before doing it and raises a flag, so that the test can
// crash the node exactly there. The crash itself is the simulator's
// (sim/disk.h): unsynced writes are kept, lost or torn, and only a prefix of
// the unsynced name changes survives.

#include <cstdint>
#include <limits>
#include <memory>

#include "runtime/fs.h"
#include "runtime/runtime.h"

namespace doppel::dedup::test {

class CrashFs final : public FileSystem {
 public:
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  CrashFs(Runtime& rt, FileSystem& inner, std::uint64_t stop_at, bool& stopped)
      : rt_(rt), inner_(inner), stop_at_(stop_at), stopped_(stopped) {}

  std::uint64_t operations() const { return count_; }

  // Called before each operation that changes the disk.
  void step() {
    if (count_++ != stop_at_) return;
    stopped_ = true;
    rt_.sleep(Duration(std::int64_t{1} << 62));  // until the crash unwinds this fiber
  }

  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override;
  Status rename(std::string_view from, std::string_view to) override {
    step();
    return inner_.rename(from, to);
  }
  Status remove(std::string_view path) override {
    step();
    return inner_.remove(path);
  }
  Status make_dir(std::string_view path) override {
    step();
    return inner_.make_dir(path);
  }
  Result<std::vector<std::string>> list(std::string_view dir) override { return inner_.list(dir); }
  Status sync_dir(std::string_view dir) override {
    step();
    return inner_.sync_dir(dir);
  }

 private:
  Runtime& rt_;
  FileSystem& inner_;
  std::uint64_t stop_at_;
  bool& stopped_;
  std::uint64_t count_ = 0;
};

class CrashFile final : public File {
 public:
  CrashFile(CrashFs& fs, std::unique_ptr<File> inner) : fs_(fs), inner_(std::move(inner)) {}
  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    return inner_->pread(into, offset);
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    fs_.step();
    return inner_->pwrite(bytes, offset);
  }
  Status datasync() override {
    fs_.step();
    return inner_->datasync();
  }
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    fs_.step();
    return inner_->punch_hole(offset, length);
  }
  Status truncate(std::uint64_t size) override {
    fs_.step();
    return inner_->truncate(size);
  }
  Result<std::uint64_t> size() override { return inner_->size(); }

 private:
  CrashFs& fs_;
  std::unique_ptr<File> inner_;
};

inline Result<std::unique_ptr<File>> CrashFs::open(std::string_view path, OpenOptions options) {
  if (options.create || options.truncate) step();
  Result<std::unique_ptr<File>> f = inner_.open(path, options);
  if (!f) return f.error();
  return std::unique_ptr<File>(new CrashFile(*this, std::move(*f)));
}

}  // namespace doppel::dedup::test

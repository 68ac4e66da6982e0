#pragma once
// The store's few ways of touching files, over the runtime's FileSystem, with
// a budget of open files (kOpenFilesMax: a file is opened for one operation
// and closed at its end, never kept). Its BUGGIFY sites make the disk slow and
// its reads short where the store's paths depend on them.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/store/options.h"
#include "runtime/fs.h"
#include "runtime/runtime.h"

namespace doppel::dedup {

class FileIo;

// An open file that gives its slot in the budget back when it closes.
class OpenFile {
 public:
  OpenFile(FileIo& io, std::unique_ptr<File> file);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  File* operator->() { return file_.get(); }

 private:
  FileIo& io_;
  std::unique_ptr<File> file_;
};

class FileIo {
 public:
  FileIo(Runtime& rt, FileSystem& fs) : rt_(rt), fs_(fs) {}

  Runtime& runtime() { return rt_; }
  FileSystem& fs() { return fs_; }
  std::size_t open_files() const { return open_files_; }

  Result<std::unique_ptr<OpenFile>> open_file(std::string_view path, OpenOptions options);
  // The whole file; too_large past bytes_max, not_found if missing.
  Result<std::string> read_all(std::string_view path, std::uint64_t bytes_max);
  // The first bytes of a file, up to `bytes` (fewer if it is shorter).
  Result<std::string> read_prefix(std::string_view path, std::size_t bytes);
  // Exactly into.size() bytes at offset; corrupt if the file is shorter.
  Status read_exact(OpenFile& file, std::span<char> into, std::uint64_t offset);
  // Creates or truncates `path`, writes `bytes`, datasyncs. The name is not
  // durable until the caller syncs its directory.
  Status write_synced(std::string_view path, std::string_view bytes);
  // not_found counts as done: these are the idempotent steps of replay.
  Status remove_if_present(std::string_view path);
  // true if renamed, false if `from` was not there.
  Result<bool> rename_if_present(std::string_view from, std::string_view to);
  Status punch_if_present(std::string_view path, std::uint64_t offset, std::uint64_t length);
  Status datasync_if_present(std::string_view path);

  // Sleeps 1 ms to `max` if `site` fires: the disk is slower than usual
  // (the store's BUGGIFY sites on its paths to the disk).
  void stall(const BuggifySite& site, Duration max);

 private:
  friend class OpenFile;
  Runtime& rt_;
  FileSystem& fs_;
  std::size_t open_files_ = 0;
};

}  // namespace doppel::dedup

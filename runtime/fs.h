#pragma once
// The disk seen by components: a directory tree rooted at the node's data
// directory. Paths are relative, '/'-separated, without "." or ".." parts.
// Durability is explicit: data is durable after File::datasync(), a name
// (create, rename, remove) after FileSystem::sync_dir() of its directory.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"

namespace doppel {

class File {
 public:
  virtual ~File() = default;
  // Reads up to into.size() bytes at offset; fewer only at end of file.
  virtual Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) = 0;
  virtual Status pwrite(std::string_view bytes, std::uint64_t offset) = 0;
  virtual Status datasync() = 0;
  // Frees the range; it reads back as zeros; the size does not change.
  virtual Status punch_hole(std::uint64_t offset, std::uint64_t length) = 0;
  virtual Status truncate(std::uint64_t size) = 0;
  virtual Result<std::uint64_t> size() = 0;
};

struct OpenOptions {
  bool create = false;     // create if missing
  bool exclusive = false;  // with create: fail with Errc::exists if present
  bool truncate = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) = 0;
  virtual Status rename(std::string_view from, std::string_view to) = 0;  // atomic, replaces
  virtual Status remove(std::string_view path) = 0;
  virtual Status make_dir(std::string_view path) = 0;                       // ok if it exists
  virtual Result<std::vector<std::string>> list(std::string_view dir) = 0;  // sorted names
  virtual Status sync_dir(std::string_view dir) = 0;
};

// Splits "a/b/c" into its directory "a/b" ("" for the root) and name "c".
// Returns false for a path that is empty, absolute, or has "", "." or ".." parts.
bool split_path(std::string_view path, std::string_view& dir, std::string_view& name);

}  // namespace doppel

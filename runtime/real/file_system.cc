// The real disk: a directory tree under the node's data directory, with
// every operation relative to an open directory descriptor (openat and
// friends), so a path can never escape the root.

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "runtime/real/core.h"
#include "runtime/real/real_runtime.h"

namespace doppel::real {

class RealFileSystem final : public FileSystem {
 public:
  explicit RealFileSystem(int root) : root_(root) {}
  ~RealFileSystem() override { ::close(root_); }

  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override;
  Status rename(std::string_view from, std::string_view to) override;
  Status remove(std::string_view path) override;
  Status make_dir(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view dir) override;
  Status sync_dir(std::string_view dir) override;

 private:
  int root_;
};

namespace {

Status check(std::string_view path) {
  std::string_view dir, name;
  if (!split_path(path, dir, name)) {
    return make_error(Errc::invalid_argument, "bad path '" + std::string(path) + "'");
  }
  return {};
}

Reactor* reactor_here() {
  Core* c = Core::current();
  return c == nullptr ? nullptr : &c->reactor();
}

class RealFile final : public File {
 public:
  RealFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~RealFile() override { ::close(fd_); }

  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    std::size_t done = 0;
    while (done < into.size()) {
      Result<std::size_t> n = reactor_here()
                                  ? reactor_here()->pread(fd_, into.subspan(done), offset + done)
                                  : sync_pread(into.subspan(done), offset + done);
      if (!n) return make_error(n.code(), path_ + ": " + n.error().what);
      if (*n == 0) break;
      done += *n;
    }
    return done;
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    Status s =
        reactor_here() ? reactor_here()->pwrite(fd_, bytes, offset) : sync_pwrite(bytes, offset);
    if (!s) return make_error(s.code(), path_ + ": " + s.error().what);
    return {};
  }
  Status datasync() override {
    Status s = reactor_here()
                   ? reactor_here()->fdatasync(fd_)
                   : (::fdatasync(fd_) == 0 ? Status{} : Status(errno_error(errno, "fdatasync")));
    if (!s) return make_error(s.code(), path_ + ": " + s.error().what);
    return {};
  }
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    Status s =
        reactor_here()
            ? reactor_here()->fallocate(fd_, mode, offset, length)
            : (::fallocate(fd_, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0
                   ? Status{}
                   : Status(errno_error(errno, "fallocate")));
    if (!s) return make_error(s.code(), path_ + ": punch_hole: " + s.error().what);
    return {};
  }
  Status truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return errno_error(errno, path_ + ": truncate");
    return {};
  }
  Result<std::uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_error(errno, path_ + ": stat");
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  Result<std::size_t> sync_pread(std::span<char> into, std::uint64_t offset) {
    for (;;) {
      const ssize_t n = ::pread(fd_, into.data(), into.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return errno_error(errno, "pread");
    }
  }
  Status sync_pwrite(std::string_view bytes, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error(errno, "pwrite");
      }
      done += static_cast<std::size_t>(n);
    }
    return {};
  }
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<File>> RealFileSystem::open(std::string_view path, OpenOptions options) {
  if (Status s = check(path); !s) return s.error();
  int flags = O_RDWR | O_CLOEXEC;
  if (options.create) flags |= O_CREAT;
  if (options.create && options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  const std::string p(path);
  const int fd = ::openat(root_, p.c_str(), flags, 0644);
  if (fd < 0) return errno_error(errno, p);
  return std::unique_ptr<File>(new RealFile(fd, p));
}

Status RealFileSystem::rename(std::string_view from, std::string_view to) {
  if (Status s = check(from); !s) return s;
  if (Status s = check(to); !s) return s;
  const std::string f(from), t(to);
  if (::renameat(root_, f.c_str(), root_, t.c_str()) != 0)
    return errno_error(errno, "rename " + f + " " + t);
  return {};
}

Status RealFileSystem::remove(std::string_view path) {
  if (Status s = check(path); !s) return s;
  const std::string p(path);
  // Through the core's reactor when there is one: unlinking a large file waits on the disk.
  const auto unlink = [&](int flags) -> Status {
    if (Reactor* r = reactor_here()) return r->unlink(root_, p, flags);
    return ::unlinkat(root_, p.c_str(), flags) == 0 ? Status{}
                                                    : Status(errno_error(errno, "unlink"));
  };
  Status s = unlink(0);
  struct stat st {};
  if (!s && ::fstatat(root_, p.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    s = unlink(AT_REMOVEDIR);
  }
  if (!s) return make_error(s.code(), "remove " + p + ": " + s.error().what);
  return {};
}

Status RealFileSystem::make_dir(std::string_view path) {
  if (Status s = check(path); !s) return s;
  const std::string p(path);
  if (::mkdirat(root_, p.c_str(), 0755) == 0) return {};
  if (errno == EEXIST) {
    struct stat st {};
    if (::fstatat(root_, p.c_str(), &st, 0) == 0 && S_ISDIR(st.st_mode)) return {};
    return make_error(Errc::exists, "a file is there: " + p);
  }
  return errno_error(errno, "mkdir " + p);
}

Result<std::vector<std::string>> RealFileSystem::list(std::string_view dir) {
  if (!dir.empty()) {
    if (Status s = check(dir); !s) return s.error();
  }
  const std::string d = dir.empty() ? "." : std::string(dir);
  const int fd = ::openat(root_, d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "list " + d);
  DIR* dp = ::fdopendir(fd);
  if (dp == nullptr) {
    ::close(fd);
    return errno_error(errno, "list " + d);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dp)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dp);
  std::sort(names.begin(), names.end());
  return names;
}

Status RealFileSystem::sync_dir(std::string_view dir) {
  if (!dir.empty()) {
    if (Status s = check(dir); !s) return s;
  }
  const std::string d = dir.empty() ? "." : std::string(dir);
  const int fd = ::openat(root_, d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "sync_dir " + d);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error(err, "sync_dir " + d);
  return {};
}

std::unique_ptr<FileSystem> make_real_file_system(const std::string& root, Status* status) {
  // mkdir -p: every missing parent too.
  for (std::size_t slash = root.find('/', 1);; slash = root.find('/', slash + 1)) {
    ::mkdir(root.substr(0, slash).c_str(), 0755);
    if (slash == std::string::npos) break;
  }
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *status = errno_error(errno, "data directory " + root);
    return nullptr;
  }
  *status = {};
  return std::make_unique<RealFileSystem>(fd);
}

}  // namespace doppel::real

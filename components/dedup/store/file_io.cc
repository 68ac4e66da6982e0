#include "components/dedup/store/file_io.h"

namespace doppel::dedup {
namespace {

// BUGGIFY sites of the store's disk (runtime/buggify.h).
const BuggifySite kShortRead{"dedup.file.short_read",
                             "a read of a store file returns at most 4000 bytes"};
const BuggifySite kSlowSync{"dedup.file.slow_sync",
                            "a synced write (metadata, recipe, intent) takes up to 300 ms more"};

constexpr std::int64_t kShortReadBytesMax = 4000;
constexpr Duration kSlowSyncMax = std::chrono::milliseconds(300);

}  // namespace

void FileIo::stall(const BuggifySite& site, Duration max) {
  (void)buggify_sleep(rt_, site, max);
}

OpenFile::OpenFile(FileIo& io, std::unique_ptr<File> file) : io_(io), file_(std::move(file)) {
  ++io_.open_files_;
  DOPPEL_ASSERT_MSG(io_.open_files_ <= kOpenFilesMax, "dedup store: open-file budget exceeded");
}

OpenFile::~OpenFile() {
  DOPPEL_ASSERT(io_.open_files_ > 0);
  --io_.open_files_;
}

Result<std::unique_ptr<OpenFile>> FileIo::open_file(std::string_view path, OpenOptions options) {
  Result<std::unique_ptr<File>> f = fs_.open(path, options);  // FileSystem::open, not open(2)
  if (!f) return f.error();
  return std::make_unique<OpenFile>(*this, std::move(*f));
}

Status FileIo::read_exact(OpenFile& file, std::span<char> into, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < into.size()) {
    std::span<char> rest = into.subspan(done);
    if (buggify(rt_, kShortRead)) {
      rest = rest.first(std::min(
          rest.size(), static_cast<std::size_t>(rt_.random().between(1, kShortReadBytesMax))));
    }
    Result<std::size_t> n = file->pread(rest, offset + done);
    if (!n) return n.error();
    if (*n == 0) return make_error(Errc::corrupt, "file shorter than expected");
    done += *n;
  }
  return {};
}

Result<std::string> FileIo::read_all(std::string_view path, std::uint64_t bytes_max) {
  Result<std::unique_ptr<OpenFile>> f = open_file(path, OpenOptions{});
  if (!f) return f.error();
  Result<std::uint64_t> size = (**f)->size();
  if (!size) return size.error();
  if (*size > bytes_max) {
    return make_error(Errc::too_large, std::string(path) + ": " + std::to_string(*size) +
                                           " bytes, more than " + std::to_string(bytes_max));
  }
  std::string out(static_cast<std::size_t>(*size), '\0');
  if (Status s = read_exact(**f, out, 0); !s) {
    return make_error(s.code(), std::string(path) + ": " + s.error().what);
  }
  return out;
}

Result<std::string> FileIo::read_prefix(std::string_view path, std::size_t bytes) {
  Result<std::unique_ptr<OpenFile>> f = open_file(path, OpenOptions{});
  if (!f) return f.error();
  std::string out(bytes, '\0');
  std::size_t done = 0;
  while (done < bytes) {
    Result<std::size_t> n = (**f)->pread(std::span<char>(out).subspan(done), done);
    if (!n) return n.error();
    if (*n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

Status FileIo::write_synced(std::string_view path, std::string_view bytes) {
  Result<std::unique_ptr<OpenFile>> f =
      open_file(path, OpenOptions{.create = true, .truncate = true});
  if (!f) return f.error();
  if (!bytes.empty()) {
    if (Status s = (**f)->pwrite(bytes, 0); !s) return s;
  }
  if (Status s = (**f)->datasync(); !s) return s;
  stall(kSlowSync, kSlowSyncMax);
  return {};
}

Status FileIo::remove_if_present(std::string_view path) {
  Status s = fs_.remove(path);
  if (!s && s.code() == Errc::not_found) return {};
  return s;
}

Result<bool> FileIo::rename_if_present(std::string_view from, std::string_view to) {
  Status s = fs_.rename(from, to);
  if (s) return true;
  if (s.code() == Errc::not_found) return false;
  return s.error();
}

Status FileIo::punch_if_present(std::string_view path, std::uint64_t offset, std::uint64_t length) {
  Result<std::unique_ptr<OpenFile>> f = open_file(path, OpenOptions{});
  if (!f) return f.code() == Errc::not_found ? Status() : Status(f.error());
  return (**f)->punch_hole(offset, length);
}

Status FileIo::datasync_if_present(std::string_view path) {
  Result<std::unique_ptr<OpenFile>> f = open_file(path, OpenOptions{});
  if (!f) return f.code() == Errc::not_found ? Status() : Status(f.error());
  return (**f)->datasync();
}

}  // namespace doppel::dedup

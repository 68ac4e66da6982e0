#include "tests/planted/decorated_bugs.h"

#include "runtime/wrapper.h"

namespace doppel::testing {
namespace {

class LyingSyncFile final : public FileWrapper {
 public:
  using FileWrapper::FileWrapper;
  Status datasync() override { return {}; }
};

class LyingSyncFileSystem final : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override {
    auto f = target().open(path, options);
    if (!f) return f.error();
    return std::unique_ptr<File>(new LyingSyncFile(std::move(*f)));
  }
  Status sync_dir(std::string_view) override { return {}; }
};

class LyingSyncRuntime final : public RuntimeWrapper {
 public:
  explicit LyingSyncRuntime(Runtime& target) : RuntimeWrapper(target), fs_(target.fs()) {}
  FileSystem& fs() override { return fs_; }

 private:
  LyingSyncFileSystem fs_;
};

}  // namespace

void add_decorated_bugs(scenarios::Registry& registry) {
  registry.add_decorated_bug("dedup", "syncs-lie", [](Runtime& rt) -> std::unique_ptr<Runtime> {
    return std::make_unique<LyingSyncRuntime>(rt);
  });
}

}  // namespace doppel::testing

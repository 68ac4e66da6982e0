#include "components/dvv/store/checked_file.h"

#include <cstdint>
#include <cstring>

#include "components/dvv/store/wire.h"

namespace doppel::dvv {

Status save_checked_file(FileSystem& fs, std::string_view temp, std::string_view name,
                         std::string_view bytes) {
  auto f = fs.open(temp, OpenOptions{.create = true, .truncate = true});
  if (!f) return f.error();
  std::string out(4, '\0');
  const std::uint32_t crc = crc32c(bytes);
  std::memcpy(out.data(), &crc, 4);
  out += bytes;
  if (Status s = (*f)->pwrite(out, 0); !s) return s;
  if (Status s = (*f)->datasync(); !s) return s;
  if (Status s = fs.rename(temp, name); !s) return s;
  return fs.sync_dir("");
}

Result<std::string> load_checked_file(FileSystem& fs, std::string_view name) {
  auto f = fs.open(name, OpenOptions{});
  if (!f) return f.error();
  auto size = (*f)->size();
  if (!size) return size.error();
  std::string bytes(*size, '\0');
  auto n = (*f)->pread(bytes, 0);
  if (!n) return n.error();
  return checked_file_bytes(bytes, name);
}

Result<std::string> checked_file_bytes(std::string_view file, std::string_view name) {
  std::uint32_t crc = 0;
  if (file.size() < 4) return make_error(Errc::corrupt, std::string(name) + ": too short");
  std::memcpy(&crc, file.data(), 4);
  if (crc32c(file.substr(4)) != crc) {
    return make_error(Errc::corrupt, std::string(name) + ": checksum");
  }
  return std::string(file.substr(4));
}

}  // namespace doppel::dvv

#include "components/access/users.h"

#include <crypt.h>

#include <cstring>
#include <memory>

#include "components/access/hmac.h"

namespace doppel::access {
namespace {

bool is_bcrypt(std::string_view hash) {
  return hash.size() == 60 &&
         (hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$"));
}

// crypt_r's answer for `password` under `setting` (a whole hash: its salt and cost), or "".
std::string crypt_of(std::string_view password, const std::string& setting) {
  // crypt_data is large (32 KiB): on the heap, not a fiber's stack.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting.c_str(), data.get());
  // libxcrypt fails with a string starting with '*', never a null, but be sure.
  if (out == nullptr || out[0] == '*') return "";
  return out;
}

// What an unknown user's password is checked against: a cost-5 hash of nothing in particular.
const std::string kDecoyHash = "$2b$05$KBCwKxOzLha2MUDgW0PjXeGy8zDyKFegpVV4y0qPBUgij10WNyKY6";

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > Users::kNameBytesMax) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Users> Users::parse(std::string_view text, std::string_view source) {
  if (text.size() > kFileBytesMax) {
    return make_error(Errc::too_large, std::string(source) + ": larger than " +
                                           std::to_string(kFileBytesMax >> 20) + " MiB");
  }
  Users users;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto error = [&](const std::string& what) {
      return make_error(Errc::invalid_argument,
                        std::string(source) + ":" + std::to_string(line_no) + ": " + what);
    };
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error("expected name:hash");
    const std::string_view name = line.substr(0, colon), hash = line.substr(colon + 1);
    if (!valid_user_name(name)) {
      return error("a user name is 1 to " + std::to_string(kNameBytesMax) +
                   " bytes of A-Z a-z 0-9 _ -");
    }
    if (!is_bcrypt(hash)) {
      return error("user '" + std::string(name) +
                   "': only bcrypt hashes are accepted (make them with htpasswd -B)");
    }
    if (users.hashes_.size() >= kUsersMax) {
      return error("more than " + std::to_string(kUsersMax) + " users");
    }
    if (!users.hashes_.emplace(std::string(name), std::string(hash)).second) {
      return error("user '" + std::string(name) + "' is listed twice");
    }
  }
  return users;
}

bool Users::check(std::string_view user, std::string_view password) const {
  auto it = hashes_.find(user);
  const std::string& hash = it != hashes_.end() ? it->second : kDecoyHash;
  const std::string computed = crypt_of(password, hash);
  return it != hashes_.end() && !computed.empty() && same_bytes(computed, hash);
}

Result<std::string> bcrypt_hash(std::string_view password, int cost, std::string_view salt) {
  if (cost < 4 || cost > 12 || salt.size() != 16) {
    return make_error(Errc::invalid_argument, "bcrypt: cost 4..12 and 16 bytes of salt");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), salt.data(),
                       static_cast<int>(salt.size()), setting, sizeof setting) == nullptr) {
    return make_error(Errc::invalid_argument, "bcrypt: no salt could be made");
  }
  std::string out = crypt_of(password, setting);
  if (out.empty()) return make_error(Errc::invalid_argument, "bcrypt failed");
  return out;
}

}  // namespace doppel::access

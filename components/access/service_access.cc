#include "components/access/service_access.h"

namespace doppel::access {

ServiceAccess read_service_access(TomlFields& f, const FileReader& read) {
  ServiceAccess out;
  out.insecure = f.boolean("insecure", false);
  if (auto text = f.file("users_file", read)) {
    auto users = Users::parse(*text, f.table()["users_file"].value_or(std::string("users_file")));
    if (!users) {
      f.fail("users_file", users.error().message());
    } else if (users->size() == 0) {
      f.fail("users_file", "lists no users: nobody could get in");
    } else {
      out.users = std::make_shared<const Users>(std::move(*users));
    }
  }
  auto cert = f.file("tls_cert_file", read);
  auto key = f.file("tls_key_file", read);
  if (cert.has_value() != key.has_value() && f.ok()) {
    f.fail(cert ? "tls_cert_file" : "tls_key_file", "tls_cert_file and tls_key_file go together");
  }
  if (cert && key) out.tls = TlsServerKeys{std::move(*cert), std::move(*key)};
  if (auto ca = f.file("tls_ca_file", read)) out.tls_ca_pem = std::move(*ca);
  return out;
}

bool is_loopback(const Endpoint& at) {
  return at.host == "localhost" || at.host == "::1" || at.host.starts_with("127.");
}

Status check_listen(const Endpoint& listen, const ServiceAccess& access, std::string_view table) {
  if (is_loopback(listen) || access.tls || access.insecure) return {};
  const std::string t(table);
  return make_error(Errc::invalid_argument,
                    "listen " + listen.to_string() + " is not a loopback address: set " +
                        "tls_cert_file and tls_key_file in [" + t + "] to serve HTTPS, or " +
                        "insecure = true to serve in the clear (behind a TLS proxy or on a " +
                        "private network)");
}

}  // namespace doppel::access

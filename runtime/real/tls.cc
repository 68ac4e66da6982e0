#include "runtime/real/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <vector>

#include "runtime/sync.h"

namespace doppel::real {

class TlsContext {
 public:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  ~TlsContext() { SSL_CTX_free(ctx_); }
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_;
};

namespace {

constexpr std::size_t kReadBytes = 16u << 10;  // one TLS record at most

// OpenSSL's queued errors as one line (and the queue emptied).
std::string ssl_errors(std::string_view what) {
  std::string out(what);
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : ": ";
    out += buf;
  }
  return out;
}

Result<std::shared_ptr<TlsContext>> new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return make_error(Errc::io_error, ssl_errors("SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  return std::make_shared<TlsContext>(ctx);
}

class TlsStream final : public Stream {
 public:
  TlsStream(Runtime& rt, std::shared_ptr<TlsContext> context, std::unique_ptr<Stream> inner,
            bool server)
      : context_(std::move(context)),
        inner_(std::move(inner)),
        ssl_(SSL_new(context_->get())),
        writing_(rt),
        reading_(rt) {
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in, out);  // the SSL owns both now
    in_ = in;
    out_ = out;
    if (server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
    }
  }
  ~TlsStream() override {
    inner_->close();
    SSL_free(ssl_);
  }

  // Verification of the server's certificate for `name` (client side).
  Status expect_peer(const std::string& name) {
    in_addr v4;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (::inet_pton(AF_INET, name.c_str(), &v4) == 1) {
      if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
        return make_error(Errc::invalid_argument, ssl_errors("TLS: server name " + name));
      }
    } else {
      if (SSL_set1_host(ssl_, name.c_str()) != 1 ||
          SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1) {
        return make_error(Errc::invalid_argument, ssl_errors("TLS: server name " + name));
      }
    }
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
    return {};
  }

  Status handshake(Instant deadline) {
    while (!SSL_is_init_finished(ssl_)) {
      const int r = SSL_do_handshake(ssl_);
      if (r == 1) break;
      if (Status s = after(r, deadline); !s) {
        if (s.code() == Errc::closed) return make_error(Errc::reset, "TLS: the peer closed");
        return make_error(s.code(), "TLS handshake: " + s.error().what);
      }
    }
    return flush(deadline);
  }

  Result<std::size_t> read(std::span<char> into, Instant deadline) override {
    if (Status s = handshake(deadline); !s) return s.error();
    for (;;) {
      const int n = SSL_read(ssl_, into.data(),
                             static_cast<int>(std::min<std::size_t>(into.size(), 1u << 30)));
      if (n > 0) return static_cast<std::size_t>(n);
      if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) return std::size_t{0};
      if (Status s = after(n, deadline); !s) {
        if (s.code() == Errc::closed) return std::size_t{0};  // the plain stream ended
        return s.error();
      }
    }
  }

  Status write(std::string_view bytes, Instant deadline) override {
    if (Status s = handshake(deadline); !s) return s;
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(),
                              static_cast<int>(std::min<std::size_t>(bytes.size(), 1u << 30)));
      if (n <= 0) {
        if (Status s = after(n, deadline); !s) return s;
        continue;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return flush(deadline);
  }

  void close() override { inner_->close(); }
  Endpoint peer() const override { return inner_->peer(); }

 private:
  // After an SSL call returned `r` <= 0: sends what OpenSSL has for the peer, and reads more
  // from the peer if it wants that. Errc::closed when the plain stream ended.
  Status after(int r, Instant deadline) {
    const int e = SSL_get_error(ssl_, r);
    if (Status s = flush(deadline); !s) return s;
    if (e == SSL_ERROR_WANT_WRITE) return {};  // flushed: go on
    if (e != SSL_ERROR_WANT_READ) {
      return make_error(e == SSL_ERROR_SYSCALL ? Errc::reset : Errc::protocol, ssl_errors("TLS"));
    }
    return fill(deadline);
  }

  // Reads from the plain stream into OpenSSL (one reader at a time; a second waits for the
  // first's bytes and returns, as they may be all it needs).
  Status fill(Instant deadline) {
    if (reading_.try_lock()) {
      struct Unlock {
        Mutex& m;
        ~Unlock() { m.unlock(); }
      } unlock{reading_};
      std::vector<char> buf(kReadBytes);
      auto n = inner_->read(buf, deadline);
      if (!n) return n.error();
      if (*n == 0) return make_error(Errc::closed, "the peer closed");
      BIO_write(in_, buf.data(), static_cast<int>(*n));
      return {};
    }
    LockGuard wait(reading_);
    return {};
  }

  // Writes what OpenSSL has for the peer, in its order.
  Status flush(Instant deadline) {
    LockGuard guard(writing_);
    out_buf_.resize(kReadBytes);  // on the heap: fibers' stacks are small
    while (BIO_ctrl_pending(out_) > 0) {
      const int n = BIO_read(out_, out_buf_.data(), static_cast<int>(out_buf_.size()));
      if (n <= 0) break;
      const std::string_view bytes(out_buf_.data(), static_cast<std::size_t>(n));
      if (Status s = inner_->write(bytes, deadline); !s) return s;
    }
    return {};
  }

  std::shared_ptr<TlsContext> context_;
  std::unique_ptr<Stream> inner_;
  SSL* ssl_;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
  Mutex writing_, reading_;
  std::vector<char> out_buf_;  // flush()'s, under writing_
};

class TlsListener final : public Listener {
 public:
  TlsListener(Runtime& rt, std::shared_ptr<TlsContext> context, std::unique_ptr<Listener> inner)
      : rt_(rt), context_(std::move(context)), inner_(std::move(inner)) {}
  Result<std::unique_ptr<Stream>> accept(Instant deadline) override {
    auto s = inner_->accept(deadline);
    if (!s) return s.error();
    return tls_accepted(rt_, context_, std::move(*s));
  }
  void close() override { inner_->close(); }
  Endpoint local() const override { return inner_->local(); }

 private:
  Runtime& rt_;
  std::shared_ptr<TlsContext> context_;
  std::unique_ptr<Listener> inner_;
};

}  // namespace

Result<std::shared_ptr<TlsContext>> tls_server_context(const TlsServerKeys& keys) {
  auto ctx = new_context(TLS_server_method());
  if (!ctx) return ctx.error();
  SSL_CTX* c = (*ctx)->get();
  std::unique_ptr<BIO, decltype(&BIO_free)> certs(
      BIO_new_mem_buf(keys.cert_pem.data(), static_cast<int>(keys.cert_pem.size())), BIO_free);
  X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr || SSL_CTX_use_certificate(c, leaf) != 1) {
    X509_free(leaf);
    return make_error(Errc::invalid_argument, ssl_errors("TLS certificate"));
  }
  X509_free(leaf);
  // The intermediates after it, if any (the context owns each one added).
  while (X509* more = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add_extra_chain_cert(c, more) != 1) {
      X509_free(more);
      return make_error(Errc::invalid_argument, ssl_errors("TLS certificate chain"));
    }
  }
  ERR_clear_error();  // the end of the chain reads as an error
  std::unique_ptr<BIO, decltype(&BIO_free)> key(
      BIO_new_mem_buf(keys.key_pem.data(), static_cast<int>(keys.key_pem.size())), BIO_free);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  const bool used = pkey != nullptr && SSL_CTX_use_PrivateKey(c, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!used) return make_error(Errc::invalid_argument, ssl_errors("TLS key"));
  if (SSL_CTX_check_private_key(c) != 1) {
    return make_error(Errc::invalid_argument, ssl_errors("TLS key does not match the certificate"));
  }
  return ctx;
}

Result<std::shared_ptr<TlsContext>> tls_client_context(const TlsClientTrust& trust) {
  auto ctx = new_context(TLS_client_method());
  if (!ctx) return ctx.error();
  SSL_CTX* c = (*ctx)->get();
  if (trust.ca_pem.empty()) {
    if (SSL_CTX_set_default_verify_paths(c) != 1) {
      return make_error(Errc::invalid_argument, ssl_errors("TLS: the system's CAs"));
    }
    return ctx;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> pem(
      BIO_new_mem_buf(trust.ca_pem.data(), static_cast<int>(trust.ca_pem.size())), BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(c);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(pem.get(), nullptr, nullptr, nullptr)) {
    const bool ok = X509_STORE_add_cert(store, ca) == 1;
    X509_free(ca);
    if (!ok) return make_error(Errc::invalid_argument, ssl_errors("TLS CA"));
    ++added;
  }
  ERR_clear_error();
  if (added == 0) return make_error(Errc::invalid_argument, "TLS CA: no certificate in it");
  return ctx;
}

std::unique_ptr<Stream> tls_accepted(Runtime& rt, std::shared_ptr<TlsContext> context,
                                     std::unique_ptr<Stream> inner) {
  return std::make_unique<TlsStream>(rt, std::move(context), std::move(inner), true);
}

Result<std::unique_ptr<Stream>> tls_connected(Runtime& rt, std::shared_ptr<TlsContext> context,
                                              std::unique_ptr<Stream> inner,
                                              const std::string& server_name, Instant deadline) {
  auto s = std::make_unique<TlsStream>(rt, std::move(context), std::move(inner), false);
  if (Status st = s->expect_peer(server_name); !st) return st.error();
  if (Status st = s->handshake(deadline); !st) return st.error();
  return std::unique_ptr<Stream>(std::move(s));
}

std::unique_ptr<Listener> tls_listener(Runtime& rt, std::shared_ptr<TlsContext> context,
                                       std::unique_ptr<Listener> inner) {
  return std::make_unique<TlsListener>(rt, std::move(context), std::move(inner));
}

}  // namespace doppel::real

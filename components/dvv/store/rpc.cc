#include "components/dvv/store/rpc.h"

#include <cstring>

#include "components/access/hmac.h"
#include "components/dvv/store/wire.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

// BUGGIFY sites of the node-to-node RPC (runtime/buggify.h): a slow peer and a
// choppy or broken connection, never a frame changed.
const BuggifySite kSlowReply{"dvv.rpc.slow_reply",
                             "a peer's answer to a request is written up to 1 s late"};
const BuggifySite kSplitFrame{"dvv.rpc.split_frame",
                              "a request frame goes out in two writes, up to 10 ms apart"};
const BuggifySite kDropConnection{
    "dvv.rpc.drop_connection",
    "a peer connection is closed after a call (a reset), failing the calls in flight"};

constexpr std::size_t kNonceBytes = 16;
constexpr std::size_t kProofBytes = 32;

std::string nonce(Runtime& rt) {
  std::string out;
  while (out.size() < kNonceBytes) {
    const std::uint64_t r = rt.random().next();
    out.append(reinterpret_cast<const char*>(&r), sizeof r);
  }
  out.resize(kNonceBytes);
  return out;
}

// What the side named `who` proves: the MAC of its label and both nonces, the other's first.
std::string proof(std::string_view secret, std::string_view who, std::string_view theirs,
                  std::string_view mine) {
  std::string message = "doppel-dvv ";
  message += who;
  message += '\0';
  message += theirs;
  message += mine;
  return access::hmac_sha256(secret, message);
}

}  // namespace

std::string encode_frame(const Frame& f) {
  WireWriter body;
  body.u8(static_cast<std::uint8_t>(f.kind) | (f.response ? 0x80 : 0));
  body.varint(f.id);
  body.str() += f.payload;
  std::string out(4, '\0');
  const auto n = static_cast<std::uint32_t>(body.str().size());
  std::memcpy(out.data(), &n, 4);
  out += body.str();
  return out;
}

Result<Frame> read_frame(Stream& s, std::string& buffer, Instant deadline) {
  auto need = [&](std::size_t bytes) -> Status {
    while (buffer.size() < bytes) {
      char tmp[65536];
      auto n = s.read(tmp, deadline);
      if (!n) return n.error();
      if (*n == 0) return make_error(Errc::closed, "peer closed");
      buffer.append(tmp, *n);
    }
    return {};
  };
  if (Status st = need(4); !st) return st.error();
  std::uint32_t n;
  std::memcpy(&n, buffer.data(), 4);
  if (n == 0 || n > RpcServer::kFrameBytesMax) return make_error(Errc::corrupt, "bad frame length");
  if (Status st = need(4 + n); !st) return st.error();
  WireReader r(std::string_view(buffer).substr(4, n));
  Frame f;
  const std::uint8_t tag = r.u8();
  f.kind = static_cast<RpcKind>(tag & 0x7f);
  f.response = (tag & 0x80) != 0;
  f.id = r.varint();
  if (!r.ok()) return make_error(Errc::corrupt, "bad frame header");
  std::size_t header = 1;
  for (std::uint64_t v = f.id; v >= 0x80; v >>= 7) ++header;
  ++header;
  f.payload = buffer.substr(4 + header, n - header);
  buffer.erase(0, 4 + n);
  return f;
}

// --- server

Status RpcServer::start(const Endpoint& at) {
  ListenOptions options;
  options.tls = tls_;
  auto l = rt_.net().listen(at, options);
  if (!l) return l.error();
  listener_ = std::move(*l);
  rt_.spawn("rpc-accept", [this] {
    for (;;) {
      auto s = listener_->accept();
      if (!s) return;
      std::shared_ptr<Stream> stream(std::move(*s));
      connections_[next_connection_++] = stream;
      rt_.spawn("rpc-conn", [this, stream] { serve(stream); });
    }
  });
  return {};
}

void RpcServer::stop() {
  stopping_ = true;
  if (listener_) listener_->close();
  for (auto& [id, weak] : connections_) {
    if (auto s = weak.lock()) s->close();
  }
  connections_.clear();
}

Status RpcServer::handshake(Stream& stream, std::string& buffer) {
  const Instant deadline = deadline_after(rt_.now(), kHandshakeTimeout);
  auto hello = read_frame(stream, buffer, deadline);
  if (!hello) return hello.error();
  if (hello->kind != RpcKind::hello || hello->response || hello->payload.size() != kNonceBytes) {
    return make_error(Errc::protocol, "no hello");
  }
  const std::string mine = nonce(rt_);
  const std::string reply = encode_frame(
      Frame{RpcKind::hello, true, 0, mine + proof(secret_, "server", hello->payload, mine)});
  if (Status s = stream.write(reply, deadline); !s) return s;
  auto proven = read_frame(stream, buffer, deadline);
  if (!proven) return proven.error();
  // Planted: any proof goes.
  if (trusts_peers_) return {};
  if (proven->kind != RpcKind::hello || proven->response ||
      !access::same_bytes(proven->payload, proof(secret_, "client", mine, hello->payload))) {
    return make_error(Errc::protocol, "the peer does not know the cluster secret");
  }
  return {};
}

void RpcServer::serve(std::shared_ptr<Stream> stream) {
  std::string buffer;
  if (Status s = handshake(*stream, buffer); !s) {
    if (s.code() == Errc::protocol) {
      rt_.record(Event("DvvRpcRefused", Severity::warning).detail("why", s.error().what));
    }
    stream->close();
    return;
  }
  auto write_lock = std::make_shared<Mutex>(rt_);
  for (;;) {
    auto f = read_frame(*stream, buffer, kNever);
    if (!f || f->response) return;
    // Each request in its own fiber: a slow one does not hold up the others.
    rt_.spawn("rpc-request", [this, stream, write_lock, frame = std::move(*f)]() mutable {
      Result<std::string> result = handler_(frame.kind, frame.payload);
      (void)buggify_sleep(rt_, kSlowReply, 1s);
      Frame reply{frame.kind, true, frame.id, {}};
      WireWriter w;
      w.u8(result.ok() ? 0 : static_cast<std::uint8_t>(result.code()) + 1);
      if (result.ok()) {
        w.str() += *result;
      } else {
        w.str() += result.error().what;
      }
      reply.payload = w.take();
      LockGuard guard(*write_lock);
      (void)stream->write(encode_frame(reply), rt_.now() + 10s);
    });
  }
}

// --- client

RpcClient::~RpcClient() {
  close();
}

void RpcClient::close() {
  closed_ = true;
  if (stream_) stream_->close();
  stream_.reset();
  fail_all(make_error(Errc::closed, "rpc client closed"));
}

void RpcClient::fail_all(const Error& error) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.set(Result<std::string>(error));
}

Status RpcClient::ensure_connected(Instant deadline) {
  if (stream_) return {};
  LockGuard guard(connecting_);
  if (stream_) return {};
  if (closed_) return make_error(Errc::closed);
  const Duration left = deadline > rt_.now() ? deadline - rt_.now() : Duration(1);
  auto s = rt_.net().connect_with(peer_, left, ConnectOptions{tls_});
  if (!s) return s.error();
  std::shared_ptr<Stream> stream(std::move(*s));
  if (Status h = handshake(*stream, deadline); !h) {
    stream->close();
    return h;
  }
  stream_ = std::move(stream);
  const std::uint64_t epoch = ++epoch_;
  rt_.spawn("rpc-read", [this, stream = stream_, epoch] { read_loop(stream, epoch); });
  return {};
}

Status RpcClient::handshake(Stream& stream, Instant deadline) {
  const std::string mine = nonce(rt_);
  if (Status s = stream.write(encode_frame(Frame{RpcKind::hello, false, 0, mine}), deadline); !s) {
    return s;
  }
  std::string buffer;
  auto hello = read_frame(stream, buffer, deadline);
  if (!hello) return hello.error();
  if (hello->kind != RpcKind::hello || !hello->response ||
      hello->payload.size() != kNonceBytes + kProofBytes) {
    return make_error(Errc::protocol, peer_.to_string() + ": no hello");
  }
  const std::string theirs = hello->payload.substr(0, kNonceBytes);
  if (!access::same_bytes(hello->payload.substr(kNonceBytes),
                          proof(secret_, "server", mine, theirs))) {
    rt_.record(Event("DvvRpcRefused", Severity::warning)
                   .detail("peer", peer_.to_string())
                   .detail("why", "the peer does not know the cluster secret"));
    return make_error(Errc::protocol, peer_.to_string() + " does not know the cluster secret");
  }
  // The server sends nothing more until asked: nothing read past its hello.
  DOPPEL_ASSERT(buffer.empty());
  return stream.write(
      encode_frame(Frame{RpcKind::hello, false, 1, proof(secret_, "client", theirs, mine)}),
      deadline);
}

void RpcClient::read_loop(std::shared_ptr<Stream> stream, std::uint64_t epoch) {
  std::string buffer;
  for (;;) {
    auto f = read_frame(*stream, buffer, kNever);
    if (!f) {
      if (epoch == epoch_) {
        stream_.reset();
        fail_all(
            make_error(f.code(), "connection to " + peer_.to_string() + ": " + f.error().what));
      }
      stream->close();
      return;
    }
    auto it = pending_.find(f->id);
    if (it == pending_.end()) continue;  // its caller gave up
    WireReader r(f->payload);
    const std::uint8_t code = r.u8();
    std::string rest = f->payload.substr(1);
    Promise<Result<std::string>> p = std::move(it->second);
    pending_.erase(it);
    if (code == 0) {
      p.set(Result<std::string>(std::move(rest)));
    } else {
      p.set(Result<std::string>(make_error(static_cast<Errc>(code - 1), rest)));
    }
  }
}

Result<std::string> RpcClient::call(RpcKind kind, std::string payload, Duration timeout) {
  const Instant deadline = deadline_after(rt_.now(), timeout);
  if (Status s = ensure_connected(deadline); !s) return s.error();
  if (pending_.size() >= kInFlightMax)
    return make_error(Errc::too_large, "too many calls in flight");
  const std::uint64_t id = next_id_++;
  Promise<Result<std::string>> promise(rt_);
  Future<Result<std::string>> future = promise.future();
  pending_.emplace(id, std::move(promise));
  std::shared_ptr<Stream> stream = stream_;
  Status written = [&] {
    LockGuard guard(writing_);
    const std::string frame = encode_frame(Frame{kind, false, id, std::move(payload)});
    if (buggify(rt_, kSplitFrame)) {
      const auto cut = static_cast<std::size_t>(
          rt_.random().between(1, static_cast<std::int64_t>(frame.size()) - 1));
      if (Status s = stream->write(std::string_view(frame).substr(0, cut), deadline); !s) return s;
      rt_.sleep(Duration(rt_.random().between(1'000, 10'000'000)));
      return stream->write(std::string_view(frame).substr(cut), deadline);
    }
    return stream->write(frame, deadline);
  }();
  if (Status s = written; !s) {
    pending_.erase(id);
    if (stream_ == stream) {
      stream_.reset();
      stream->close();
    }
    return s.error();
  }
  auto got = future.get(deadline);
  if (!got) {
    pending_.erase(id);
    return make_error(Errc::timed_out, peer_.to_string());
  }
  if (buggify(rt_, kDropConnection) && stream_ == stream) {
    // As a reset would: the calls still waiting on it fail, the next one reconnects.
    stream_.reset();
    stream->close();
    fail_all(make_error(Errc::reset, "connection to " + peer_.to_string() + " dropped"));
  }
  return std::move(*got);
}

}  // namespace doppel::dvv

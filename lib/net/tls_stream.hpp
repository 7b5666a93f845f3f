#pragma once
// TLS over any byte stream, as a byte stream: what the HTTP codecs read and write when a
// listener or a cluster speaks TLS. mbedTLS does the protocol; this drives it without
// blocking. Its I/O callbacks read ciphertext with the transport's `read_some_now` (a whole
// socket buffer at once into `tls_session::in`) and write with `write_some_now`, keeping
// what the transport did not take in `tls_session::out`, which asynchronous operations
// flush. An operation that would block waits for the transport and retries the same call,
// as mbedTLS requires.

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>

#include <algorithm>
#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "gantry/net/byte_stream.hpp"
#include "tls_error.hpp"
#include "tls_session.hpp"

namespace gantry::net {

template <byte_stream Lower>
class tls_stream {
 public:
  // A connection to set TLS up on with `async_handshake`: a server side or a client side, as
  // `context` is. `server_name` is what a client side verifies and sends as SNI (empty: the
  // context's).
  tls_stream(Lower lower, std::shared_ptr<const tls_context> context,
             std::string_view server_name = {})
      : s_{std::make_unique<state>(std::move(lower), std::move(context), server_name)} {}

  // Completes with `(error_code)` once the handshake is done.
  template <class Token>
  auto async_handshake(Token&& token) {
    return compose<void(std::error_code)>(handshake_step{}, std::forward<Token>(token));
  }
  // The handshake's facts (version, suite, SNI, ALPN, the peer's certificate), once done.
  const policy::tls_facts& facts() const noexcept { return s_->facts; }
  // Whether the handshake resumed an earlier session (from the cache or a ticket).
  bool resumed() const noexcept { return s_->resumed; }
  mbedtls_ssl_context& native_handle() noexcept { return s_->ssl; }

  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return compose<void(std::error_code, std::size_t)>(read_step{buffer}, std::forward<Token>(token));
  }
  std::size_t read_some_now(asio::mutable_buffer buffer, std::error_code& ec) noexcept {
    const step_result r = read_step{buffer}(*s_);
    ec = r.wait ? asio::error::would_block : r.ec;
    return r.n;
  }
  template <class Token>
  auto async_write(gathered_bytes bytes, Token&& token) {
    return compose<void(std::error_code, std::size_t)>(write_step{bytes}, std::forward<Token>(token));
  }
  std::size_t write_some_now(asio::const_buffer buffer, std::error_code& ec) noexcept {
    ec = {};
    if (!s_->out.empty() || s_->writing) {  // what is queued goes first
      ec = asio::error::would_block;
      return 0;
    }
    const int ret = mbedtls_ssl_write(&s_->ssl, static_cast<const unsigned char*>(buffer.data()),
                                      std::min(buffer.size(), record_size));
    if (ret >= 0) return static_cast<std::size_t>(ret);
    ec = s_->error_of(ret);
    return 0;
  }
  // Completes with `(error_code)` when a read would find plaintext, the end, or an error.
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return compose<void(std::error_code)>(wait_step{}, std::forward<Token>(token));
  }

  // Sends close_notify (as far as the transport takes it now), then shuts the transport's
  // sending side.
  void shutdown_send(std::error_code& ec) noexcept {
    // After a write cut short the record stream is broken: no alert would make sense.
    if (!s_->broken) mbedtls_ssl_close_notify(&s_->ssl);
    if (!s_->writing && !s_->out.empty()) {
      std::error_code ignored;
      const std::size_t n = s_->lower.write_some_now(asio::buffer(s_->out), ignored);
      s_->out.erase(0, n);
    }
    s_->lower.shutdown_send(ec);
  }
  // An idle connection gives its read buffer back (16 KiB; the next read makes another).
  // mbedTLS 2.28 keeps its own two record buffers for as long as the connection lasts: its
  // context serialization, which could free them, is for DTLS only.
  void shrink() noexcept {
    if (s_->in_begin == s_->in_end) s_->in.reset();
  }
  void cancel() noexcept { s_->lower.cancel(); }
  void close() noexcept { s_->lower.close(); }
  bool is_open() const noexcept { return s_->lower.is_open(); }
  // Nothing of the peer's is buffered, in ciphertext or plaintext.
  bool drained() const noexcept {
    return s_->in_begin == s_->in_end && mbedtls_ssl_check_pending(&s_->ssl) == 0 &&
           mbedtls_ssl_get_bytes_avail(&s_->ssl) == 0;
  }
  // Idle and pooled: reusable when the transport is, and nothing of the peer's is buffered.
  bool reusable() noexcept { return drained() && s_->lower.reusable(); }
  asio::ip::tcp::endpoint remote_endpoint() const noexcept { return s_->lower.remote_endpoint(); }
  asio::ip::tcp::endpoint local_endpoint() const noexcept { return s_->lower.local_endpoint(); }
  auto get_executor() noexcept { return s_->lower.get_executor(); }
  // The transport, for what is no longer TLS: draining a connection whose handshake failed.
  Lower& lower() noexcept { return s_->lower; }

 private:
  // mbedTLS's largest plaintext record.
  static constexpr std::size_t record_size = 16 * 1024;

  struct state final : tls_session {
    state(Lower l, std::shared_ptr<const tls_context> c, std::string_view name)
        : tls_session{std::move(c), name}, lower{std::move(l)} {
      mbedtls_ssl_set_bio(&ssl, static_cast<tls_session*>(this), &send, &receive, nullptr);
    }

    static state& of(void* bio) noexcept {
      return *static_cast<state*>(static_cast<tls_session*>(bio));
    }

    static int send(void* bio, const unsigned char* bytes, std::size_t size) noexcept {
      state& s = of(bio);
      std::size_t n = 0;
      if (s.out.empty() && !s.writing) {  // nothing queued and no write under way: write now
        std::error_code ec;
        n = s.lower.write_some_now(asio::buffer(bytes, size), ec);
        if (ec && ec != asio::error::would_block) {
          s.transport_error = ec;
          return MBEDTLS_ERR_NET_SEND_FAILED;
        }
      }
      s.out.append(reinterpret_cast<const char*>(bytes) + n, size - n);
      return static_cast<int>(size);
    }

    static int receive(void* bio, unsigned char* bytes, std::size_t size) noexcept {
      state& s = of(bio);
      if (s.in_begin == s.in_end) {
        if (s.transport_eof) return 0;
        if (!s.in) s.in = std::make_unique_for_overwrite<char[]>(in_capacity);
        std::error_code ec;
        const std::size_t n = s.lower.read_some_now(asio::buffer(s.in.get(), in_capacity), ec);
        if (ec == asio::error::would_block) return MBEDTLS_ERR_SSL_WANT_READ;
        if (ec == asio::error::eof) {
          s.transport_eof = true;
          return 0;
        }
        if (ec) {
          s.transport_error = ec;
          return MBEDTLS_ERR_NET_RECV_FAILED;
        }
        s.in_begin = 0;
        s.in_end = n;
      }
      const std::size_t n = std::min(size, s.in_end - s.in_begin);
      std::memcpy(bytes, s.in.get() + s.in_begin, n);
      s.in_begin += n;
      return static_cast<int>(n);
    }

    // What an mbedTLS return value (negative) means to the stream's caller.
    std::error_code error_of(int ret) const noexcept {
      switch (ret) {
        case MBEDTLS_ERR_SSL_WANT_READ:
        case MBEDTLS_ERR_SSL_WANT_WRITE:
          return asio::error::would_block;
        case MBEDTLS_ERR_NET_RECV_FAILED:
        case MBEDTLS_ERR_NET_SEND_FAILED:
          return transport_error ? transport_error : std::error_code{asio::error::broken_pipe};
        case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
          return asio::error::eof;
        case MBEDTLS_ERR_SSL_CONN_EOF:
          // The transport ended without close_notify: after the handshake, what was read may
          // have been cut short by anyone on the path, so it is not an orderly end.
          return handshake_done ? tls_truncated() : std::error_code{asio::error::eof};
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:  // say why
          if (const std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl); flags != 0)
            return tls_certificate_rejected(flags);
          return tls_error(ret);
        default:
          return tls_error(ret);
      }
    }

    Lower lower;
  };

  // One attempt of an operation: done (with `ec` and `n`), `wait` for the transport to be
  // readable before trying again, or `again` once what it wrote is flushed. Output it
  // produced is in `out` for the operation to flush.
  struct step_result {
    std::error_code ec{};
    std::size_t n = 0;
    bool wait = false;
    bool again = false;
  };
  static step_result from(const state& s, int ret) noexcept {
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {.wait = true};
    return {.ec = s.error_of(ret)};
  }

  struct handshake_step {
    step_result operator()(state& s) noexcept {
      if (s.handshake_done) return {};
      // Step by step, as mbedtls_ssl_handshake does, to see whether it resumes a session
      // (mbedTLS forgets once the handshake is over).
      while (s.ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        const int ret = mbedtls_ssl_handshake_step(&s.ssl);
        // A client that offered a session learns from the ServerHello whether it resumes.
        if (s.ssl.handshake != nullptr) s.resumed = s.ssl.handshake->resume != 0;
        if (ret != 0) return from(s, ret);
      }
      s.handshake_done = true;
      s.record_facts();
      return {};
    }
  };

  struct read_step {
    asio::mutable_buffer buffer;
    step_result operator()(state& s) noexcept {
      if (!s.handshake_done)
        if (step_result r = handshake_step{}(s); r.wait || r.ec) return r;
      const int ret = mbedtls_ssl_read(&s.ssl, static_cast<unsigned char*>(buffer.data()),
                                       buffer.size());
      if (ret > 0) return {.n = static_cast<std::size_t>(ret)};
      if (ret == 0) return {.ec = s.error_of(MBEDTLS_ERR_SSL_CONN_EOF)};
      return from(s, ret);
    }
  };

  struct wait_step {
    step_result operator()(state& s) noexcept {
      if (!s.handshake_done)
        if (step_result r = handshake_step{}(s); r.wait || r.ec) return r;
      if (s.in_begin != s.in_end || s.transport_eof || mbedtls_ssl_check_pending(&s.ssl) != 0)
        return {};
      // Ciphertext waiting in the transport counts: reading it may still find no plaintext
      // (a record of another kind), and the caller then waits again.
      unsigned char probe = 0;
      const int ret = state::receive(static_cast<tls_session*>(&s), &probe, 0);
      if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {.wait = true};
      return {};
    }
  };

  struct write_step {
    gathered_bytes bytes;
    std::size_t piece = 0;   // the piece being written
    std::size_t offset = 0;  // bytes of it written
    std::size_t written = 0;
    step_result operator()(state& s) noexcept {
      if (!s.handshake_done)
        if (step_result r = handshake_step{}(s); r.wait || r.ec) return r;
      // Two pieces that fit one record go as one (a small response: head and body).
      if (piece == 0 && offset == 0 && bytes[0].size() != 0 && bytes[1].size() != 0 &&
          bytes[0].size() + bytes[1].size() <= record_size) {
        s.joined.assign(static_cast<const char*>(bytes[0].data()), bytes[0].size());
        s.joined.append(static_cast<const char*>(bytes[1].data()), bytes[1].size());
        bytes = {asio::buffer(s.joined), asio::const_buffer{}};
      }
      while (piece < bytes.size()) {
        const asio::const_buffer& b = bytes[piece];
        if (offset == b.size()) {
          ++piece;
          offset = 0;
          continue;
        }
        if (!s.out.empty()) return {.again = true};  // flush first, then go on
        const std::size_t size = std::min(b.size() - offset, record_size);
        const int ret = mbedtls_ssl_write(
            &s.ssl, static_cast<const unsigned char*>(b.data()) + offset, size);
        if (ret < 0) return from(s, ret);
        offset += static_cast<std::size_t>(ret);
        written += static_cast<std::size_t>(ret);
      }
      return {.n = written};
    }
  };

  // Runs `Step` until it is done: flushing what it wrote, waiting for the transport when it
  // must. A result found at once is posted, never delivered inside the initiating call.
  template <class Step>
  struct io_op {
    // Only operations that write flush what mbedTLS queued, and at most one of them runs at
    // a time (the codecs never overlap two writes): reads leave their output (an alert) for
    // the next write. Before the handshake is done, any operation may be the one driving it.
    static constexpr bool writes = std::is_same_v<Step, write_step> ||
                                   std::is_same_v<Step, handshake_step>;

    state* s;
    Step step;
    enum class at : std::uint8_t { start, flushing, waiting, posted } where = at::start;
    bool done = false;
    step_result result{};

    bool may_flush() const noexcept {
      return !s->out.empty() && !s->writing && (writes || !s->handshake_done);
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
      const bool first = where == at::start;
      if (where == at::posted) return finish(self);
      if (where == at::flushing) {
        s->in_flight.clear();
        s->writing = false;
        if (ec) s->broken = true;  // part of a record may have gone: nothing more can follow
      }
      if (ec) {
        result = {.ec = ec};
        return finish(self);
      }
      for (;;) {
        if (may_flush()) {
          std::swap(s->out, s->in_flight);
          s->writing = true;
          where = at::flushing;
          return s->lower.async_write({asio::buffer(s->in_flight), asio::const_buffer{}},
                                      std::move(self));
        }
        if (done) break;
        result = step(*s);
        if (result.wait) {
          if (may_flush()) continue;  // the peer waits for what we wrote before it answers
          where = at::waiting;
          return s->lower.async_wait_readable(std::move(self));
        }
        done = !result.again;
      }
      if (first) {
        where = at::posted;
        return asio::post(s->lower.get_executor(), std::move(self));
      }
      finish(self);
    }

    template <class Self>
    void finish(Self& self) {
      if constexpr (std::is_same_v<Step, handshake_step> || std::is_same_v<Step, wait_step>)
        self.complete(result.ec);
      else
        self.complete(result.ec, result.n);
    }
  };

  template <class Signature, class Step, class Token>
  auto compose(Step step, Token&& token) {
    return asio::async_compose<Token, Signature>(io_op<Step>{s_.get(), std::move(step)}, token,
                                                 s_->lower.get_executor());
  }

  std::unique_ptr<state> s_;
};

}  // namespace gantry::net

#pragma once
// A client's TLS session with one server, kept after a full handshake so that the next
// connection to that server resumes it: an abbreviated handshake, with no certificate to
// verify and no key exchange to compute (a ticket, or the server's session cache).

#include <mbedtls/ssl.h>

#include <memory>

#include "tls_context.hpp"

namespace gantry::net {

class tls_client_session {
 public:
  tls_client_session() noexcept { mbedtls_ssl_session_init(&session_); }
  ~tls_client_session() { mbedtls_ssl_session_free(&session_); }
  tls_client_session(const tls_client_session&) = delete;
  tls_client_session& operator=(const tls_client_session&) = delete;

  // Keeps the session `ssl` established with `context`, after a full handshake; a copy that
  // fails (no memory) keeps none.
  void save(const mbedtls_ssl_context& ssl,
            const std::shared_ptr<const tls_context>& context) noexcept {
    forget();
    saved_ = mbedtls_ssl_get_session(&ssl, &session_) == 0;
    if (saved_)
      context_ = context;
    else
      forget();
  }
  // Offers the kept session to `ssl`, before its handshake, if it was made with `context`:
  // a resumed handshake verifies no certificate and presents none, so a session made before
  // a reload (a new CA, a renewed client certificate) is not offered after it. The server
  // may decline it; the handshake is then a full one.
  void offer(mbedtls_ssl_context& ssl,
             const std::shared_ptr<const tls_context>& context) const noexcept {
    if (saved_ && context_.lock() == context) mbedtls_ssl_set_session(&ssl, &session_);
  }
  // After a failed handshake: the next one starts afresh.
  void forget() noexcept {
    mbedtls_ssl_session_free(&session_);
    mbedtls_ssl_session_init(&session_);
    context_.reset();
    saved_ = false;
  }
  bool saved() const noexcept { return saved_; }

 private:
  mbedtls_ssl_session session_;
  std::weak_ptr<const tls_context> context_;
  bool saved_ = false;
};

}  // namespace gantry::net

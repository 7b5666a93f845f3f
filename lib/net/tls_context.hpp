#pragma once
// An mbedTLS configuration with everything it points to. Only lib/ sees mbedTLS's headers.

#include <mbedtls/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/net/tls_settings.hpp"

namespace gantry::net {

// An mbedTLS configuration and what it refers to: certificates and keys, the CA chain, the
// random generator, the session cache and the ticket keys. Immutable once made and shared by
// every worker (mbedTLS locks the generator, the cache and the ticket keys inside); each
// connection holds it by shared_ptr, so a reload's new one serves new connections while the
// old one lasts as long as connections made with it.
class tls_context {
 public:
  // Reads the files now. Throws `std::invalid_argument` with one line per problem, each
  // naming its field ("certificates[0].key_file: ...").
  static std::shared_ptr<const tls_context> server(const tls_server_settings& settings);
  static std::shared_ptr<const tls_context> client(const tls_client_settings& settings);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  const mbedtls_ssl_config* config() const noexcept;
  bool is_server() const noexcept;
  // Client contexts: whether the server's certificate is verified.
  bool verifies() const noexcept;
  // Client contexts: the name the server's certificate must carry; empty: the caller's.
  const std::string& server_name() const noexcept;
  // What is worth fixing but does not stop it from serving, one line each, naming its
  // field as the errors do: "certificates[0].cert: ... expired on 2026-01-31".
  const std::vector<std::string>& warnings() const noexcept;

 private:
  struct impl;
  explicit tls_context(std::unique_ptr<impl> impl) noexcept;
  std::unique_ptr<impl> impl_;
};

// The subjectAltName DNS names of a certificate.
std::vector<std::string> dns_names_of(const mbedtls_x509_crt& crt);

}  // namespace gantry::net

#pragma once
/// @file
/// How the gateway speaks TLS: as a server to its clients, as a client to its upstreams.

#include <cstdint>
#include <string>
#include <vector>

namespace gantry::net {

/// A certificate chain (leaf first) and its private key, as PEM files.
struct tls_certificate {
  /// The certificate chain's file.
  std::string cert{};
  /// Its private key's file (unencrypted PEM: PKCS#8, SEC1 or PKCS#1).
  std::string key{};
  friend bool operator==(const tls_certificate&, const tls_certificate&) = default;
};

/// Whether a TLS listener asks clients for a certificate.
enum class client_certificate_mode : std::uint8_t {
  off,       ///< never asked for
  optional,  ///< asked for; a client without one, or with one that does not verify, may go
             ///< on (policies see `client_certificate::verified`)
  required,  ///< asked for, and the handshake fails without one that verifies
};

/// TLS termination on a listener. TLS 1.2 (the newest mbedTLS 2.28 speaks), ECDHE key exchange
/// with AES-GCM or ChaCha20-Poly1305, ECDSA or RSA certificates; session tickets and a
/// session cache for resumption.
struct tls_server_settings {
  /// The certificates to serve; the client's SNI picks the one whose names match (exact,
  /// then a wildcard such as "*.example.com"); the first is served when none does, or when
  /// the client sends no SNI, unless `strict_sni`. At least one. One past its expiry date is
  /// still served (clients will refuse it); the YAML loader warns about it.
  std::vector<tls_certificate> certificates{};
  /// Refuses a client whose SNI names none of the certificates (an unrecognized_name
  /// alert), or that sends none (a handshake_failure alert), instead of serving the first:
  /// HAProxy's `strict-sni`, NGINX's `ssl_reject_handshake`.
  bool strict_sni = false;
  /// PEM bundle of the CAs client certificates must chain to; needed unless
  /// `client_certificates` is off.
  std::string client_ca{};
  client_certificate_mode client_certificates = client_certificate_mode::off;
  /// Protocols offered by ALPN, in order of preference; a client that offers none of them
  /// fails the handshake. Empty: no ALPN.
  std::vector<std::string> alpn{"http/1.1"};
};

/// TLS toward an upstream.
struct tls_client_settings {
  /// PEM bundle of the CAs the server's certificate must chain to.
  std::string ca{};
  /// The name the server's certificate must carry, also sent as SNI; empty: the endpoint's
  /// host name.
  std::string server_name{};
  /// False accepts any certificate (for tests and trusted networks only).
  bool verify = true;
  /// A client certificate, for upstreams that require one (mTLS); empty: none.
  tls_certificate certificate{};
  /// Protocols offered by ALPN; empty: no ALPN.
  std::vector<std::string> alpn{};
  friend bool operator==(const tls_client_settings&, const tls_client_settings&) = default;
};

}  // namespace gantry::net

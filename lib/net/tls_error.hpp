#pragma once
// mbedTLS's error codes as std::error_code: negative ints, named by mbedtls_strerror; and
// why a peer's certificate was rejected, named by mbedtls_x509_crt_verify_info.

#include <cstdint>
#include <system_error>

namespace gantry::net {

const std::error_category& tls_category() noexcept;

// The error_code of an mbedTLS return value (negative).
inline std::error_code tls_error(int mbedtls_ret) noexcept {
  return {-mbedtls_ret, tls_category()};
}

const std::error_category& tls_certificate_category() noexcept;

// A certificate that failed verification, as mbedTLS's verification flags
// (MBEDTLS_X509_BADCERT_*): untrusted, expired, for another name...
inline std::error_code tls_certificate_rejected(std::uint32_t verify_flags) noexcept {
  return {static_cast<int>(verify_flags), tls_certificate_category()};
}

// True for the errors of both categories above: the TLS layer's own.
inline bool is_tls_error(const std::error_code& ec) noexcept {
  return ec.category() == tls_category() || ec.category() == tls_certificate_category();
}

// The transport ended without close_notify after the handshake: what was read may have been
// cut short, so it is not an orderly end of the stream. Also what a client reports of a
// server that closed during the handshake (as an mbedTLS server does, without an alert, when
// it requires a client certificate and got none).
std::error_code tls_truncated() noexcept;

}  // namespace gantry::net

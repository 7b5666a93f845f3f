#pragma once
// mbedTLS's error codes as std::error_code: negative ints, named by mbedtls_strerror.

#include <system_error>

namespace gantry::net {

const std::error_category& tls_category() noexcept;

// The error_code of an mbedTLS return value (negative).
inline std::error_code tls_error(int mbedtls_ret) noexcept {
  return {-mbedtls_ret, tls_category()};
}

// The transport ended without close_notify after the handshake: what was read may have been
// cut short, so it is not an orderly end of the stream.
std::error_code tls_truncated() noexcept;

}  // namespace gantry::net

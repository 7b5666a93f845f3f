#pragma once
// What a TLS connection holds whatever its transport: the mbedTLS context, the ciphertext
// not yet handed to either side, and the facts of its handshake. `tls_stream<Lower>` adds
// the transport; mbedTLS's I/O callbacks reach this through its BIO pointer.

#include <mbedtls/ssl.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "gantry/policy/downstream.hpp"
#include "tls_context.hpp"

namespace gantry::net {

struct tls_session {
  // Sets the context up for `context` (server or client); `server_name` is the name a client
  // checks the server's certificate against and sends as SNI (empty: the context's).
  // Throws std::bad_alloc when mbedTLS cannot allocate its record buffers.
  tls_session(std::shared_ptr<const tls_context> context, std::string_view server_name);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  // Fills `facts` from the finished handshake.
  void record_facts();

  mbedtls_ssl_context ssl;
  std::shared_ptr<const tls_context> context;
  // Ciphertext read from the transport, not yet taken by mbedTLS: [in_begin, in_end).
  std::unique_ptr<char[]> in;
  std::size_t in_begin = 0;
  std::size_t in_end = 0;
  // Ciphertext mbedTLS wrote that the transport did not take at once, and what an operation
  // is writing to the transport (`writing`): `out` is never the buffer of a pending write.
  std::string out;
  std::string in_flight;
  bool writing = false;
  // Why the transport failed under mbedTLS's callbacks (they can only say "failed").
  std::error_code transport_error;
  bool transport_eof = false;
  bool handshake_done = false;
  bool resumed = false;
  bool broken = false;  // a write to the transport failed part way
  // Plaintext of two pieces joined into one record.
  std::string joined;

  // The handshake's facts, and what they view.
  std::string sni;
  std::string cipher_name;
  policy::tls_facts facts;
  policy::client_certificate peer;
  std::string peer_subject;
  std::string peer_fingerprint;
  std::vector<std::string> peer_names;
  std::vector<std::string_view> peer_name_views;

  static constexpr std::size_t in_capacity = 16 * 1024 + 512;  // a whole record and more
};

}  // namespace gantry::net

#pragma once
/// @file
/// A real NGINX as a third-party upstream: a private prefix, config and logs in a temp dir,
/// one process (no daemon, no master), on a free loopback port. $GANTRY_TEST_NGINX overrides
/// the binary (default /usr/sbin/nginx).
///
/// Locations:
///   /health          200 "ok\n"
///   /hello           200 "hello from nginx\n"
///   /empty           204
///   /echo            200, a body listing the request fields NGINX saw ("xff=...\n" etc.)
///   /few/...         200 "few\n" with `keepalive_requests 3`
///   /upload          200 "uploaded\n" (the body is read and discarded)
///   /static/...      files under dir()/www/static (`big_file_size` makes static/big.bin)
///   /dav/...         WebDAV PUT and DELETE into dir()/www/dav (NGINX reads the whole body
///                    and stores it, so an upload can be compared byte for byte)
///   /gz/...          files under dir()/www/gz, gzipped on the fly: chunked responses
/// Every request is written to an access log whose `connection` field is NGINX's connection
/// serial number, so a test can count the distinct upstream connections a proxy opened.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/deadline.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace gantry::testing {

struct nginx_options {
  /// Size of the sparse file /static/big.bin (0: no such file).
  std::uint64_t big_file_size = 0;
  /// More directives for the server block, e.g. extra locations.
  std::string extra_server;
};

/// One access-log line: field name → value ("-" when empty). Fields: connection, requests
/// (on that connection), ssl_reused ("r" for a resumed TLS session, "." for a new one),
/// method, uri, status, xff, xfp, xfh, via, connection_header, te,
/// upgrade, keep_alive, proxy_connection, x_hop, transfer_encoding, content_length,
/// request_length, expect, host, body_bytes_sent.
using access_entry = std::map<std::string, std::string>;

class nginx_server {
 public:
  /// Starts NGINX and waits until it answers /health; throws when it does not.
  explicit nginx_server(nginx_options options = {});
  ~nginx_server();

  std::uint16_t port() const noexcept { return port_; }
  std::string address() const;
  const temp_dir& dir() const noexcept { return dir_; }
  child_process& process() noexcept { return *process_; }

  /// The access log so far, minus the readiness probes.
  std::vector<access_entry> access_log() const;
  /// Waits until the access log holds `n` entries (NGINX logs after it has answered).
  bool wait_for_access_log(std::size_t n, deadline d) const;
  std::string error_log() const;

 private:
  temp_dir dir_{"nginx"};
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

/// The distinct values of `field` among `entries`.
std::size_t distinct(const std::vector<access_entry>& entries, const std::string& field);

}  // namespace gantry::testing

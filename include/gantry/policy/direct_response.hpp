#pragma once
/// @file
/// The direct-response policy: answer with a fixed response (a mock, a maintenance page).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "gantry/http/status.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/policy/header_value.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class direct_response;

/// Configuration of `direct_response`.
struct direct_response_config {
  using policy_type = direct_response;

  /// The status to answer with, 200 to 599.
  http::status status = http::status::ok;
  /// Fields of the response, verbatim (no templates). Without a Content-Type field, a body
  /// gets one from `body_file`'s extension (json, html, txt, xml, css, js, svg), else
  /// "text/plain; charset=utf-8" for an inline body and "application/octet-stream" for a file.
  std::vector<header_value> headers{};
  /// The body, inline. Give this or `body_file`, not both.
  std::string body{};
  /// A file whose contents are the body, read once when the policy is built; at most
  /// `max_body_file_size` bytes.
  std::string body_file{};

  /// Bodies are held in memory for the life of the configuration and answer mocks and error
  /// pages, not downloads: 16 MiB is far past those and far below a mistaken disk image.
  static constexpr std::size_t max_body_file_size = 16 * 1024 * 1024;
};

/// Answers every request locally with a fixed status, fields and body; nothing goes upstream.
/// The response still passes through the response phases of the policies before this one
/// (so a `request_id` or `headers` policy earlier in the chain still applies to it).
///
/// ```
/// chain.add(gantry::policy::direct_response_config{
///     .status = gantry::http::status::ok,
///     .headers = {{"Content-Type", "application/json"}},
///     .body = R"({"users":[]})"});
/// ```
class direct_response {
 public:
  using config = direct_response_config;

  /// Validates `config` and reads `body_file`; throws `std::invalid_argument` naming every
  /// problem (a file that cannot be read included).
  explicit direct_response(direct_response_config config);

  verdict on_request_head(exchange& ex) const;

  /// The body it answers with.
  const std::string& body() const noexcept { return data_->body; }

 private:
  struct data {
    http::status status;
    std::string content_type;
    std::vector<header_value> headers{};
    std::string body;
  };
  std::shared_ptr<const data> data_;
};

}  // namespace gantry::policy

#include "gantry/policy/direct_response.hpp"

#include <string_view>

#include "config_errors.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/core/read_file.hpp"

namespace gantry::policy {
namespace {

std::string_view content_type_for(std::string_view file) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".json", "application/json"},
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},
  };
  auto dot = file.rfind('.');
  if (dot != std::string_view::npos) {
    auto extension = file.substr(dot);
    for (auto [ext, type] : types)
      if (core::iequals(extension, ext)) return type;
  }
  return "application/octet-stream";
}

}  // namespace

direct_response::direct_response(direct_response_config config) {
  detail::config_errors errors{"direct_response"};
  auto d = std::make_shared<data>();
  d->status = config.status;

  const auto code = static_cast<unsigned>(config.status);
  if (code < 200 || code > 599) errors.add("status", "must be between 200 and 599");

  bool has_content_type = false;
  for (std::size_t i = 0; i < config.headers.size(); ++i) {
    const header_value& h = config.headers[i];
    std::string at = "headers[" + std::to_string(i) + "]";
    if (!is_field_name(h.name))
      errors.add(at + ".name", "must be a field name (an RFC 9110 token)");
    else if (is_framing_field(h.name))
      errors.add(at + ".name",
                 "framing fields (Content-Length, Transfer-Encoding) are the gateway's");
    if (!is_safe_field_value(h.value)) errors.add(at + ".value", "contains CR, LF or NUL");
    if (core::iequals(h.name, "Content-Type")) has_content_type = true;
  }

  if (!config.body.empty() && !config.body_file.empty()) {
    errors.add("body_file", "give the body inline or from a file, not both");
  } else if (!config.body_file.empty()) {
    if (auto why = core::read_file(config.body_file, config.max_body_file_size, d->body)) {
      errors.add("body_file", "cannot read '" + config.body_file + "': " + *why);
    } else if (!has_content_type) {
      d->content_type = content_type_for(config.body_file);
    }
  } else {
    d->body = std::move(config.body);
    if (!has_content_type && !d->body.empty()) d->content_type = "text/plain; charset=utf-8";
  }
  if (!d->body.empty() && http::is_bodyless(config.status))
    errors.add("body", "a " + std::to_string(code) + " response has no body");

  errors.throw_if_any();
  d->headers = std::move(config.headers);
  data_ = std::move(d);
}

verdict direct_response::on_request_head(exchange& ex) const {
  ex.respond(data_->status, data_->body, data_->content_type);
  for (const header_value& h : data_->headers) ex.response.fields.add(h.name, h.value);
  return verdict::respond;
}

}  // namespace gantry::policy

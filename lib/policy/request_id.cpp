#include "gantry/policy/request_id.hpp"

#include <algorithm>
#include <cstring>

#include "config_errors.hpp"
#include "gantry/policy/header_value.hpp"
#include "random.hpp"

namespace gantry::policy {
namespace {

constexpr std::string_view traceparent = "traceparent";
constexpr std::size_t traceparent_size = 55;  // "00-" 32 hex "-" 16 hex "-" 2 hex

constexpr bool is_lower_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

constexpr bool is_all_zero(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// Random hex digits that are not all zero: W3C forbids all-zero trace and parent ids.
void random_nonzero_hex(char* out, std::size_t digits) noexcept {
  do detail::random_hex(out, digits);
  while (is_all_zero({out, digits}));
}

bool is_kept_id(std::string_view id, std::size_t max_length) noexcept {
  if (id.empty() || id.size() > max_length) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

request_id::request_id(request_id_config config) : config_{std::move(config)} {
  detail::config_errors errors{"request_id"};
  if (!is_field_name(config_.header))
    errors.add("header", "must be a field name (an RFC 9110 token)");
  else if (is_framing_field(config_.header))
    errors.add("header", "may not be a framing field (Content-Length, Transfer-Encoding)");
  if (config_.max_length == 0 || config_.max_length > state{}.id.size())
    errors.add("max_length", "must be between 1 and 128");
  errors.throw_if_any();
}

bool request_id::is_valid_traceparent(std::string_view v) noexcept {
  if (v.size() < traceparent_size) return false;
  std::string_view version = v.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return false;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  std::string_view trace_id = v.substr(3, 32);
  std::string_view parent_id = v.substr(36, 16);
  std::string_view flags = v.substr(53, 2);
  if (!is_lower_hex(trace_id) || is_all_zero(trace_id)) return false;
  if (!is_lower_hex(parent_id) || is_all_zero(parent_id)) return false;
  if (!is_lower_hex(flags)) return false;
  // Version 00 is exactly 55 characters; later versions may append fields after a dash.
  if (version == "00") return v.size() == traceparent_size;
  return v.size() == traceparent_size || v[traceparent_size] == '-';
}

verdict request_id::on_request_head(exchange& ex, state& s) const {
  http::headers& fields = ex.request.fields;

  bool kept = false;
  if (config_.keep_incoming && fields.count(config_.header) == 1) {
    std::string_view incoming = *fields.get(config_.header);
    if (is_kept_id(incoming, config_.max_length)) {
      std::memcpy(s.id.data(), incoming.data(), incoming.size());
      s.size = static_cast<std::uint8_t>(incoming.size());
      kept = true;
    }
  }
  if (!kept) {
    detail::random_hex(s.id.data(), 32);
    s.size = 32;
    fields.set(config_.header, id(s));
  }

  if (config_.trace_context) {
    // Built in a local buffer: the incoming value is a view into `fields`, which `set` edits.
    char out[traceparent_size];
    std::memcpy(out, "00-", 3);
    out[35] = '-';
    out[52] = '-';
    random_nonzero_hex(out + 36, 16);  // this hop is a new parent
    std::optional<std::string_view> incoming;
    if (fields.count(traceparent) == 1) incoming = fields.get(traceparent);
    if (incoming && is_valid_traceparent(*incoming)) {
      std::memcpy(out + 3, incoming->data() + 3, 32);
      std::memcpy(out + 53, incoming->data() + 53, 2);
    } else {
      random_nonzero_hex(out + 3, 32);
      std::memcpy(out + 53, config_.sample_new_traces ? "01" : "00", 2);
      fields.erase("tracestate");
    }
    fields.set(traceparent, {out, traceparent_size});
  }
  return verdict::continue_;
}

verdict request_id::on_response_head(exchange& ex, state& s) const {
  if (config_.echo && s.size > 0) ex.response.fields.set(config_.header, id(s));
  return verdict::continue_;
}

}  // namespace gantry::policy

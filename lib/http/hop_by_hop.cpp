#include "gantry/http/hop_by_hop.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::http {

namespace {

enum class field_kind : unsigned char { other, hop_by_hop, proxy_credentials };

field_kind kind_of(std::string_view name) noexcept {
  // Dispatch on length: every forwarded field passes through here, and most match none.
  constexpr auto hop = field_kind::hop_by_hop;
  constexpr auto other = field_kind::other;
  switch (name.size()) {
    case 2: return core::iequals(name, "TE") ? hop : other;
    case 7: return core::iequals(name, "Upgrade") ? hop : other;
    case 10:
      return core::iequals(name, "Connection") || core::iequals(name, "Keep-Alive") ? hop : other;
    case 16: return core::iequals(name, "Proxy-Connection") ? hop : other;
    case 17: return core::iequals(name, "Transfer-Encoding") ? hop : other;
    case 18:
      return core::iequals(name, "Proxy-Authenticate") ? field_kind::proxy_credentials : other;
    case 19:
      return core::iequals(name, "Proxy-Authorization") ? field_kind::proxy_credentials : other;
    default: return other;
  }
}

}  // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
  return kind_of(name) == field_kind::hop_by_hop;
}

bool is_proxy_credentials(std::string_view name) noexcept {
  return kind_of(name) == field_kind::proxy_credentials;
}

bool connection_options::read(const headers& fields) noexcept {
  count_ = 0;
  bool too_many = false;
  for (field f : fields) {
    if (!core::iequals(f.name, "Connection")) continue;
    core::for_each_list_element(f.value, [&](std::string_view option) {
      // "keep-alive" names a field that goes anyway; most Connection fields say only that.
      if (is_hop_by_hop(option)) return true;
      for (std::size_t i = 0; i < count_; ++i)
        if (core::iequals({named_[i].data, named_[i].size}, option)) return true;
      if (count_ == named_.size()) {
        too_many = true;
        return false;
      }
      named_[count_++] = {option.data(), option.size()};
      return true;
    });
  }
  return !too_many;
}

bool connection_options::removes(std::string_view name) const noexcept {
  // One classification per field: the proxy credentials ride on the hop-by-hop switch.
  switch (kind_of(name)) {
    case field_kind::hop_by_hop: return true;
    case field_kind::proxy_credentials:
      if (!keep_proxy_credentials_) return true;
      break;  // kept, unless a Connection option names them
    case field_kind::other: break;
  }
  if (count_ == 0) return false;
  if (core::iequals(name, "Content-Length") || core::iequals(name, "Host")) return false;
  for (std::size_t i = 0; i < count_; ++i)
    if (core::iequals({named_[i].data, named_[i].size}, name)) return true;
  return false;
}

bool remove_hop_by_hop(headers& fields, proxy_credentials credentials) {
  connection_options options{credentials};
  if (!options.read(fields)) return false;
  fields.erase_if([&](field f) { return options.removes(f.name); });
  return true;
}

}  // namespace gantry::http

#include "gantry/http/hop_by_hop.hpp"

#include <array>

#include "gantry/core/ascii.hpp"

namespace gantry::http {

bool is_hop_by_hop(std::string_view name) noexcept {
  // Dispatch on length: every forwarded field passes through here, and most match none.
  switch (name.size()) {
    case 2: return core::iequals(name, "TE");
    case 7: return core::iequals(name, "Upgrade");
    case 10: return core::iequals(name, "Connection") || core::iequals(name, "Keep-Alive");
    case 16: return core::iequals(name, "Proxy-Connection");
    case 17: return core::iequals(name, "Transfer-Encoding");
    default: return false;
  }
}

bool remove_hop_by_hop(headers& fields) {
  // The options named by Connection, collected once. Erasing a field leaves the bytes of the
  // others in place, so these views stay valid while we erase. Only the first `named_count`
  // are ever set: the array is not zeroed first, as this runs for every forwarded head.
  struct option_view {
    const char* data;
    std::size_t size;
    std::string_view view() const noexcept { return {data, size}; }
  };
  std::array<option_view, max_connection_options> named;
  std::size_t named_count = 0;
  bool too_many = false;
  for (field f : fields) {
    if (!core::iequals(f.name, "Connection")) continue;
    core::for_each_list_element(f.value, [&](std::string_view option) {
      for (std::size_t i = 0; i < named_count; ++i)
        if (core::iequals(named[i].view(), option)) return true;
      if (named_count == named.size()) {
        too_many = true;
        return false;
      }
      named[named_count++] = {option.data(), option.size()};
      return true;
    });
  }
  if (too_many) return false;

  auto is_named = [&](std::string_view name) {
    if (named_count == 0) return false;
    if (core::iequals(name, "Content-Length") || core::iequals(name, "Host")) return false;
    for (std::size_t i = 0; i < named_count; ++i)
      if (core::iequals(named[i].view(), name)) return true;
    return false;
  };
  for (auto it = fields.begin(); it != fields.end();) {
    std::string_view name = (*it).name;
    it = (is_hop_by_hop(name) || is_named(name)) ? fields.erase(it) : std::next(it);
  }
  return true;
}

}  // namespace gantry::http

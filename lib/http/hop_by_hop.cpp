#include "gantry/http/hop_by_hop.hpp"

#include <array>

#include "gantry/core/ascii.hpp"

namespace gantry::http {

bool is_hop_by_hop(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 6> names{
      "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding", "Upgrade"};
  for (auto hop : names)
    if (core::iequals(name, hop)) return true;
  return false;
}

void remove_hop_by_hop(headers& fields) {
  // Fields named by Connection go first: erasing leaves the names' bytes in place, so the
  // views into the Connection values stay valid while we erase.
  bool named_any = false;
  for (field f : fields)
    if (core::iequals(f.name, "Connection") && !core::trim_ows(f.value).empty()) named_any = true;
  if (named_any) {
    for (auto it = fields.begin(); it != fields.end();) {
      field f = *it;
      bool named = false;
      for (field c : fields) {
        if (core::iequals(c.name, "Connection") && core::list_contains(c.value, f.name)) {
          named = true;
          break;
        }
      }
      it = named ? fields.erase(it) : std::next(it);
    }
  }
  for (auto it = fields.begin(); it != fields.end();)
    it = is_hop_by_hop((*it).name) ? fields.erase(it) : std::next(it);
}

}  // namespace gantry::http

#include "gantry/http/hop_by_hop.hpp"

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
  if (is_hop_by_hop(name)) return true;
  if (count_ == 0) return false;
  if (core::iequals(name, "Content-Length") || core::iequals(name, "Host")) return false;
  for (std::size_t i = 0; i < count_; ++i)
    if (core::iequals({named_[i].data, named_[i].size}, name)) return true;
  return false;
}

bool remove_hop_by_hop(headers& fields) {
  connection_options options;
  if (!options.read(fields)) return false;
  fields.erase_if([&](field f) { return options.removes(f.name); });
  return true;
}

}  // namespace gantry::http

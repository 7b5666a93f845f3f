#include "gantry/http/forwarding.hpp"

#include <charconv>

#include "gantry/core/ascii.hpp"
#include "gantry/http/hop_by_hop.hpp"

namespace gantry::http {

bool prepare_for_forwarding(headers& fields, const parser& parsed, std::string& scratch) {
  // The codings are copied before the fields that hold them go.
  scratch.clear();
  if (parsed.chunked()) {
    for (field f : fields) {
      if (!core::iequals(f.name, "Transfer-Encoding")) continue;
      if (!scratch.empty()) scratch.append(", ");
      scratch.append(f.value);
    }
  }
  if (!remove_hop_by_hop(fields)) return false;
  fields.erase("Content-Length");
  if (parsed.chunked()) {
    fields.add("Transfer-Encoding", scratch.empty() ? std::string_view{"chunked"} : scratch);
  } else if (auto length = parsed.content_length()) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, *length).ptr;
    fields.add("Content-Length", {digits, static_cast<std::size_t>(end - digits)});
  }
  return true;
}

}  // namespace gantry::http

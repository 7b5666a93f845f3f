#include "gantry/http/forwarding.hpp"

#include "gantry/core/ascii.hpp"
#include "gantry/core/number_text.hpp"
#include "gantry/http/hop_by_hop.hpp"

namespace gantry::http {

bool prepare_for_forwarding(headers& fields, const body_framing& framing, std::string& scratch,
                            proxy_credentials credentials) {
  connection_options options{credentials};
  if (!options.read(fields)) return false;
  const bool chunked = framing.chunked;
  const auto length = chunked ? std::nullopt : framing.content_length;
  core::number_digits digits;
  const std::string_view written = length ? core::number_text(*length, digits) : "";
  // One pass. A Content-Length field that says what was parsed, as it was parsed, stays where
  // it is (most do); any other goes. The codings are copied as their fields go.
  bool length_kept = false;
  scratch.clear();
  fields.erase_if([&](field f) {
    if (core::iequals(f.name, "Content-Length")) {
      if (length_kept || !length || f.value != written) return true;
      length_kept = true;
      return false;
    }
    if (!options.removes(f.name)) return false;
    if (chunked && core::iequals(f.name, "Transfer-Encoding")) {
      if (!scratch.empty()) scratch.append(", ");
      scratch.append(f.value);
    }
    return true;
  });
  if (chunked) {
    fields.add("Transfer-Encoding", scratch.empty() ? std::string_view{"chunked"} : scratch);
  } else if (length && !length_kept) {
    fields.add("Content-Length", written);
  }
  return true;
}

}  // namespace gantry::http

// Fuzz target: the request parser.
//
// Input: a control byte, a seed byte, a spare byte, then the bytes a client sends.
//   control bits 0-1  how the split run cuts the input (fuzz_support.hpp, split_mode)
//   control bits 2-3  parser limits (parse_driver.hpp, limits_preset)
//   control bit 4     call finish() at the end, as when the client closes
// Invariants: every event sequence obeys the parser's contract and RFC 9112 framing
// (parse_driver.hpp); any split gives the same transcript as one piece; every accepted head,
// rewritten as the gateway forwards it, reads back the same (forward_check.hpp).
#include <cstddef>
#include <cstdint>

#include "forward_check.hpp"
#include "fuzz_support.hpp"
#include "parse_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gantry;
  fuzz::input_reader in{data, size};
  const std::uint8_t control = in.byte();
  const std::uint8_t seed = in.byte();
  in.byte();  // spare: keeps the layout of the response target

  fuzz::drive_options options;
  options.mode = http::parser_mode::request;
  options.limits = fuzz::limits_preset(control >> 2);
  options.finish = (control & 0x10) != 0;
  options.on_head = [](http::parser& p, const fuzz::message_record&) {
    fuzz::check_forwarded_request(p);
  };
  fuzz::check_split_invariance(in.rest(), static_cast<fuzz::split_mode>(control & 3), seed,
                               options);
  return 0;
}

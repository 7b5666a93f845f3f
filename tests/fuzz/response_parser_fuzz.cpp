// Fuzz target: the response parser.
//
// Input: a control byte, a seed byte, a HEAD mask, then the bytes an upstream sends.
//   control bits 0-1  how the split run cuts the input (fuzz_support.hpp, split_mode)
//   control bits 2-3  parser limits (parse_driver.hpp, limits_preset)
//   HEAD mask bit i   final response i answers a HEAD request (expect_head_response)
// The parser is always finished at the end, as when the upstream closes: that is how a
// close-delimited body ends.
// Invariants: as for requests (request_parser_fuzz.cpp), with the response rewrite of
// forward_check.hpp.
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
  const std::uint8_t head_mask = in.byte();

  fuzz::drive_options options;
  options.mode = http::parser_mode::response;
  options.limits = fuzz::limits_preset(control >> 2);
  options.finish = true;
  for (int i = 0; i < 8; ++i) options.head_responses.push_back(((head_mask >> i) & 1) != 0);
  // The HEAD expectation of the message being parsed, for the forwarding check.
  std::size_t final_responses = 0;
  options.on_head = [&](http::parser& p, const fuzz::message_record& m) {
    bool head = final_responses < 8 && ((head_mask >> final_responses) & 1) != 0;
    fuzz::check_forwarded_response(p, m.bodyless, head);
    if (static_cast<unsigned>(p.response().status) >= 200) ++final_responses;
  };
  fuzz::check_split_invariance(in.rest(), static_cast<fuzz::split_mode>(control & 3), seed,
                               options);
  return 0;
}

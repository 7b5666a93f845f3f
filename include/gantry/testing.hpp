#pragma once
/// @file
/// The test kit in one include: run policies and chains against exchanges built in a test,
/// with no sockets and a clock the test moves.
///
/// - `testing::exchange_builder` builds an exchange: method, target, fields, route params,
///   body pieces, clock.
/// - `testing::fake_clock` stands still until the test advances it.
/// - `testing::run` runs a `policy::chain` or a `policy::static_chain` on the gateway's
///   exchange flow for one exchange, with a scripted upstream reply
///   (`testing::upstream_reply`), and `testing::describe` prints what came out.
/// - `testing::benchmark_chain` measures what a chain costs per exchange on the same flow:
///   percentiles, allocations, and each policy's phases.
/// - `testing::run_awaitable` runs one awaitable to completion from a plain test function.
///
/// Include it in tests only: `gantry/gantry.hpp` leaves the test kit out, so production code
/// does not pull it in.

#include "gantry/testing/chain_benchmark.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/fake_clock.hpp"
#include "gantry/testing/memory_stream.hpp"
#include "gantry/testing/run_awaitable.hpp"
#include "gantry/testing/runner.hpp"

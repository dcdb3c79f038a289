// tests/test_common.hpp — the first include of every test file that uses LibTorch (directly or
// through a gan header that includes it): LibTorch first, then Catch.
//
// c10's logging header (reached from <torch/torch.h>) defines a one-argument CHECK(cond) macro,
// a fatal check that aborts the process; Catch2 defines CHECK(...) as a counted, non-fatal
// assertion. Whichever header comes last wins, with only a "redefined" warning. With Catch
// included first, every CHECK in the file silently became c10's: its passes went uncounted and
// a failure aborted the whole test binary without Catch's context (measured with torch 2.15 and
// Catch 2.13.10: CHECK(1 == 1); CHECK(1 == 2); CHECK(2 == 2) in such a file prints
// "Check failed: 1 == 2", dies of SIGABRT (exit 134) and reports "assertions: 1 | 1 failed",
// the one being the abort). Here c10's CHECK is dropped and Catch's defined after it; the
// include guards keep any later <torch/torch.h> from defining c10's again.
// tests/scripts/check_test_includes.cmake (ctest test_includes_catch_after_torch) fails when a
// test file that reaches LibTorch does not include this header first.
#pragma once

#if defined(TWOBLUECUBES_SINGLE_INCLUDE_CATCH_HPP_INCLUDED) && !defined(C10_UTIL_LOGGING_IS_NOT_GOOGLE_GLOG_H_)
#error "tests/test_common.hpp must come before <catch2/catch.hpp>: LibTorch would redefine CHECK as its fatal check"
#endif

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>

#ifndef CHECK
#error "Catch's CHECK is not defined"
#endif

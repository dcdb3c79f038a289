// gan/fma_peak.hpp — the machine's FP32 fused-multiply-add ceiling, measured.
//
//   gan::FmaPeak p = gan::measure_fma_peak(2);   // 2 threads, ~0.3 s
//   double share = macs / seconds / (p.gmacs * 1e9);
//
// Every thread runs independent chains of vector FMAs on registers only (no loads or stores), with
// the widest ISA the CPU has among those the AdaConv kernels are built for (AVX-512F, AVX2+FMA,
// else SSE2 multiply+add). Enough independent accumulators hide the FMA latency, so the figure is
// the core's FMA throughput: the floor every benchmark here divides by ("X% of peak").
#pragma once

#include <string>

namespace gan {

struct FmaPeak {
  double gmacs = 0;     // multiply-adds per second, all threads together, in units of 1e9
  int threads = 0;
  std::string isa;      // "avx512f", "avx2+fma" or "sse2"
  double seconds = 0;   // wall time of the measurement
};

// threads <= 0: LibTorch's intra-op thread count. Takes the best of `trials` runs.
FmaPeak measure_fma_peak(int threads = 0, int trials = 3);

}  // namespace gan

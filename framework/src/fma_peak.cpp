// The FP32 FMA ceiling (gan/fma_peak.hpp).
#include "gan/fma_peak.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace gan {
namespace {

constexpr int64_t kRounds = 1 << 25;  // per thread and trial: 4e8 vector FMAs, ~0.07 s at 3 GHz
constexpr int kChains = 12;           // independent accumulators: FMA latency 4-5 x 2 ports < 12

// Twelve accumulators as named variables (an array of them was kept on the stack and reloaded
// every round), each round twelve independent FMAs; the empty asm statement pins all twelve in
// vector registers so the compiler can neither spill nor fold the chains. Each kernel returns the
// multiply-adds done (lanes x chains x rounds) and stores a value derived from the results.
#define GAN_FMA_ROUNDS(VEC, SET1, FMA, ADD, CONSTRAINT)                                               \
  VEC a0 = SET1(seed), a1 = SET1(seed + 1), a2 = SET1(seed + 2), a3 = SET1(seed + 3);                 \
  VEC a4 = SET1(seed + 4), a5 = SET1(seed + 5), a6 = SET1(seed + 6), a7 = SET1(seed + 7);             \
  VEC a8 = SET1(seed + 8), a9 = SET1(seed + 9), a10 = SET1(seed + 10), a11 = SET1(seed + 11);         \
  const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                                     \
  for (int64_t r = 0; r < kRounds; ++r) {                                                             \
    a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);                   \
    a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);                   \
    a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);               \
    __asm__ volatile("" : "+" CONSTRAINT(a0), "+" CONSTRAINT(a1), "+" CONSTRAINT(a2), "+" CONSTRAINT(a3), \
                     "+" CONSTRAINT(a4), "+" CONSTRAINT(a5), "+" CONSTRAINT(a6), "+" CONSTRAINT(a7),  \
                     "+" CONSTRAINT(a8), "+" CONSTRAINT(a9), "+" CONSTRAINT(a10), "+" CONSTRAINT(a11)); \
  }                                                                                                   \
  const VEC sum = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),             \
                      ADD(ADD(a8, a9), ADD(a10, a11)));

__attribute__((target("avx512f"))) int64_t fma_avx512(float seed, float* sink) {
  GAN_FMA_ROUNDS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, "v")
  *sink = _mm512_reduce_add_ps(sum);
  return kRounds * kChains * 16;
}

__attribute__((target("avx2,fma"))) int64_t fma_avx2(float seed, float* sink) {
  GAN_FMA_ROUNDS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, "x")
  alignas(32) float v[8];
  _mm256_store_ps(v, sum);
  *sink = v[0] + v[7];
  return kRounds * kChains * 8;
}

// No FMA unit in use: a multiply and an add per multiply-add.
inline __m128 mul_add_sse2(__m128 a, __m128 m, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, m), c); }

int64_t fma_sse2(float seed, float* sink) {
  GAN_FMA_ROUNDS(__m128, _mm_set1_ps, mul_add_sse2, _mm_add_ps, "x")
  *sink = _mm_cvtss_f32(sum);
  return kRounds * kChains * 4;
}

#undef GAN_FMA_ROUNDS

}  // namespace

FmaPeak measure_fma_peak(int threads, int trials) {
  FmaPeak out;
  out.threads = threads > 0 ? threads : at::get_num_threads();
  int64_t (*kernel)(float, float*) = fma_sse2;
  out.isa = "sse2";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    kernel = fma_avx512;
    out.isa = "avx512f";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernel = fma_avx2;
    out.isa = "avx2+fma";
  }
  const auto t_start = std::chrono::steady_clock::now();
  std::vector<float> sinks(static_cast<size_t>(out.threads) * 16);
  for (int t = 0; t < std::max(1, trials); ++t) {
    std::vector<int64_t> macs(static_cast<size_t>(out.threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int i = 0; i < out.threads; ++i) {
      pool.emplace_back([&, i] { macs[size_t(i)] = kernel(1.0f + float(i), &sinks[size_t(i) * 16]); });
    }
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t total = 0;
    for (int64_t m : macs) total += m;
    out.gmacs = std::max(out.gmacs, double(total) / s / 1e9);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return out;
}

}  // namespace gan

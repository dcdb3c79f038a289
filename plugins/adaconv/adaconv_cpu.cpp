// adaconv_cpu.cpp — fused CPU kernel of AdaConv: tiles of pixels x output channels, GEMM for the
// pre-activation (at::mm_out on views of thread-local buffers, i.e. MKL/OpenBLAS), ReLU and
// patch contraction in the epilogue (adaconv_tile.h, the same functions the CUDA kernels call).
// The per-pixel kernel tensor (N*M values) never exists; scratch is O(tile) per thread.
//
// The depthwise conv is computed inside the tiles too (depthwise_row), so neither its output
// nor its gradient exists as an [N, C] tensor in the forward; the backward keeps one [N, C]
// copy of it for pass B.
//
// Backward, two passes, both recomputing the pre-activation tile by GEMM:
//   pass A (parallel over bands of image rows): dpatch and d(dwf) per band; dpatch is scattered
//     into dx, d(dwf) goes through the depthwise backward into dx and per-thread partial sums
//     of the depthwise weight and bias gradients. Bands are processed in two colours (even,
//     then odd band index) and are at least max(Kf, Ka) - 1 rows high, so bands running at the
//     same time never scatter into the same rows.
//   pass B (parallel over column tiles of the 1x1 weight): d(pw_w), d(pw_b); every task owns its
//     rows of the gradient, so nothing is reduced across threads and results are bit-identical
//     from run to run. With the forward's ReLU bits (impl=auto) pass B needs no recompute.
#include "adaconv_cpu.h"
#include "adaconv_direct.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

// MKL (LibTorch's BLAS on x86) would start its own OpenMP team for every tile GEMM even inside
// our parallel region; with busy cores the spinning teams cost 5-7x (measured). Each worker asks
// MKL for a sequential GEMM instead. Weak: absent with other BLAS libraries.
extern "C" int MKL_Set_Num_Threads_Local(int) __attribute__((weak));

namespace adaconv::cpu {
namespace {

struct SequentialBlas {
  int previous = 0;
  SequentialBlas() {
    if (MKL_Set_Num_Threads_Local) previous = MKL_Set_Num_Threads_Local(1);
  }
  ~SequentialBlas() {
    if (MKL_Set_Num_Threads_Local) MKL_Set_Num_Threads_Local(previous);
  }
};

constexpr int64_t kTilePixels = 64;   // pixels per forward / weight-gradient tile
constexpr int64_t kTileCols = 2048;   // target GEMM columns per tile (whole output channels)
constexpr int64_t kBandPixels = 64;   // target pixels per backward band
// Largest C_in for the direct forward. Measured faster than the tile-GEMM path at every paper
// shape (C_in 16-128, README), so on by default; settable for tests and the benchmark
// (set_direct_max_channels), which also run the tile-GEMM path the CUDA kernels mirror.
std::atomic<int64_t> g_direct_max_channels{1 << 30};
constexpr int64_t kDirectTilePixels = 96;  // direct path: pixels per tile (8 blocks of 12)
constexpr int64_t kWgradTilePixels = 128;  // direct weight gradient: pixels per dpre buffer
// Direct path: largest 1x1 weight (M*C values) transposed as a whole once per call (pixel-tile
// parallel); larger ones are split by output channel instead (each task transposes one slice).
constexpr int64_t kDirectTransposeMax = int64_t(2) << 20;

template <class T>
at::Tensor view(const T* p, at::IntArrayRef sizes) {
  return at::from_blob(const_cast<T*>(p), sizes,
                       at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value));
}

// Output channels per tile: enough whole channels to fill ~kTileCols GEMM columns.
int64_t channels_per_tile(const Geometry& g) {
  return std::clamp<int64_t>(kTileCols / g.J(), 1, g.O);
}

// pre[np, cols] = dwf[0 : np] @ pw_w[m0 : m0+cols]^T (bias-free); dwf points at the tile's
// first depthwise row.
template <class T>
void pre_gemm(const T* dwf, const T* pw_w, const Geometry& g, int64_t np, int64_t m0,
              int64_t cols, T* pre) {
  at::Tensor out = view(pre, {np, cols});
  at::mm_out(out, view(dwf, {np, g.C}), view(pw_w + m0 * g.C, {cols, g.C}).t());
}

// ---- tile epilogues: the hot element loops, compiled for AVX-512, AVX2+FMA and baseline x86-64
// (picked at load time by the ifunc resolver); they call the adaconv_tile.h functions, which are
// always_inline and so get vectorised for each target.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ADACONV_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ADACONV_CLONES
#endif

// out[b, o0 .. o0+nob, y, x] += the contraction, for the tile's pixels (out NCHW);
// pre [np, nob*J], patch [np, J].
template <class T>
ADACONV_HD void fwd_epilogue_impl(const T* pre, const T* pw_b, const T* patch, const Geometry& g,
                                  int64_t n0, int64_t np, int64_t o0, int64_t nob, T* out,
                                  uint32_t* mask) {
  const int64_t J = g.J(), O = g.O, mw = g.mask_words(), cols = nob * J;
  for (int64_t p = 0; p < np; ++p) {
    for (int64_t oo = 0; oo < nob; ++oo) {
      const int64_t n = n0 + p, o = o0 + oo;
      const int64_t HW = g.H * g.W;
      out[((n / HW) * O + o) * HW + n % HW] += fwd_dot(pre + p * cols + oo * J, pw_b + o * J, patch + p * J, J,
                               mask ? mask + (n * O + o) * mw : nullptr);
    }
  }
}

// dpre [np, nob*J] and dpatch [np, J] (accumulated) of a band; go [N, O].
template <class T>
ADACONV_HD void bwd_epilogue_impl(const T* pre, const T* pw_b, const T* patch, const T* go,
                                  const Geometry& g, int64_t n0, int64_t np, int64_t o0,
                                  int64_t nob, T* dpre, T* dpatch) {
  const int64_t J = g.J(), O = g.O, cols = nob * J;
  for (int64_t p = 0; p < np; ++p) {
    for (int64_t oo = 0; oo < nob; ++oo) {
      const int64_t off = p * cols + oo * J;
      bwd_row(pre + off, pw_b + (o0 + oo) * J, patch + p * J, go[(n0 + p) * O + o0 + oo],
              dpre + off, dpatch + p * J, J);
    }
  }
}

// dpre [np, nc] of columns j0 .. j0+nc of output channel o; patch [np, nc] holds those columns.
// Adds the column sums of dpre to dpw_b[0 .. nc).
template <class T>
ADACONV_HD void wgrad_epilogue_impl(const T* pre, const T* pw_b, const T* patch, const T* go,
                                    const uint32_t* mask, const Geometry& g, int64_t n0,
                                    int64_t np, int64_t o, int64_t j0, int64_t nc, T* dpre,
                                    T* dpw_b) {
  const int64_t O = g.O, mw = g.mask_words();
  for (int64_t p = 0; p < np; ++p) {
    const int64_t n = n0 + p;
    T* dst = dpre + p * nc;
    if (mask) {
      dpre_from_mask(mask + (n * O + o) * mw, patch + p * nc, go[n * O + o], dst, j0, nc);
    } else {
      dpre_recomputed(pre + p * nc, pw_b, patch + p * nc, go[n * O + o], dst, nc);
    }
  }
  for (int64_t p = 0; p < np; ++p)
    for (int64_t m = 0; m < nc; ++m) dpw_b[m] += dpre[p * nc + m];
}

// The direct forward of a whole tile (adaconv_direct.h), compiled per x86 level with its vector
// width, pixel block and column chunks (AVX-512: 16 lanes x 5 pixels x 3 chunks; AVX2: 8 x 12 x
// 1; baseline: 4 x 6 x 1). 5 x 3 was the fastest AVX-512 block measured (README).
constexpr int kV4Pixels = 5, kV4Chunks = 3;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
template <class T>
__attribute__((target("arch=x86-64-v4"))) void fwd_tile_direct_v4(const direct::Tile<T>& t,
                                                                  const Geometry& g) {
  direct::run<T, 64, kV4Pixels, kV4Chunks>(t, g);
}
template <class T>
__attribute__((target("arch=x86-64-v3"))) void fwd_tile_direct_v3(const direct::Tile<T>& t,
                                                                  const Geometry& g) {
  direct::run<T, 32, 12, 1>(t, g);
}
#endif
template <class T>
void fwd_tile_direct_base(const direct::Tile<T>& t, const Geometry& g) {
  direct::run<T, 16, 6, 1>(t, g);
}

int cpu_level() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const int level = __builtin_cpu_supports("x86-64-v4") ? 4
                           : __builtin_cpu_supports("x86-64-v3") ? 3 : 0;
  return level;
#else
  return 0;
#endif
}
// Highest x86 level the direct path may use (tests lower it to run every compiled variant).
std::atomic<int> g_direct_level_cap{4};

template <class T>
void fwd_tile_direct(const direct::Tile<T>& t, const Geometry& g) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  const int level = std::min(cpu_level(), g_direct_level_cap.load(std::memory_order_relaxed));
  if (level >= 4) return fwd_tile_direct_v4(t, g);
  if (level >= 3) return fwd_tile_direct_v3(t, g);
#endif
  fwd_tile_direct_base(t, g);
}

// The direct weight gradient of one column chunk (adaconv_direct.h, wgrad_chunk), per x86 level
// like the forward: vector width and channel block (AVX-512: 16 float lanes x 16 channels;
// AVX2: 8 x 8; baseline: 4 x 8).
#define ADACONV_WGRAD_ARGS                                                                       \
  const T *x, const T *dwf, const T *wTc, const T *bias, const T *go, const uint32_t *mask,      \
      const Geometry &g, int64_t o, int64_t j0, int64_t n0, int64_t np, T *buf, T *gwT, T *gb
#define ADACONV_WGRAD_PASS x, dwf, wTc, bias, go, mask, g, o, j0, n0, np, buf, gwT, gb
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
template <class T>
__attribute__((target("arch=x86-64-v4"))) void wgrad_direct_v4(ADACONV_WGRAD_ARGS) {
  direct::wgrad_chunk<T, 64, 16>(ADACONV_WGRAD_PASS);
}
template <class T>
__attribute__((target("arch=x86-64-v3"))) void wgrad_direct_v3(ADACONV_WGRAD_ARGS) {
  direct::wgrad_chunk<T, 32, 8>(ADACONV_WGRAD_PASS);
}
#endif
template <class T>
void wgrad_direct_base(ADACONV_WGRAD_ARGS) {
  direct::wgrad_chunk<T, 16, 8>(ADACONV_WGRAD_PASS);
}
template <class T>
void wgrad_direct(int level, ADACONV_WGRAD_ARGS) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (level >= 4) return wgrad_direct_v4(ADACONV_WGRAD_PASS);
  if (level >= 3) return wgrad_direct_v3(ADACONV_WGRAD_PASS);
#endif
  wgrad_direct_base(ADACONV_WGRAD_PASS);
}
#undef ADACONV_WGRAD_ARGS
#undef ADACONV_WGRAD_PASS

// Pass A's direct channel loop over a band (adaconv_direct.h, bwd_band), per x86 level with the
// forward's register blocks (direct_block gives the pixel block to transpose dwf rows by).
#define ADACONV_BAND_ARGS                                                                        \
  const T *dwfB, const T *wT, const T *pw_w, const T *pw_b, const T *patch, const T *go,         \
      const Geometry &g, int64_t n0, int64_t np, T *dpatch, T *dbuf, T *ddwf
#define ADACONV_BAND_PASS dwfB, wT, pw_w, pw_b, patch, go, g, n0, np, dpatch, dbuf, ddwf
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
template <class T>
__attribute__((target("arch=x86-64-v4"))) void bwd_band_v4(ADACONV_BAND_ARGS) {
  direct::bwd_band<T, 64, kV4Pixels, kV4Chunks>(ADACONV_BAND_PASS);
}
template <class T>
__attribute__((target("arch=x86-64-v3"))) void bwd_band_v3(ADACONV_BAND_ARGS) {
  direct::bwd_band<T, 32, 12, 1>(ADACONV_BAND_PASS);
}
#endif
template <class T>
void bwd_band_base(ADACONV_BAND_ARGS) {
  direct::bwd_band<T, 16, 6, 1>(ADACONV_BAND_PASS);
}
template <class T>
void bwd_band_direct(int level, ADACONV_BAND_ARGS) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (level >= 4) return bwd_band_v4(ADACONV_BAND_PASS);
  if (level >= 3) return bwd_band_v3(ADACONV_BAND_PASS);
#endif
  bwd_band_base(ADACONV_BAND_PASS);
}
#undef ADACONV_BAND_ARGS
#undef ADACONV_BAND_PASS
// The pixel block of the direct kernels at an x86 level (as compiled above).
int64_t direct_block(int level) { return level >= 4 ? kV4Pixels : level >= 3 ? 12 : 6; }

// Vector lanes of the direct kernels at an x86 level.
template <class T>
int64_t direct_lanes(int level) {
  return (level >= 4 ? 64 : level >= 3 ? 32 : 16) / int64_t(sizeof(T));
}

// Per-thread scratch of the direct path for tiles of up to tp pixels.
template <class T>
struct DirectScratch {
  std::vector<T> patch, dwf, dwfB, zero;
  std::vector<const T*> nb, nbR;
  std::vector<direct::Pixel> px;
  std::vector<int32_t> chunk;
  std::vector<int64_t> off;
  DirectScratch(const Geometry& g, int64_t tp, int64_t NR)
      : patch(tp * g.J()), dwf(tp * g.C), dwfB(tp * g.C), zero(g.C, T(0)), nb(tp * g.KK()),
        nbR(tp * NR), px(tp), chunk(2 * g.J()), off(g.KK() + NR + g.Ka * g.Ka) {}
  direct::Tile<T> tile(const T* x, const T* dwT, const T* dw_b, const T* w, const T* pw_b,
                       const direct::BiasLayout<T>& bias, const T* b_b, int64_t ldw, int64_t n0,
                       int64_t np, int64_t o0, int64_t o1, T* out, uint32_t* mask) {
    return direct::Tile<T>{x, dwT, dw_b, w, pw_b, bias, b_b, ldw, n0, np, o0, o1,
                           patch.data(), dwf.data(), dwfB.data(), nb.data(), nbR.data(),
                           zero.data(), px.data(), chunk.data(), off.data(), out, mask};
  }
};

#define ADACONV_EPILOGUES(T)                                                                       \
  ADACONV_CLONES void fwd_epilogue(const T* pre, const T* pw_b, const T* patch, const Geometry& g, \
                                   int64_t n0, int64_t np, int64_t o0, int64_t nob, T* out,        \
                                   uint32_t* mask) {                                               \
    fwd_epilogue_impl(pre, pw_b, patch, g, n0, np, o0, nob, out, mask);                            \
  }                                                                                                \
  ADACONV_CLONES void bwd_epilogue(const T* pre, const T* pw_b, const T* patch, const T* go,       \
                                   const Geometry& g, int64_t n0, int64_t np, int64_t o0,          \
                                   int64_t nob, T* dpre, T* dpatch) {                              \
    bwd_epilogue_impl(pre, pw_b, patch, go, g, n0, np, o0, nob, dpre, dpatch);                     \
  }                                                                                                \
  ADACONV_CLONES void wgrad_epilogue(const T* pre, const T* pw_b, const T* patch, const T* go,     \
                                     const uint32_t* mask, const Geometry& g, int64_t n0,          \
                                     int64_t np, int64_t o, int64_t j0, int64_t nc, T* dpre,       \
                                     T* dpw_b) {                                                   \
    wgrad_epilogue_impl(pre, pw_b, patch, go, mask, g, n0, np, o, j0, nc, dpre, dpw_b);            \
  }
ADACONV_EPILOGUES(float)
ADACONV_EPILOGUES(double)

}  // namespace

bool use_direct_forward(const Geometry& g) { return g.C <= g_direct_max_channels.load(); }

int64_t set_direct_max_channels(int64_t c) { return g_direct_max_channels.exchange(c); }

int direct_level() { return std::min(cpu_level(), g_direct_level_cap.load()); }

int set_direct_level_cap(int level) { return g_direct_level_cap.exchange(level); }

template <class T>
void forward(const T* x, const T* dwT, const T* dw_b, const T* pw_w, const T* pw_b,
             const T* bwT, const T* b_b, const Geometry& g, T* out, uint32_t* mask) {
  const int64_t N = g.N(), J = g.J(), O = g.O, C = g.C, M = g.M();
  const bool direct = use_direct_forward(g);
  const int64_t ob = channels_per_tile(g);
  const int64_t tp = direct ? kDirectTilePixels : kTilePixels;
  const int64_t ntiles = (N + tp - 1) / tp;
  // Direct path: the bias branch's weights as the tiles fold them in.
  std::vector<T> fixed, ring;
  std::vector<int32_t> ring_dy, ring_dx;
  direct::BiasLayout<T> bias{};
  if (direct) bias = direct::make_bias_layout(bwT, g, fixed, ring, ring_dy, ring_dx);
  const T* bb = bwT ? b_b : nullptr;
  if (direct && M * C > kDirectTransposeMax) {
    // Large 1x1 weight: parallel over output channels. Each task transposes its channel's
    // C x J slice once and walks every pixel tile; the prologue (patch rows, depthwise rows:
    // J + C Ka^2 per pixel against J C multiply-adds) is recomputed per channel.
    at::parallel_for(0, O, 1, [&](int64_t c0, int64_t c1) {
      DirectScratch<T> scratch(g, tp, bias.NR);
      std::vector<T> wT(C * J);
      for (int64_t o = c0; o < c1; ++o) {
        const T* rows = pw_w + o * J * C;
        for (int64_t j = 0; j < J; ++j)
          for (int64_t c = 0; c < C; ++c) wT[c * J + j] = rows[j * C + c];
        for (int64_t t = 0; t < ntiles; ++t) {
          const int64_t n0 = t * tp, np = std::min(tp, N - n0);
          fwd_tile_direct(scratch.tile(x, dwT, dw_b, wT.data(), pw_b, bias, bb, J, n0, np, o,
                                       o + 1, out, mask),
                          g);
        }
      }
    });
    return;
  }
  // Otherwise parallel over pixel tiles; on the direct path with the 1x1 weight transposed to
  // [C, M] once per call.
  std::vector<T> pwT;
  if (direct) {
    pwT.resize(M * C);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t c = 0; c < C; ++c) pwT[c * M + m] = pw_w[m * C + c];
  }
  at::parallel_for(0, ntiles, 1, [&](int64_t t0, int64_t t1) {
    const SequentialBlas sequential;
    if (direct) {
      DirectScratch<T> scratch(g, tp, bias.NR);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n0 = t * tp, np = std::min(tp, N - n0);
        fwd_tile_direct(scratch.tile(x, dwT, dw_b, pwT.data(), pw_b, bias, bb, M, n0, np, 0, O,
                                     out, mask),
                        g);
      }
      return;
    }
    std::vector<T> patch(tp * J), dwf(tp * C), pre(tp * ob * J);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n0 = t * tp, np = std::min(tp, N - n0);
      for (int64_t p = 0; p < np; ++p) {
        gather_patch_row(x, g, n0 + p, patch.data() + p * J);
        depthwise_row(x, dwT, dw_b, g, n0 + p, dwf.data() + p * C);
      }
      for (int64_t o0 = 0; o0 < O; o0 += ob) {
        const int64_t nob = std::min(ob, O - o0), cols = nob * J;
        pre_gemm(dwf.data(), pw_w, g, np, o0 * J, cols, pre.data());
        fwd_epilogue(pre.data(), pw_b, patch.data(), g, n0, np, o0, nob, out, mask);
      }
    }
  });
}

template <class T>
void backward(const T* x, const T* dwT, const T* dw_b, const T* pw_w, const T* pw_b,
              const Geometry& g, const T* go, const uint32_t* mask, T* dx, T* ddwT, T* ddw_b,
              T* dpw_w, T* dpw_b) {
  const int64_t N = g.N(), J = g.J(), M = g.M(), O = g.O, C = g.C, KA = g.Ka * g.Ka;
  const int64_t ob = channels_per_tile(g);
  // The depthwise output of every pixel, written band by band in pass A, read by pass B.
  std::vector<T> dwf_all(N * C);
  T* dwf = dwf_all.data();
  // Depthwise weight and bias gradients: one partial sum per thread, added in thread order
  // afterwards (deterministic for a fixed thread count, like the rest).
  const int64_t nthreads = at::get_num_threads();
  std::vector<T> partial(nthreads * (KA + 1) * C, T(0));

  // Direct pass A (the forward's register-blocked recompute, no GEMM or pre/dpre buffers) with
  // the direct forward when the vector width divides C and the transposed 1x1 weight is small.
  const int level = direct_level();
  const int64_t L = direct_lanes<T>(level), PRd = direct_block(level);
  const bool direct_a = use_direct_forward(g) && C % L == 0 && M * C <= kDirectTransposeMax;
  std::vector<T> pwT(direct_a ? M * C : 0);
  for (int64_t m = 0; direct_a && m < M; ++m)
    for (int64_t c = 0; c < C; ++c) pwT[c * M + m] = pw_w[m * C + c];

  // ---- pass A: dx and the depthwise gradients, parallel over bands of rows ----
  // A band scatters into the rows within max(Kf, Ka)/2 of it; bands at least max(Kf, Ka) - 1
  // rows high, run in two colours, never write the same rows at the same time.
  const int64_t reach = std::max(g.Kf, g.Ka) - 1;
  const int64_t rows = std::min(g.H, std::max<int64_t>({reach, (kBandPixels + g.W - 1) / g.W, 1}));
  const int64_t nbands = (g.H + rows - 1) / rows;
  for (int64_t colour = 0; colour < 2; ++colour) {
    const int64_t per_image = (nbands - colour + 1) / 2;  // bands colour, colour+2, ...
    if (per_image <= 0) continue;
    at::parallel_for(0, g.B * per_image, 1, [&](int64_t t0, int64_t t1) {
      const SequentialBlas sequential;
      const int64_t maxp = rows * g.W;
      std::vector<T> patch(maxp * J), dpatch(maxp * J), pre(direct_a ? 0 : maxp * ob * J),
          dpre(direct_a ? 0 : maxp * ob * J), ddwf(maxp * C), dwfB(direct_a ? maxp * C : 0),
          dbuf(direct_a ? PRd * J : 0);
      T* part = partial.data() + std::min<int64_t>(at::get_thread_num(), nthreads - 1) * (KA + 1) * C;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / per_image, band = colour + 2 * (t % per_image);
        const int64_t y0 = band * rows, y1 = std::min(g.H, y0 + rows);
        const int64_t n0 = (b * g.H + y0) * g.W, np = (y1 - y0) * g.W;
        for (int64_t p = 0; p < np; ++p) {
          gather_patch_row(x, g, n0 + p, patch.data() + p * J);
          depthwise_row(x, dwT, dw_b, g, n0 + p, dwf + (n0 + p) * C);
        }
        std::fill(dpatch.begin(), dpatch.begin() + np * J, T(0));
        at::Tensor dd = view(ddwf.data(), {np, C});
        dd.zero_();
        if (direct_a) {
          direct::transpose_blocks(dwf + n0 * C, np, C, PRd, dwfB.data());
          bwd_band_direct<T>(level, dwfB.data(), pwT.data(), pw_w, pw_b, patch.data(), go, g, n0,
                             np, dpatch.data(), dbuf.data(), ddwf.data());
        }
        for (int64_t o0 = 0; !direct_a && o0 < O; o0 += ob) {
          const int64_t nob = std::min(ob, O - o0), cols = nob * J;
          pre_gemm(dwf + n0 * C, pw_w, g, np, o0 * J, cols, pre.data());
          bwd_epilogue(pre.data(), pw_b, patch.data(), go, g, n0, np, o0, nob, dpre.data(),
                       dpatch.data());
          dd.addmm_(view(dpre.data(), {np, cols}), view(pw_w + o0 * J * C, {cols, C}));
        }
        for (int64_t p = 0; p < np; ++p) {
          scatter_patch_row(dpatch.data() + p * J, g, n0 + p, dx);
          depthwise_row_backward(x, dwT, ddwf.data() + p * C, g, n0 + p, dx, part, part + KA * C);
        }
      }
    });
  }
  for (int64_t th = 0; th < nthreads; ++th) {
    const T* part = partial.data() + th * (KA + 1) * C;
    for (int64_t e = 0; e < KA * C; ++e) ddwT[e] += part[e];
    for (int64_t i = 0; i < C; ++i) ddw_b[i] += part[KA * C + i];
  }

  // ---- pass B: d(pw_w), d(pw_b), parallel over column tiles of the 1x1 weight ----
  // Direct (with the direct forward, when the vector width divides C): one task per chunk of L
  // columns, the gate and the products in registers (wgrad_chunk); no GEMM, no dpre buffer.
  if (use_direct_forward(g) && C % L == 0) {
    // Tasks of G chunks: each walks the pixels tile by tile and runs its G chunks over a tile
    // while the tile's dwf and input rows are in cache. G: at least 4 tasks per thread, and a
    // task's per-chunk state (3 C*L buffers per chunk) within ~256 KB.
    const int64_t nchunks = M / L;
    const int64_t G = std::clamp<int64_t>(
        std::min<int64_t>(nchunks / (4 * nthreads), (int64_t(256) << 10) / (3 * C * L * int64_t(sizeof(T)))),
        1, nchunks);
    const int64_t ntasks = (nchunks + G - 1) / G;
    at::parallel_for(0, ntasks, 1, [&](int64_t t0, int64_t t1) {
      std::vector<T> buf(kWgradTilePixels * L), wTc(G * C * L), gwT(G * C * L), gb(G * L);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t q0 = t * G, nq = std::min(G, nchunks - q0);
        for (int64_t u = 0; u < nq; ++u) {
          const int64_t m0 = (q0 + u) * L;
          for (int64_t l = 0; l < L; ++l)
            for (int64_t c = 0; c < C; ++c) wTc[(u * C + c) * L + l] = pw_w[(m0 + l) * C + c];
        }
        std::fill(gwT.begin(), gwT.end(), T(0));
        std::fill(gb.begin(), gb.end(), T(0));
        for (int64_t n0 = 0; n0 < N; n0 += kWgradTilePixels) {
          const int64_t np = std::min(kWgradTilePixels, N - n0);
          for (int64_t u = 0; u < nq; ++u) {
            const int64_t m0 = (q0 + u) * L;
            wgrad_direct<T>(level, x, dwf, wTc.data() + u * C * L, pw_b + m0, go, mask, g, m0 / J,
                            m0 % J, n0, np, buf.data(), gwT.data() + u * C * L, gb.data() + u * L);
          }
        }
        for (int64_t u = 0; u < nq; ++u) {
          const int64_t m0 = (q0 + u) * L;
          for (int64_t l = 0; l < L; ++l) {
            for (int64_t c = 0; c < C; ++c) dpw_w[(m0 + l) * C + c] += gwT[(u * C + c) * L + l];
            dpw_b[m0 + l] += gb[u * L + l];
          }
        }
      }
    });
    return;
  }
  // Otherwise tiles of columns, the pre-activation recomputed by GEMM (the CUDA kernel's way).
  // Column tiles never straddle an output channel, so each needs one contiguous range of patch
  // columns j0 .. j0+nc; about 4 tiles per thread for load balance.
  const int64_t want = std::max<int64_t>(4 * nthreads, (M + 1023) / 1024);
  const int64_t per_o = std::max<int64_t>(1, (want + O - 1) / O);  // tiles per output channel
  // multiples of 32 columns: word-aligned ReLU bits for impl=auto
  const int64_t ct = std::min<int64_t>(J, ((J + per_o - 1) / per_o + 31) / 32 * 32);
  const int64_t tiles_per_o = (J + ct - 1) / ct;
  at::parallel_for(0, O * tiles_per_o, 1, [&](int64_t c0, int64_t c1) {
    const SequentialBlas sequential;
    std::vector<T> patch(kTilePixels * ct), pre(kTilePixels * ct), dpre(kTilePixels * ct);
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t o = c / tiles_per_o, j0 = (c % tiles_per_o) * ct, nc = std::min(ct, J - j0);
      const int64_t m0 = o * J + j0;
      at::Tensor dw = view(dpw_w + m0 * C, {nc, C});
      for (int64_t n0 = 0; n0 < N; n0 += kTilePixels) {
        const int64_t np = std::min(kTilePixels, N - n0);
        if (!mask) pre_gemm(dwf + n0 * C, pw_w, g, np, m0, nc, pre.data());
        for (int64_t p = 0; p < np; ++p) gather_patch_cols(x, g, n0 + p, j0, nc, patch.data() + p * nc);
        wgrad_epilogue(pre.data(), pw_b + m0, patch.data(), go, mask, g, n0, np, o, j0, nc,
                       dpre.data(), dpw_b + m0);
        dw.addmm_(view(dpre.data(), {np, nc}).t(), view(dwf + n0 * C, {np, C}));
      }
    }
  });
}

template void forward<float>(const float*, const float*, const float*, const float*,
                             const float*, const float*, const float*, const Geometry&, float*,
                             uint32_t*);
template void forward<double>(const double*, const double*, const double*, const double*,
                              const double*, const double*, const double*, const Geometry&,
                              double*, uint32_t*);
template void backward<float>(const float*, const float*, const float*, const float*,
                              const float*, const Geometry&, const float*, const uint32_t*,
                              float*, float*, float*, float*, float*);
template void backward<double>(const double*, const double*, const double*, const double*,
                               const double*, const Geometry&, const double*, const uint32_t*,
                               double*, double*, double*, double*, double*);

}  // namespace adaconv::cpu

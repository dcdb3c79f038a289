// adaconv_cpu.h — the fused CPU kernel (internal to adaconv_op). Layouts as in adaconv_tile.h;
// all pointers to contiguous buffers; T is float or double.
#pragma once

#include <cstdint>

#include "adaconv_tile.h"

namespace adaconv::cpu {

// Adds the per-pixel contraction (without the bias branch) of x [B, H, W, C] to out, an NCHW
// [B, O, H, W] buffer, with the depthwise conv (dwT [Ka*Ka, C], dw_b [C], window g.Ka)
// computed tile by tile. mask: [N, O, g.mask_words()] uint32 ReLU bits, written when not null.
// Two paths (use_direct_forward): the direct register-blocked kernel (adaconv_direct.h), or
// the tile GEMM (MKL) + fwd_dot epilogue, which is what the CUDA forward kernel does.
// bwT [O, Ka*Ka, C] and b_b [O]: when bwT is not null (direct path only) the kernel also
// computes the bias branch and *writes* out (which may be uninitialised); otherwise out must
// hold the bias branch already and the contraction is added to it.
template <class T>
void forward(const T* x, const T* dwT, const T* dw_b, const T* pw_w, const T* pw_b,
             const T* bwT, const T* b_b, const Geometry& g, T* out, uint32_t* mask);

// Whether the direct forward path is the faster one for this geometry (measured, README).
bool use_direct_forward(const Geometry& g);
// Sets the largest C for the direct path (0: never, a huge value: always); returns the old one.
int64_t set_direct_max_channels(int64_t c);
// The x86 level of the direct kernel variant in use: 4 (AVX-512: 16 lanes x 5 pixels x 3
// chunks), 3 (AVX2: 8 x 12 x 1) or 0 (baseline SSE2: 4 x 6 x 1); the CPU's own level unless
// capped. set_direct_level_cap(c) allows at most level c (the tests run every variant this
// CPU can execute) and returns the previous cap.
int direct_level();
int set_direct_level_cap(int level);

// Gradients given go[N, O]. Accumulated into (zero-fill them, or pre-fill dx with another
// contribution): dx [B, H, W, C], ddwT [Ka*Ka, C], ddw_b [C], dpw_w [M, C], dpw_b [M].
// mask: the forward's bits (impl=auto) or null (recompute the pre-activation).
template <class T>
void backward(const T* x, const T* dwT, const T* dw_b, const T* pw_w, const T* pw_b,
              const Geometry& g, const T* go, const uint32_t* mask, T* dx, T* ddwT, T* ddw_b,
              T* dpw_w, T* dpw_b);

}  // namespace adaconv::cpu

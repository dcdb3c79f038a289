// adaconv_direct.h — the CPU forward's direct path: a register-blocked kernel that computes the
// 1x1 regression, ReLU and patch contraction of PR pixels x one output channel without ever
// storing the pre-activation (CPU only; GNU vector extensions, so the compiler emits whole
// SIMD registers for each target the caller is compiled for).
//
// For each chunk of L columns j = j0 .. j0+L of output channel o (L = lanes of one vector):
//   acc[r] = pw_b[o*J + j] + sum_c dwf[r, c] * pw_w[o*J + j, c]   (kept in registers)
//   s[r]  += relu(acc[r]) * patch[r, j]                            (lane-wise)
//   s[r]  += fixed[o*J + j] * patch[r, j]                          (the bias branch, below)
// and res[r] = sum of the lanes of s[r] (+ the scalar tail when L does not divide J) + b_b[o].
// The bias branch (a Ka x Ka conv C -> O, fixed weights) is folded into the same loop: over the
// part of its window inside the Kf x Kf patch it is a fixed kernel `fixed` on the same patch
// columns; when Ka > Kf the ring outside the patch is added to s from neighbour rows. So one
// horizontal sum per (pixel, channel) finishes both, and the branch costs one FMA per chunk.
// This is the arithmetic of fwd_dot (adaconv_tile.h) with the GEMM folded in: the bias is the
// accumulator's start value instead of being added after the dot product, so results agree
// with the tile-GEMM path to rounding (the tests compare both paths with the reference).
//
// Why: with C_in <= 32 the tile GEMM's inner dimension is tiny, MKL runs far from its peak and
// the pre-activation's round trip through memory costs as much as the GEMM. Measured in
// bench/adaconv (README).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "adaconv_tile.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors wider than the baseline ABI, inlined only
#endif

namespace adaconv::cpu::direct {

template <class T, int Bytes>
struct Lanes {
  typedef T type __attribute__((vector_size(Bytes)));
};

#define ADACONV_INLINE inline __attribute__((always_inline))
// Lambdas too: a lambda left out of line is compiled for the baseline target, not the caller's
// (measured: 15x slower when the pixel-block lambda was not inlined).
#define ADACONV_LAMBDA_INLINE __attribute__((always_inline))

template <class T, int Bytes>
ADACONV_INLINE typename Lanes<T, Bytes>::type load(const T* p) {
  typename Lanes<T, Bytes>::type v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Sum of the lanes, by halving: log2(L) vector adds instead of a chain of L - 1 scalar adds.
template <class T, int Bytes>
ADACONV_INLINE T hsum(const typename Lanes<T, Bytes>::type& v) {
  constexpr int L = Bytes / int(sizeof(T));
  if constexpr (L <= 2) {
    T s = v[0];
    for (int i = 1; i < L; ++i) s += v[i];
    return s;
  } else {
    typename Lanes<T, Bytes / 2>::type lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return hsum<T, Bytes / 2>(lo + hi);
  }
}

// The depthwise rows dwf [np*C] transposed block by block into dwfB (blocks of PR, then 4, then
// 1 pixels): the block at pixel p holds dwf[(p+r)*C + c] at dwfB[p*C + c*R + r].
template <class T>
inline void transpose_blocks(const T* dwf, int64_t np, int64_t C, int64_t PR, T* dwfB) {
  int64_t p = 0;
  auto transpose = [&](int64_t R) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t q = 0; q < R; ++q) dwfB[p * C + c * R + q] = dwf[(p + q) * C + c];
    p += R;
  };
  while (p + PR <= np) transpose(PR);
  while (p + 4 <= np) transpose(4);
  while (p < np) transpose(1);
}

// One pixel of a tile, as the prologue found it.
struct Pixel {
  int64_t b, y, x;
  int64_t out;  // offset of (b, o = 0, y, x) in the NCHW output
};

// The bias branch's weights laid out for the tiles (built once per call, see make_bias_layout).
template <class T>
struct BiasLayout {
  const T* fixed;        // [O, J]: b_w at patch column j = k*C + i where offset k of the Kf x Kf
                         //   patch lies in the Ka x Ka window, else 0
  const T* ring;         // [O, NR, C]: b_w at the NR window offsets outside the patch (Ka > Kf)
  const int32_t* ring_dy;  // [NR] offsets (dy, dx) of the ring
  const int32_t* ring_dx;
  int64_t NR;
};

// Arguments of one tile: pixels n0 .. n0+np, output channels o0 .. o1.
template <class T>
struct Tile {
  const T* x;     // [B, H, W, C]
  const T* dwT;   // [Ka*Ka, C] depthwise weight, dw_b [C] its bias
  const T* dw_b;
  const T* w;     // 1x1 weight slices: column j of channel o at w[c*ldw + (o-o0)*J + j], i.e. the
                  // whole weight transposed to [C, M] (w = pwT + o0*J, ldw = M), or one channel's
                  // slice [C, J] (o1 = o0 + 1, ldw = J)
  const T* pw_b;  // [M]
  BiasLayout<T> bias;  // the bias branch
  const T* b_b;   // [O] its bias, or null: then out += the contraction and bias.fixed must be
                  //   zeros and NR 0 (the branch is computed outside); otherwise out = both
  int64_t ldw, n0, np, o0, o1;
  // thread scratch
  T* patch;       // [np, J] patch rows (when L does not divide C)
  T* dwf;         // [np, C] depthwise rows
  T* dwfB;        // [np, C] the same, transposed block by block
  const T** nb;   // [np, Kf*Kf] neighbour-row pointers (when L divides C)
  const T** nbR;  // [np, NR] the same for the ring
  const T* zero;  // C zeros: the neighbour row outside the image
  Pixel* px;      // [np]
  int32_t* chunk; // [2*J] neighbour k and channel offset i of each L-column chunk
  int64_t* off;   // [Kf*Kf + NR + Ka*Ka] neighbour offsets
  T* out;         // [B, O, H, W]
  uint32_t* mask; // [N, O, mask_words] ReLU bits, or null
};

// The register-blocked rank-1 updates every direct kernel is built on:
//   acc[v][r] += sum_{k < K} s[k*sk + r*sr] * vec[k*vk + v*L .. + L]
// NV vector loads and R scalar broadcasts feed NV*R FMAs per k. Used for the 1x1 regression
// (regress), pass A's depthwise-output gradient and pass B's weight gradient.
template <class T, int Bytes, int NV, int R>
ADACONV_INLINE void outer_acc(const T* s, int64_t sk, int64_t sr, const T* vec, int64_t vk,
                              int64_t K, typename Lanes<T, Bytes>::type (&acc)[NV][R]) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  for (int64_t k = 0; k < K; ++k) {
    V w[NV];
    for (int v = 0; v < NV; ++v) w[v] = load<T, Bytes>(vec + k * vk + v * L);
    for (int r = 0; r < R; ++r) {
      const T a = s[k * sk + r * sr];
      for (int v = 0; v < NV; ++v) acc[v][r] += a * w[v];
    }
  }
}

// The pre-activation of PR pixels x QQ chunks of L columns from j0, in registers:
//   acc[u][r] = bias[j0 + u*L ..] + sum_c dwf[c*PR + r] * wT[c*ldw + j0 + u*L ..]
// Shared by the forward (pixels_channel) and the backward's pass A (bwd_pixels_channel).
template <class T, int Bytes, int PR, int QQ>
ADACONV_INLINE void regress(const T* dwf, const T* wT, int64_t ldw, const T* bias, int64_t C,
                            int64_t j0, typename Lanes<T, Bytes>::type (&acc)[QQ][PR]) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  for (int u = 0; u < QQ; ++u) {
    const V b = load<T, Bytes>(bias + j0 + u * L);
    for (int r = 0; r < PR; ++r) acc[u][r] = b;
  }
  outer_acc<T, Bytes, QQ, PR>(dwf, PR, 1, wT + j0, ldw, C, acc);
}

// PR pixels x output channel o. dwf: the PR depthwise rows transposed, dwf[c*PR + r] (12
// separate row pointers made GCC spill). The full L-column chunks are vector code; the last
// n < L columns are scalar (only when L does not divide J).
// The patch of pixel r comes from patch[r*J + j] (a gathered row), or, when nb is not null (L
// divides C, so a chunk never straddles two neighbours), straight from the input: chunk q holds
// columns k*C + i .. + L with (k, i) = (chunk[2q], chunk[2q+1]), read at nb[r*KK + k] + i.
// fixed: the bias branch's fixed kernel of this channel (BiasLayout::fixed + o*J).
// s and tail arrive holding the ring's lanes and leave holding the result's.
template <class T, int Bytes, int PR, int Q, bool Mask>
ADACONV_INLINE void pixels_channel(const T* dwf, const T* wT, int64_t ldw, const T* bias,
                                   const T* fixed, const T* patch, const T* const* nb, const int32_t* chunk,
                                   int64_t KK, int64_t C, int64_t J,
                                   typename Lanes<T, Bytes>::type (&s)[PR], T (&tail)[PR],
                                   uint32_t* mask, int64_t mask_stride) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  static_assert(32 % L == 0, "chunks must not straddle a 32-bit mask word");
  auto patch_at = [&](int r, int64_t j) ADACONV_LAMBDA_INLINE {
    if (!nb) return patch + r * J + j;
    const int32_t* q = chunk + 2 * (j / L);
    return nb[r * KK + q[0]] + q[1];
  };
  auto store_bits = [&](int r, int64_t j0, uint32_t bits) ADACONV_LAMBDA_INLINE {
    uint32_t& word = mask[r * mask_stride + (j0 >> 5)];
    word = (j0 & 31) ? (word | (bits << (j0 & 31))) : bits;
  };
  int64_t j0 = 0;
  // QQ chunks at a time (regress)
  auto chunks = [&](auto qq) ADACONV_LAMBDA_INLINE {
    constexpr int QQ = decltype(qq)::value;
    for (; j0 + QQ * L <= J; j0 += QQ * L) {
      V acc[QQ][PR];
      regress<T, Bytes, PR, QQ>(dwf, wT, ldw, bias, C, j0, acc);
      for (int u = 0; u < QQ; ++u) {
        const V f = load<T, Bytes>(fixed + j0 + u * L);
        for (int r = 0; r < PR; ++r) {
          // relu(acc) * patch as a masked multiply-add (s unchanged where acc <= 0), then the
          // bias branch's fixed kernel
          const V p = load<T, Bytes>(patch_at(r, j0 + u * L));
          s[r] = acc[u][r] > T(0) ? s[r] + acc[u][r] * p : s[r];
          s[r] += f * p;
        }
      }
      if constexpr (Mask) {
        for (int u = 0; u < QQ; ++u) {
          for (int r = 0; r < PR; ++r) {
            uint32_t bits = 0;
            for (int v = 0; v < L; ++v) bits |= uint32_t(acc[u][r][v] > T(0)) << v;
            store_bits(r, j0 + u * L, bits);
          }
        }
      }
    }
  };
  if constexpr (Q > 2) chunks(std::integral_constant<int, Q>{});
  if constexpr (Q > 1) chunks(std::integral_constant<int, 2>{});
  chunks(std::integral_constant<int, 1>{});
  if (j0 < J) {
    for (int r = 0; r < PR; ++r) {
      uint32_t bits = 0;
      for (int64_t v = 0; j0 + v < J; ++v) {
        T a = bias[j0 + v];
        for (int64_t c = 0; c < C; ++c) a += dwf[c * PR + r] * wT[c * ldw + j0 + v];
        tail[r] += ((a > T(0) ? a : T(0)) + fixed[j0 + v]) * *patch_at(r, j0 + v);
        bits |= uint32_t(a > T(0)) << v;
      }
      if constexpr (Mask) store_bits(r, j0, bits);
    }
  }
}

// depthwise_row (adaconv_tile.h) with the accumulator in registers: out[i] = b[i] +
// sum_k w[k*C + i] * x[pixel (bi, yy, xx) + off_k, i]. x is [B, H, W, C].
template <class T, int Bytes>
ADACONV_INLINE void depthwise_row(const T* x, const T* w, const T* bias, int64_t C, int64_t H,
                                  int64_t W, int64_t Ka, int64_t bi, int64_t yy, int64_t xx,
                                  T* out) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  const int64_t r = Ka / 2;
  const int64_t y0 = yy - r < 0 ? 0 : yy - r, y1 = yy + r + 1 > H ? H : yy + r + 1;
  const int64_t x0 = xx - r < 0 ? 0 : xx - r, x1 = xx + r + 1 > W ? W : xx + r + 1;
  int64_t i0 = 0;
  for (; i0 + L <= C; i0 += L) {
    V acc = load<T, Bytes>(bias + i0);
    for (int64_t sy = y0; sy < y1; ++sy)
      for (int64_t sx = x0; sx < x1; ++sx)
        acc += load<T, Bytes>(x + ((bi * H + sy) * W + sx) * C + i0) *
               load<T, Bytes>(w + ((sy - yy + r) * Ka + (sx - xx + r)) * C + i0);
    std::memcpy(out + i0, &acc, sizeof acc);
  }
  for (int64_t i = i0; i < C; ++i) {
    T acc = bias[i];
    for (int64_t sy = y0; sy < y1; ++sy)
      for (int64_t sx = x0; sx < x1; ++sx)
        acc += x[((bi * H + sy) * W + sx) * C + i] * w[((sy - yy + r) * Ka + (sx - xx + r)) * C + i];
    out[i] = acc;
  }
}

// depthwise_row for a pixel whose whole window is inside the image: centre is its row in x and
// the window's rows are at centre + off[k] (k = 0 .. KA). Two accumulators halve the chain of
// dependent multiply-adds.
template <class T, int Bytes>
ADACONV_INLINE void depthwise_row_interior(const T* centre, const int64_t* off, const T* w,
                                           const T* bias, int64_t C, int64_t KA, T* out) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  int64_t i0 = 0;
  for (; i0 + L <= C; i0 += L) {
    V a0 = load<T, Bytes>(bias + i0), a1 = V{};
    int64_t k = 0;
    for (; k + 2 <= KA; k += 2) {
      a0 += load<T, Bytes>(centre + off[k] + i0) * load<T, Bytes>(w + k * C + i0);
      a1 += load<T, Bytes>(centre + off[k + 1] + i0) * load<T, Bytes>(w + (k + 1) * C + i0);
    }
    if (k < KA) a0 += load<T, Bytes>(centre + off[k] + i0) * load<T, Bytes>(w + k * C + i0);
    a0 += a1;
    std::memcpy(out + i0, &a0, sizeof a0);
  }
  for (int64_t i = i0; i < C; ++i) {
    T acc = bias[i];
    for (int64_t k = 0; k < KA; ++k) acc += centre[off[k] + i] * w[k * C + i];
    out[i] = acc;
  }
}

// The ring of the bias branch (Ka > Kf) of one output channel at pixel (bi, yy, xx), from the
// input with bounds checks (the path for C not a multiple of L): lanes + tail +=
// sum_q sum_i ring[q*C + i] * x[pixel + (dy_q, dx_q), i], zero outside the image.
template <class T, int Bytes>
ADACONV_INLINE void ring_lanes_checked(const T* x, const T* ring, const BiasLayout<T>& bl,
                                       int64_t C, int64_t H, int64_t W, const Pixel& q,
                                       typename Lanes<T, Bytes>::type& lanes, T& tail) {
  constexpr int L = Bytes / int(sizeof(T));
  for (int64_t k = 0; k < bl.NR; ++k) {
    const int64_t sy = q.y + bl.ring_dy[k], sx = q.x + bl.ring_dx[k];
    if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
    const T* src = x + ((q.b * H + sy) * W + sx) * C;
    const T* wk = ring + k * C;
    int64_t i = 0;
    for (; i + L <= C; i += L) lanes += load<T, Bytes>(src + i) * load<T, Bytes>(wk + i);
    for (; i < C; ++i) tail += src[i] * wk[i];
  }
}

// The channel loop of a tile whose prologue has run (see run).
template <class T, int Bytes, int PR, int Q, bool Mask>
ADACONV_INLINE void channels(const Tile<T>& t, const Geometry& g, bool by_row) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  const int64_t C = g.C, J = g.J(), KK = g.KK(), HW = g.H * g.W, NR = t.bias.NR;
  const int64_t mw = g.mask_words();
  // Channel outermost, so that one channel's C x J weight slice stays in cache while the pixel
  // blocks stream past.
  for (int64_t o = t.o0; o < t.o1; ++o) {
    const T* wo = t.w + (o - t.o0) * J;
    const T* ring = t.bias.ring + o * NR * C;
    auto block = [&](int64_t p, auto pr) ADACONV_LAMBDA_INLINE {
      constexpr int R = decltype(pr)::value;
      V s[R];
      T tail[R];
      for (int r = 0; r < R; ++r) {
        s[r] = V{};
        tail[r] = T(0);
      }
      if (NR > 0 && by_row) {
        for (int64_t k = 0; k < NR; ++k) {
          for (int64_t i = 0; i < C; i += L) {
            const V wv = load<T, Bytes>(ring + k * C + i);
            for (int r = 0; r < R; ++r) s[r] += wv * load<T, Bytes>(t.nbR[(p + r) * NR + k] + i);
          }
        }
      } else if (NR > 0) {
        for (int r = 0; r < R; ++r)
          ring_lanes_checked<T, Bytes>(t.x, ring, t.bias, C, g.H, g.W, t.px[p + r], s[r], tail[r]);
      }
      const int64_t n = t.n0 + p;
      pixels_channel<T, Bytes, R, Q, Mask>(t.dwfB + p * C, wo, t.ldw, t.pw_b + o * J,
                                           t.bias.fixed + o * J, t.patch + p * J,
                                           by_row ? t.nb + p * KK : nullptr, t.chunk, KK, C, J,
                                           s, tail, Mask ? t.mask + (n * g.O + o) * mw : nullptr,
                                           g.O * mw);
      for (int r = 0; r < R; ++r) {
        const T res = hsum<T, Bytes>(s[r]) + tail[r];
        T& dst = t.out[t.px[p + r].out + o * HW];
        dst = t.b_b ? res + t.b_b[o] : dst + res;
      }
    };
    int64_t p = 0;
    for (; p + PR <= t.np; p += PR) block(p, std::integral_constant<int, PR>{});
    for (; p + 4 <= t.np; p += 4) block(p, std::integral_constant<int, 4>{});
    for (; p < t.np; ++p) block(p, std::integral_constant<int, 1>{});
  }
}

// A whole tile: the prologue (pixel records, patch rows or neighbour pointers, depthwise rows),
// then the channel loop. Instantiated per x86 level by adaconv_cpu.cpp.
template <class T, int Bytes, int PR, int Q>
ADACONV_INLINE void run(const Tile<T>& t, const Geometry& g) {
  constexpr int L = Bytes / int(sizeof(T));
  const int64_t C = g.C, J = g.J(), KK = g.KK(), HW = g.H * g.W, r = g.Kf / 2, NR = t.bias.NR;
  const bool by_row = C % L == 0;
  const int64_t rf = r, ra = g.Ka / 2, KA = g.Ka * g.Ka, halo = rf > ra ? rf : ra;
  auto row = [&](int64_t bi, int64_t sy, int64_t sx) ADACONV_LAMBDA_INLINE {
    return (sy < 0 || sy >= g.H || sx < 0 || sx >= g.W) ? t.zero
                                                        : t.x + ((bi * g.H + sy) * g.W + sx) * C;
  };
  // Offsets from a pixel's row in x to its neighbours' (pixels away from the border).
  int64_t* koff = t.off;          // [KK] the patch
  int64_t* roff = koff + KK;      // [NR] the bias branch's ring
  int64_t* dwoff = roff + NR;     // [KA] the depthwise window
  for (int64_t k = 0; k < KK; ++k) koff[k] = ((k / g.Kf - rf) * g.W + (k % g.Kf - rf)) * C;
  for (int64_t k = 0; k < NR; ++k) roff[k] = (t.bias.ring_dy[k] * g.W + t.bias.ring_dx[k]) * C;
  for (int64_t k = 0; k < KA; ++k) dwoff[k] = ((k / g.Ka - ra) * g.W + (k % g.Ka - ra)) * C;
  // pixel coordinates advanced one by one (no divisions per pixel)
  int64_t bi = t.n0 / HW, yy = (t.n0 / g.W) % g.H, xx = t.n0 % g.W;
  for (int64_t p = 0; p < t.np; ++p) {
    const int64_t n = t.n0 + p;
    t.px[p] = Pixel{bi, yy, xx, bi * g.O * HW + yy * g.W + xx};
    const T* centre = t.x + n * C;
    const bool inside = yy >= halo && yy + halo < g.H && xx >= halo && xx + halo < g.W;
    if (by_row && inside) {
      for (int64_t k = 0; k < KK; ++k) t.nb[p * KK + k] = centre + koff[k];
      for (int64_t k = 0; k < NR; ++k) t.nbR[p * NR + k] = centre + roff[k];
    } else if (by_row) {
      for (int64_t k = 0; k < KK; ++k) t.nb[p * KK + k] = row(bi, yy + k / g.Kf - r, xx + k % g.Kf - r);
      for (int64_t k = 0; k < NR; ++k)
        t.nbR[p * NR + k] = row(bi, yy + t.bias.ring_dy[k], xx + t.bias.ring_dx[k]);
    } else {
      gather_patch_row(t.x, g, n, t.patch + p * J);
    }
    if (inside) {
      depthwise_row_interior<T, Bytes>(centre, dwoff, t.dwT, t.dw_b, C, KA, t.dwf + p * C);
    } else {
      depthwise_row<T, Bytes>(t.x, t.dwT, t.dw_b, C, g.H, g.W, g.Ka, bi, yy, xx, t.dwf + p * C);
    }
    if (++xx == g.W) {
      xx = 0;
      if (++yy == g.H) {
        yy = 0;
        ++bi;
      }
    }
  }
  if (by_row) {
    for (int64_t q = 0; q < J / L; ++q) {
      t.chunk[2 * q] = int32_t(q * L / C);
      t.chunk[2 * q + 1] = int32_t(q * L % C);
    }
  }
  // dwfB: the depthwise rows transposed block by block, as channels() takes them
  transpose_blocks(t.dwf, t.np, C, PR, t.dwfB);
  if (t.mask) {
    channels<T, Bytes, PR, Q, true>(t, g, by_row);
  } else {
    channels<T, Bytes, PR, Q, false>(t, g, by_row);
  }
}

// ---- backward: pass A, direct ----------------------------------------------------------------
// The band's pixels p .. p+PR and output channel o (L divides C, so chunks of L columns never
// straddle a neighbour and J has no scalar tail). With the pre-activation recomputed in
// registers chunk by chunk (as the forward's pixels_channel) and g_r = go[pixel r, o]:
//   dpatch[r*J + j] += relu(pre[r, j]) * g_r
//   dpre[r, j]       = (pre[r, j] > 0) * g_r * patch[r*J + j]       (kept in dbuf [PR*J])
//   ddwf[r*C + c]   += sum_j dpre[r, j] * pw_w_o[j*C + c]            (pw_w_o: channel o's rows)
// The arithmetic of bwd_row (adaconv_tile.h) and the addmm that followed it in the GEMM path.
template <class T, int Bytes, int PR, int Q>
ADACONV_INLINE void bwd_pixels_channel(const T* dwf, const T* wT, int64_t ldw, const T* bias,
                                       const T* pw_w_o, const T* patch, const T* gov, int64_t C,
                                       int64_t J, T* dpatch, T* dbuf, T* ddwf) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  int64_t j0 = 0;
  auto chunks = [&](auto qq) ADACONV_LAMBDA_INLINE {
    constexpr int QQ = decltype(qq)::value;
    for (; j0 + QQ * L <= J; j0 += QQ * L) {
      V acc[QQ][PR];
      regress<T, Bytes, PR, QQ>(dwf, wT, ldw, bias, C, j0, acc);
      for (int u = 0; u < QQ; ++u) {
        for (int r = 0; r < PR; ++r) {
          const int64_t j = r * J + j0 + u * L;
          const V on = acc[u][r] > T(0) ? acc[u][r] : V{};
          V dp = load<T, Bytes>(dpatch + j);
          dp += on * gov[r];
          std::memcpy(dpatch + j, &dp, sizeof dp);
          const V d = acc[u][r] > T(0) ? gov[r] * load<T, Bytes>(patch + j) : V{};
          std::memcpy(dbuf + j, &d, sizeof d);
        }
      }
    }
  };
  if constexpr (Q > 2) chunks(std::integral_constant<int, Q>{});
  if constexpr (Q > 1) chunks(std::integral_constant<int, 2>{});
  chunks(std::integral_constant<int, 1>{});
  // ddwf rows: CV vectors of input channels at a time for all PR pixels, one pass over j each.
  constexpr int CV = PR * 4 <= 24 ? 4 : PR * 2 <= 24 ? 2 : 1;
  auto cblock = [&](int64_t c0, auto cv) ADACONV_LAMBDA_INLINE {
    constexpr int NV = decltype(cv)::value;
    V a[NV][PR];
    for (int v = 0; v < NV; ++v)
      for (int r = 0; r < PR; ++r) a[v][r] = load<T, Bytes>(ddwf + r * C + c0 + v * L);
    outer_acc<T, Bytes, NV, PR>(dbuf, 1, J, pw_w_o + c0, C, J, a);
    for (int v = 0; v < NV; ++v)
      for (int r = 0; r < PR; ++r) std::memcpy(ddwf + r * C + c0 + v * L, &a[v][r], sizeof(V));
  };
  int64_t c0 = 0;
  for (; c0 + CV * L <= C; c0 += CV * L) cblock(c0, std::integral_constant<int, CV>{});
  for (; c0 < C; c0 += L) cblock(c0, std::integral_constant<int, 1>{});
}

// Pass A's channel loop over a band (pixels n0 .. n0+np) whose patch rows and depthwise rows
// are ready: dwfB (the band's dwf rows transposed block by block, as the forward's tiles), wT
// = the 1x1 weight transposed to [C, M], ldw = M. Accumulates into dpatch [np*J], ddwf [np*C].
template <class T, int Bytes, int PR, int Q>
ADACONV_INLINE void bwd_band(const T* dwfB, const T* wT, const T* pw_w, const T* pw_b,
                             const T* patch, const T* go, const Geometry& g, int64_t n0,
                             int64_t np, T* dpatch, T* dbuf, T* ddwf) {
  const int64_t C = g.C, J = g.J(), M = g.M(), O = g.O;
  for (int64_t o = 0; o < O; ++o) {
    auto block = [&](int64_t p, auto pr) ADACONV_LAMBDA_INLINE {
      constexpr int R = decltype(pr)::value;
      T gov[R];
      bool any = false;
      for (int r = 0; r < R; ++r) {
        gov[r] = go[(n0 + p + r) * O + o];
        any = any || gov[r] != T(0);
      }
      if (!any) return;  // nothing flows back through this channel at these pixels
      bwd_pixels_channel<T, Bytes, R, Q>(dwfB + p * C, wT + o * J, M, pw_b + o * J,
                                         pw_w + o * J * C, patch + p * J, gov, C, J,
                                         dpatch + p * J, dbuf, ddwf + p * C);
    };
    int64_t p = 0;
    for (; p + PR <= np; p += PR) block(p, std::integral_constant<int, PR>{});
    for (; p + 4 <= np; p += 4) block(p, std::integral_constant<int, 4>{});
    for (; p < np; ++p) block(p, std::integral_constant<int, 1>{});
  }
}

// ---- backward: the 1x1 weight's gradient (pass B), direct ----------------------------------
// One chunk of L columns m0 .. m0+L of output channel o, j0 = m0 - o*J; L divides C, so these
// are channels i0 .. i0+L of neighbour k of the patch (j0 = k*C + i0). Over pixels n0 .. n0+np:
//   dpre[n] = on(n) * go[n, o] * x[n + off_k, i0 ..]        (on: the ReLU gate, lane-wise)
//   gwT[c*L + l] += sum_n dpre[n][l] * dwf[n, c],   gb[l] += sum_n dpre[n][l]
// The gate comes from the forward's bits (mask) or is recomputed from wTc [C*L] (this chunk's
// rows of pw_w, transposed) and bias (pw_b + m0). The np dpre vectors are kept in buf [np*L],
// then multiplied into CB accumulator registers per block of channels. The caller runs several
// chunks over the same pixel tile, so the tile's dwf rows are read from cache.
// The arithmetic of wgrad_epilogue (adaconv_cpu.cpp) + the GEMM, without either's buffers.
template <class T, int Bytes, int CB>
ADACONV_INLINE void wgrad_chunk(const T* x, const T* dwf, const T* wTc, const T* bias, const T* go,
                                const uint32_t* mask, const Geometry& g, int64_t o, int64_t j0,
                                int64_t n0, int64_t np, T* buf, T* gwT, T* gb) {
  using V = typename Lanes<T, Bytes>::type;
  using I = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  using VI = typename Lanes<I, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  static_assert(32 % L == 0, "a chunk's ReLU bits lie in one 32-bit word");
  const int64_t C = g.C, O = g.O, mw = g.mask_words(), rf = g.Kf / 2, HW = g.H * g.W;
  const int64_t k = j0 / C, i0 = j0 % C, dy = k / g.Kf - rf, dx = k % g.Kf - rf;
  VI lane_bit;
  for (int v = 0; v < L; ++v) lane_bit[v] = I(1) << v;
  V vb = V{};
  int64_t bi = n0 / HW, yy = (n0 / g.W) % g.H, xx = n0 % g.W;
  for (int64_t p = 0; p < np; ++p) {
    const int64_t n = n0 + p, sy = yy + dy, sx = xx + dx;
    const T gov = go[n * O + o];
    V d = V{};
    if (gov != T(0) && sy >= 0 && sy < g.H && sx >= 0 && sx < g.W) {
      const V pv = gov * load<T, Bytes>(x + ((bi * g.H + sy) * g.W + sx) * C + i0);
      if (mask) {
        const I bits = I(mask[(n * O + o) * mw + (j0 >> 5)] >> (j0 & 31));
        d = (lane_bit & bits) != 0 ? pv : V{};
      } else {
        // four partial sums: one chain of C dependent FMAs was the bottleneck at C_in 64-128
        const T* dr = dwf + n * C;
        V a[4] = {load<T, Bytes>(bias), V{}, V{}, V{}};
        int64_t c = 0;
        for (; c + 4 <= C; c += 4)
          for (int u = 0; u < 4; ++u) a[u] += dr[c + u] * load<T, Bytes>(wTc + (c + u) * L);
        for (; c < C; ++c) a[0] += dr[c] * load<T, Bytes>(wTc + c * L);
        d = (a[0] + a[1]) + (a[2] + a[3]) > T(0) ? pv : V{};
      }
    }
    std::memcpy(buf + p * L, &d, sizeof d);
    vb += d;
    if (++xx == g.W) {
      xx = 0;
      if (++yy == g.H) {
        yy = 0;
        ++bi;
      }
    }
  }
  auto channels_block = [&](int64_t c0, auto cb) ADACONV_LAMBDA_INLINE {
    constexpr int R = decltype(cb)::value;
    V acc[1][R];
    for (int c = 0; c < R; ++c) acc[0][c] = load<T, Bytes>(gwT + (c0 + c) * L);
    outer_acc<T, Bytes, 1, R>(dwf + n0 * C + c0, C, 1, buf, L, np, acc);
    for (int c = 0; c < R; ++c) std::memcpy(gwT + (c0 + c) * L, &acc[0][c], sizeof(V));
  };
  int64_t c0 = 0;
  for (; c0 + CB <= C; c0 += CB) channels_block(c0, std::integral_constant<int, CB>{});
  for (; c0 < C; ++c0) channels_block(c0, std::integral_constant<int, 1>{});
  V b = load<T, Bytes>(gb);
  b += vb;
  std::memcpy(gb, &b, sizeof b);
}

// The bias branch's layout for the tiles from bwT [O, Ka*Ka, C] (null: no branch, all zeros).
// Fills the vectors it points into: fixed [O*J], ring [O*NR*C], dy/dx [NR].
template <class T, class Vec, class IVec>
BiasLayout<T> make_bias_layout(const T* bwT, const Geometry& g, Vec& fixed, Vec& ring, IVec& dy,
                               IVec& dx) {
  const int64_t C = g.C, J = g.J(), KA = g.Ka * g.Ka, rf = g.Kf / 2, ra = g.Ka / 2;
  fixed.assign(g.O * J, T(0));
  dy.clear();
  dx.clear();
  if (bwT) {
    for (int64_t ky = -ra; ky <= ra; ++ky)
      for (int64_t kx = -ra; kx <= ra; ++kx)
        if (ky < -rf || ky > rf || kx < -rf || kx > rf) {
          dy.push_back(int32_t(ky));
          dx.push_back(int32_t(kx));
        }
  }
  const int64_t NR = int64_t(dy.size());
  ring.assign(g.O * NR * C, T(0));
  if (bwT) {
    for (int64_t o = 0; o < g.O; ++o) {
      const T* bw = bwT + o * KA * C;
      for (int64_t k = 0; k < g.KK(); ++k) {
        const int64_t ky = k / g.Kf - rf, kx = k % g.Kf - rf;
        if (ky < -ra || ky > ra || kx < -ra || kx > ra) continue;
        for (int64_t i = 0; i < C; ++i) fixed[o * J + k * C + i] = bw[((ky + ra) * g.Ka + kx + ra) * C + i];
      }
      for (int64_t q = 0; q < NR; ++q)
        for (int64_t i = 0; i < C; ++i)
          ring[(o * NR + q) * C + i] = bw[((dy[q] + ra) * g.Ka + dx[q] + ra) * C + i];
    }
  }
  return BiasLayout<T>{fixed.data(), ring.data(), dy.data(), dx.data(), NR};
}

#undef ADACONV_INLINE
#undef ADACONV_LAMBDA_INLINE

}  // namespace adaconv::cpu::direct

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

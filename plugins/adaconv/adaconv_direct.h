// adaconv_direct.h — the CPU forward's direct path: a register-blocked kernel that computes the
// 1x1 regression, ReLU and patch contraction of PR pixels x one output channel without ever
// storing the pre-activation (CPU only; GNU vector extensions, so the compiler emits whole
// SIMD registers for each target the caller is compiled for).
//
// For each chunk of L columns j = j0 .. j0+L of output channel o (L = lanes of one vector):
//   acc[r] = pw_b[o*J + j] + sum_c dwf[r, c] * pw_w[o*J + j, c]   (kept in registers)
//   s[r]  += relu(acc[r]) * patch[r, j]                            (lane-wise)
// and res[r] = sum of the lanes of s[r] (+ the scalar tail when L does not divide J).
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

// The PR pixels' depthwise rows come transposed, dwf[c*PR + r], so that the broadcasts of one c
// share a base register (12 separate row pointers made GCC spill). The full L-column chunks
// are vector code; the last n < L columns are scalar.
// The patch of pixel r comes from patch[r*J + j] (a gathered row), or, when nb is not null and
// L divides C (so a chunk never straddles two neighbours), straight from the input: column
// j = k*C + i is nb[r*KK + k][i], nb holding each pixel's KK = Kf*Kf neighbour rows (a row of
// zeros outside the image). That saves copying J values per pixel.
template <class T, int Bytes, int PR, int Q>
ADACONV_INLINE void pixels_channel(const T* dwf, const T* wT, int64_t ldw, const T* bias,
                                   const T* patch, const T* const* nb, int64_t KK, int64_t C,
                                   int64_t J, T* res, uint32_t* mask, int64_t mask_stride) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  static_assert(32 % L == 0, "chunks must not straddle a 32-bit mask word");
  auto load = [](const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  auto patch_at = [&](int r, int64_t j) {
    return nb ? nb[r * KK + j / C] + j % C : patch + r * J + j;
  };
  auto store_bits = [&](int r, int64_t j0, uint32_t bits) {
    uint32_t& word = mask[r * mask_stride + (j0 >> 5)];
    word = (j0 & 31) ? (word | (bits << (j0 & 31))) : bits;
  };
  V s[PR];
  for (int r = 0; r < PR; ++r) s[r] = V{};
  int64_t j0 = 0;
  // QQ chunks at a time: QQ weight loads and PR broadcasts feed QQ*PR FMAs per c (fewer loads
  // per FMA than QQ = 1, which matters when two hyperthreads share the load ports).
  auto chunks = [&](auto qq) {
    constexpr int QQ = decltype(qq)::value;
    for (; j0 + QQ * L <= J; j0 += QQ * L) {
      V acc[QQ][PR];
      for (int u = 0; u < QQ; ++u) {
        const V b = load(bias + j0 + u * L);
        for (int r = 0; r < PR; ++r) acc[u][r] = b;
      }
      for (int64_t c = 0; c < C; ++c) {
        V w[QQ];
        for (int u = 0; u < QQ; ++u) w[u] = load(wT + c * ldw + j0 + u * L);
        for (int r = 0; r < PR; ++r) {
          const T a = dwf[c * PR + r];
          for (int u = 0; u < QQ; ++u) acc[u][r] += a * w[u];
        }
      }
      for (int u = 0; u < QQ; ++u) {
        for (int r = 0; r < PR; ++r) {
          const V on = acc[u][r] > T(0) ? acc[u][r] : V{};
          s[r] += on * load(patch_at(r, j0 + u * L));
        }
      }
      if (mask) {
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
  if constexpr (Q > 1) chunks(std::integral_constant<int, Q>{});
  chunks(std::integral_constant<int, 1>{});
  T tail[PR];
  for (int r = 0; r < PR; ++r) tail[r] = T(0);
  if (j0 < J) {
    for (int r = 0; r < PR; ++r) {
      uint32_t bits = 0;
      for (int64_t v = 0; j0 + v < J; ++v) {
        T a = bias[j0 + v];
        for (int64_t c = 0; c < C; ++c) a += dwf[c * PR + r] * wT[c * ldw + j0 + v];
        tail[r] += (a > T(0) ? a : T(0)) * *patch_at(r, j0 + v);
        bits |= uint32_t(a > T(0)) << v;
      }
      if (mask) store_bits(r, j0, bits);
    }
  }
  for (int r = 0; r < PR; ++r) {
    T sum = tail[r];
    for (int v = 0; v < L; ++v) sum += s[r][v];
    res[r] = sum;
  }
}

// depthwise_row (adaconv_tile.h) with the accumulator in registers: out[i] = b[i] +
// sum_k w[k*C + i] * x[pixel n + off_k, i]. x is [B, H, W, C]; (b, y, x) is pixel n.
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
    V acc;
    std::memcpy(&acc, bias + i0, sizeof acc);
    for (int64_t sy = y0; sy < y1; ++sy) {
      for (int64_t sx = x0; sx < x1; ++sx) {
        V a, b;
        std::memcpy(&a, x + ((bi * H + sy) * W + sx) * C + i0, sizeof a);
        std::memcpy(&b, w + ((sy - yy + r) * Ka + (sx - xx + r)) * C + i0, sizeof b);
        acc += a * b;
      }
    }
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

// The bias branch (a Ka x Ka conv C -> O, zero padding) at one pixel, written to out[o * ostride]:
// out = bb[o] + sum_{k, i} bw[(o*Ka*Ka + k)*C + i] * x[pixel n + off_k, i]. bw is the module's
// [O, C, Ka, Ka] weight transposed to [O, Ka*Ka, C] so the channel loop is contiguous.
template <class T, int Bytes>
ADACONV_INLINE void bias_branch_row(const T* x, const T* bw, const T* bb, int64_t C, int64_t O,
                                    int64_t H, int64_t W, int64_t Ka, int64_t bi, int64_t yy,
                                    int64_t xx, T* out, int64_t ostride) {
  using V = typename Lanes<T, Bytes>::type;
  constexpr int L = Bytes / int(sizeof(T));
  const int64_t r = Ka / 2, KA = Ka * Ka;
  const int64_t y0 = yy - r < 0 ? 0 : yy - r, y1 = yy + r + 1 > H ? H : yy + r + 1;
  const int64_t x0 = xx - r < 0 ? 0 : xx - r, x1 = xx + r + 1 > W ? W : xx + r + 1;
  for (int64_t o = 0; o < O; ++o) {
    V acc = V{};
    T tail = T(0);
    for (int64_t sy = y0; sy < y1; ++sy) {
      for (int64_t sx = x0; sx < x1; ++sx) {
        const T* src = x + ((bi * H + sy) * W + sx) * C;
        const T* wk = bw + (o * KA + (sy - yy + r) * Ka + (sx - xx + r)) * C;
        int64_t i = 0;
        for (; i + L <= C; i += L) {
          V a, b;
          std::memcpy(&a, src + i, sizeof a);
          std::memcpy(&b, wk + i, sizeof b);
          acc += a * b;
        }
        for (; i < C; ++i) tail += src[i] * wk[i];
      }
    }
    T sum = bb[o] + tail;
    for (int v = 0; v < L; ++v) sum += acc[v];
    out[o * ostride] = sum;
  }
}

// A tile of np pixels (starting at global pixel n0) for output channels o0 .. o1, channel
// outermost, so that one channel's C x J weight slice stays in cache while the pixel blocks
// stream past. The slices are read from w (column j of channel o at w[c*ldw + (o-o0)*J + j]):
// the whole 1x1 weight transposed to [C, M] (w = pwT + o0*J, ldw = M), or one channel's slice
// [C, J] (o1 = o0 + 1, ldw = J).
// dwf [np, C] and patch [np, J] (or nb [np, Kf*Kf], see pixels_channel) are the tile's rows;
// the results are added to out, an NCHW
// [B, O, H, W] tensor (HW = H*W); mask as fwd_dot. dwfB: scratch of np*C values.
template <class T, int Bytes, int PR, int Q>
ADACONV_INLINE void tile(const T* dwf, const T* w, int64_t ldw, const T* pw_b, const T* patch,
                         const T* const* nb, int64_t C, int64_t O, int64_t Kf, int64_t HW,
                         int64_t n0, int64_t np, int64_t o0, int64_t o1, T* dwfB, T* out,
                         uint32_t* mask) {
  const int64_t J = Kf * Kf * C, KK = Kf * Kf, mw = (J + 31) / 32;
  // dwfB: the tile's depthwise rows, transposed block by block (blocks of PR, then 4, then 1
  // pixels, as the loop below takes them): block at pixel p holds dwf[(p+r)*C + c] at
  // dwfB[p*C + c*R + r].
  {
    int64_t p = 0;
    auto transpose = [&](int64_t R) {
      for (int64_t c = 0; c < C; ++c)
        for (int64_t r = 0; r < R; ++r) dwfB[p * C + c * R + r] = dwf[(p + r) * C + c];
      p += R;
    };
    while (p + PR <= np) transpose(PR);
    while (p + 4 <= np) transpose(4);
    while (p < np) transpose(1);
  }
  for (int64_t o = o0; o < o1; ++o) {
    const T* wo = w + (o - o0) * J;
    auto block = [&](int64_t p, auto pr) {
      constexpr int R = decltype(pr)::value;
      const int64_t n = n0 + p;
      T res[R];
      pixels_channel<T, Bytes, R, Q>(dwfB + p * C, wo, ldw, pw_b + o * J, patch + p * J,
                                  nb ? nb + p * KK : nullptr, KK, C, J, res,
                                  mask ? mask + (n * O + o) * mw : nullptr, O * mw);
      for (int r = 0; r < R; ++r) {
        const int64_t q = n + r;
        out[((q / HW) * O + o) * HW + q % HW] += res[r];
      }
    };
    int64_t p = 0;
    for (; p + PR <= np; p += PR) block(p, std::integral_constant<int, PR>{});
    for (; p + 4 <= np; p += 4) block(p, std::integral_constant<int, 4>{});
    for (; p < np; ++p) block(p, std::integral_constant<int, 1>{});
  }
}

#undef ADACONV_INLINE

}  // namespace adaconv::cpu::direct

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

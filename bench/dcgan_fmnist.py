#!/usr/bin/env python3
"""A plain, hand-written PyTorch DCGAN (Radford et al. 2016) for Fashion-MNIST at 32x32: the reference gan's default model must beat at equal wall time.

    /root/.cache/gan/venv/bin/python bench/dcgan_fmnist.py \
        [--iters 1500] [--seconds S] [--base 32] [--latent 100] [--seed 0] [--threads 2] \
        [--n-samples 5000] [--real-samples 5000] [--grid /tmp/dcgan_grid.png] [--json-out FILE]

Data: the gzip IDX files of --data (default /usr/share/datasets/fashion-mnist), read with
scripts/train_fmnist_classifier.py's read_idx, then load_split's steps: 28x28 padded to 32x32 with
background -1, scaled to [-1, 1] (pixel / 127.5 - 1), [N, 1, 32, 32] — bit for bit the tensors
gan's `idx` data set with pad = 2 gives models/fmnist/*.toml (see gan_pixels; load_split's float32
arithmetic is 1 ulp off gan's for half the pixel values, which the script checks).

Model (the standard DCGAN at 32x32, width --base = b):
    G: z [N, latent, 1, 1] -ConvT 4x4 s1 p0-> 4x4 x 4b -BN-ReLU -ConvT 4x4 s2 p1-> 8x8 x 2b -BN-ReLU
       -ConvT-> 16x16 x b -BN-ReLU -ConvT-> 32x32 x 1 -tanh
    D: x -Conv 4x4 s2 p1-> 16x16 x b -LReLU(0.2) -Conv-> 8x8 x 2b -BN-LReLU -Conv-> 4x4 x 4b -BN-LReLU
       -Conv 4x4 s1 p0-> 1 logit
    Convolutions without bias (each is followed by BN, or is the output layer), as the PyTorch
    DCGAN example; weights N(0, 0.02), BN gamma N(1, 0.02), beta 0.
Training: Adam lr 2e-4, betas (0.5, 0.999) for both nets, batch 64, non-saturating loss
(BCE with logits: D on real -> 1, fake -> 0; G on fake -> 1), one D step per G step. As in gan's
trainer (framework/src/trainer.cpp): D sees the real and the fake batch in two separate forward
passes (so D's BN normalises each batch on its own), and the G step draws fresh noise instead of
reusing the D step's fake batch (the PyTorch example reuses it).
Stopping: --iters N and/or --seconds S (training wall time only: data loading, evaluation and
the grid are outside the clock).

Evaluation, as gan's `gan evaluate` / `[train] eval_every` (framework/src/evaluate.cpp,
plugins/metrics/*.cpp) with models/fmnist's [eval] (n_samples = real_samples = 5000, seed 1234,
batch 250, real_split "test", the shipped classifier models/fmnist/fmnist_classifier.pt):
  - G in eval mode (BN running statistics), as gan (G->eval()); the noise is
    torch.randn([250, latent]) per batch from one CPU generator seeded 1234, as gan.
  - real images: the test split, in the order DataLoader::epoch_order(10000, 1234, 0, shuffle)
    (an mt19937_64 Fisher-Yates, re-implemented below bit for bit), the first --real-samples of
    it; their content hash is printed as `real_images_hash`, comparable with the
    `real_images_hash` of a gan eval.json made with the same data, n, seed and batch size.
  - probabilities = softmax(float64(logits)), features float64, as gan's FeatureNetwork::run.
  - IS: 10 contiguous splits, mean and population std (inception_score of the classifier script,
    the formula of plugins/metrics/inception_score.cpp).
  - FID: frechet_distance(real, fake) (real first, as plugins/metrics/fid.cpp).
  - KID: kid(fake, real, 100 subsets of 1000, seed 1234): the same generator calls as
    plugins/metrics/kid.cpp (randperm of the fake rows, then of the real rows, per subset); kid_std
    is reported null when a subset is a whole set, as gan.
  Differences from gan, all at round-off level: FID's near-zero eigenvalues are clamped at 0 here
  but zeroed below D * eps * max|lambda| in gan (the same for full-rank covariances, N > D);
  the libtorch of gan and this venv's torch may differ in version (randperm / randn / BLAS).
"""
import argparse
import ctypes
import json
import math
import os
import struct
import sys
import time
import warnings
import zlib

# libgomp busy-waits between parallel regions by default; on a shared 2-core machine that spinning
# starves everything else — set before torch loads OpenMP (as scripts/train_fmnist_classifier.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy: harmless
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from train_fmnist_classifier import frechet_distance, inception_score, kid, load_split, read_idx  # noqa: E402,F401

M64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# gan's real-image order and content hash, re-implemented exactly

def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class _MT19937_64:
    """std::mt19937_64."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & M64
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & M64
        self.i = 312

    def _twist(self):
        mt = self.mt
        for i in range(312):
            x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
            xa = x >> 1
            if x & 1:
                xa ^= 0xB5026F5AA96619E9
            mt[i] = mt[(i + 156) % 312] ^ xa
        self.i = 0

    def __call__(self):
        if self.i >= 312:
            self._twist()
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & M64


def epoch_order(n, seed, epoch=0):
    """DataLoader::epoch_order(n, seed, epoch, shuffle = true) of framework/src/data_loader.cpp."""
    order = list(range(n))
    rng = _MT19937_64(_splitmix64(seed ^ _splitmix64(epoch)))
    for i in range(n - 1, 0, -1):
        j = (rng() * (i + 1)) >> 64
        order[i], order[j] = order[j], order[i]
    return order


def _hash_bytes(data, h):
    """hash_bytes of framework/src/evaluate.cpp (FNV-1a prime on 64-bit words, then a final mix)."""
    n = len(data)
    nw = n // 8
    for w in struct.unpack_from("<%dQ" % nw, data):
        h = ((h ^ w) * 1099511628211) & M64
        h ^= h >> 29
    for c in data[nw * 8:]:
        h = ((h ^ c) * 1099511628211) & M64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    return h ^ n


def real_images_hash(x, batch):
    """The content hash gan records as eval.json's real_images_hash: chained over batches of `batch` images (float32 bytes)."""
    h = 1469598103934665603
    for i in range(0, x.shape[0], batch):
        b = x[i:i + batch].float().contiguous()
        h = _hash_bytes(ctypes.string_at(b.data_ptr(), b.numel() * b.element_size()), h)
    return "%016x" % h


def gan_pixels(root, split):
    """load_split's images [N, 1, 32, 32], with gan's rounding of pixel / 127.5 - 1.

    load_split computes pixel / 127.5 - 1 in float32; gan's idx data set (plugins/datasets/common.cpp)
    computes it in double and rounds once, which differs by 1 ulp for 128 of the 256 values. Same
    steps as load_split otherwise (read_idx, scale, pad 2 with -1), with gan's table, so that the
    images are bit-identical to gan's (and real_images_hash comparable).
    """
    prefix = "train" if split == "train" else "t10k"
    u8 = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))  # [N, 28, 28] uint8
    table = (torch.arange(256, dtype=torch.float64) / 127.5 - 1.0).float()
    x = table[u8.long()].unsqueeze(1)                                     # [N, 1, 28, 28] in [-1, 1]
    x = F.pad(x, (2, 2, 2, 2), value=-1.0)                                # background border, idx pad = 2
    return x.contiguous()


# ---------------------------------------------------------------------------------------------
# The DCGAN

class Generator(nn.Module):
    def __init__(self, latent, base):
        super().__init__()
        b = base
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent, 4 * b, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * b), nn.ReLU(True),  # 4x4
            nn.ConvTranspose2d(4 * b, 2 * b, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * b), nn.ReLU(True),   # 8x8
            nn.ConvTranspose2d(2 * b, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True),           # 16x16
            nn.ConvTranspose2d(b, 1, 4, 2, 1, bias=False), nn.Tanh(),                                      # 32x32
        )

    def forward(self, z):
        return self.net(z.view(z.shape[0], -1, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, base):
        super().__init__()
        b = base
        self.net = nn.Sequential(
            nn.Conv2d(1, b, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),                              # 16x16
            nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * b), nn.LeakyReLU(0.2, True),   # 8x8
            nn.Conv2d(2 * b, 4 * b, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * b), nn.LeakyReLU(0.2, True),  # 4x4
            nn.Conv2d(4 * b, 1, 4, 1, 0, bias=False),                                                   # 1x1
        )

    def forward(self, x):
        return self.net(x).view(-1)


def dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


# ---------------------------------------------------------------------------------------------
# Sample grid (PNG written by hand unless torchvision is there)

def write_png_gray(path, img):
    """img: uint8 tensor [H, W]; an 8-bit grayscale PNG with zlib + struct."""
    h, w = img.shape
    raw = b"".join(b"\x00" + bytes(img[y].tolist()) for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "wb") as f:
        f.write(png)


def write_grid(path, x, nrow=8, pad=2):
    """x [64, 1, 32, 32] in [-1, 1] -> an nrow x nrow grid with `pad` pixels of white between images."""
    try:
        import torchvision.utils as vutils
        vutils.save_image(x, path, nrow=nrow, padding=pad, normalize=True, value_range=(-1, 1), pad_value=1.0)
        return "torchvision"
    except ImportError:
        pass
    n, _, h, w = x.shape
    rows = (n + nrow - 1) // nrow
    img = torch.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), 255, dtype=torch.uint8)
    px = ((x[:, 0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    for k in range(n):
        r, c = divmod(k, nrow)
        y0, x0 = pad + r * (h + pad), pad + c * (w + pad)
        img[y0:y0 + h, x0:x0 + w] = px[k]
    write_png_gray(path, img)
    return "zlib+struct"


# ---------------------------------------------------------------------------------------------

def features_of(net, x, batch):
    probs, feats = [], []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            lo, fe = net(x[i:i + batch].float().contiguous())
            probs.append(torch.softmax(lo.double(), 1))
            feats.append(fe.double())
    return torch.cat(probs), torch.cat(feats)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--feature-net", default=os.path.join(ROOT, "models", "fmnist", "fmnist_classifier.pt"))
    ap.add_argument("--iters", type=int, default=1500, help="training iterations (0: no limit, then --seconds)")
    ap.add_argument("--seconds", type=float, default=0.0, help="stop when the training wall time reaches S seconds")
    ap.add_argument("--base", type=int, default=32, help="DCGAN width: G 4b-2b-b, D b-2b-4b channels")
    ap.add_argument("--latent", type=int, default=100, help="latent dimension (DCGAN: 100; gan's fmnist models: 128)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--n-samples", type=int, default=5000, help="generated images for IS/FID/KID")
    ap.add_argument("--real-samples", type=int, default=5000, help="real test images for FID/KID")
    ap.add_argument("--eval-seed", type=int, default=1234, help="gan's [eval] seed: noise, real subset, KID subsets")
    ap.add_argument("--eval-batch", type=int, default=250, help="gan's [eval] batch_size")
    ap.add_argument("--real-split", default="test")
    ap.add_argument("--grid", default="/tmp/dcgan_grid.png")
    ap.add_argument("--json-out", default="")
    args = ap.parse_args()
    if args.iters <= 0 and args.seconds <= 0:
        ap.error("give --iters N > 0 and/or --seconds S > 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t_load = time.perf_counter()
    xtr = gan_pixels(args.data, "train")
    print(f"train {tuple(xtr.shape)} in [{float(xtr.min()):.0f}, {float(xtr.max()):.0f}], "
          f"loaded in {time.perf_counter() - t_load:.1f} s", flush=True)

    G, D = Generator(args.latent, args.base), Discriminator(args.base)
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    print(f"DCGAN base {args.base}, latent {args.latent}: G {n_g} parameters, D {n_d}; "
          f"batch {args.batch}, Adam {args.lr} (0.5, 0.999), threads {args.threads}", flush=True)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    gen = torch.Generator().manual_seed(args.seed)          # data order
    noise_gen = torch.Generator().manual_seed(args.seed * 7919 + 17)  # training noise
    ones = torch.ones(args.batch)
    zeros = torch.zeros(args.batch)

    G.train()
    D.train()
    n = xtr.shape[0]
    per_epoch = n // args.batch  # drop_last
    perm, pos = torch.randperm(n, generator=gen), 0
    it, train_s = 0, 0.0
    sum_d = sum_g = 0.0
    n_sum, it_at_log, t_at_log = 0, 0, 0.0
    while True:
        if args.iters > 0 and it >= args.iters:
            break
        if args.seconds > 0 and train_s >= args.seconds:
            break
        if pos >= per_epoch:  # new epoch (reshuffling is data loading, but it is ~1 ms: inside the clock)
            perm, pos = torch.randperm(n, generator=gen), 0
        t0 = time.perf_counter()
        real = xtr[perm[pos * args.batch:(pos + 1) * args.batch]]
        pos += 1
        # --- D: real -> 1, G(z) -> 0 ---
        with torch.no_grad():
            fake = G(torch.randn(args.batch, args.latent, generator=noise_gen))
        d_loss = bce(D(real), ones) + bce(D(fake), zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # --- G: non-saturating, D(G(z)) -> 1, fresh noise ---
        fake = G(torch.randn(args.batch, args.latent, generator=noise_gen))
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        dl, gl = d_loss.item(), g_loss.item()
        train_s += time.perf_counter() - t0
        it += 1
        if not (math.isfinite(dl) and math.isfinite(gl)):
            raise SystemExit(f"iteration {it}: loss is not finite (D {dl}, G {gl})")
        sum_d += dl
        sum_g += gl
        n_sum += 1
        if it % args.log_every == 0:
            its = (it - it_at_log) / max(train_s - t_at_log, 1e-9)
            print(f"it {it} | {train_s:.1f} s | {its:.2f} it/s | D {sum_d / n_sum:.4f} G {sum_g / n_sum:.4f}",
                  flush=True)
            sum_d = sum_g = 0.0
            n_sum, it_at_log, t_at_log = 0, it, train_s
    it_per_s = it / train_s if train_s > 0 else 0.0
    print(f"trained {it} iterations in {train_s:.1f} s ({it_per_s:.2f} it/s)", flush=True)

    # --- evaluation, as gan evaluate ---
    t_eval = time.perf_counter()
    with warnings.catch_warnings():  # torch >= 2.x: "torch.jit.load is deprecated"; gan loads TorchScript
        warnings.simplefilter("ignore", FutureWarning)
        net = torch.jit.load(args.feature_net).eval()
    G.eval()  # BN running statistics, as gan's evaluator (G->eval())
    eg = torch.Generator().manual_seed(args.eval_seed)
    samples = []
    with torch.no_grad():
        for i in range(0, args.n_samples, args.eval_batch):
            b = min(args.eval_batch, args.n_samples - i)
            samples.append(G(torch.randn(b, args.latent, generator=eg)))
    fake = torch.cat(samples)
    p_fake, f_fake = features_of(net, fake, args.eval_batch)

    xre = gan_pixels(args.data, args.real_split)
    ref, _ = load_split(args.data, args.real_split)
    assert ref.shape == xre.shape and float((ref - xre).abs().max()) < 1e-6, "gan_pixels differs from load_split"
    del ref
    m = min(args.real_samples, xre.shape[0])
    order = epoch_order(xre.shape[0], args.eval_seed, 0)[:m]
    real = xre[torch.tensor(order, dtype=torch.long)].contiguous()
    r_hash = real_images_hash(real, args.eval_batch)
    _, f_real = features_of(net, real, args.eval_batch)

    is_mean, is_std = inception_score(p_fake, splits=10)
    fid = frechet_distance(f_real, f_fake)
    kid_mean, kid_std = kid(f_fake, f_real, subsets=100, size=1000, seed=args.eval_seed)
    if min(1000, f_fake.shape[0], f_real.shape[0]) in (f_fake.shape[0], f_real.shape[0]):
        kid_std = None  # a subset is a whole set: undefined, as gan reports it (null)
    eval_s = time.perf_counter() - t_eval
    how = write_grid(args.grid, fake[:64])
    print(f"evaluated in {eval_s:.1f} s: generator in eval mode (BN running statistics), noise seed "
          f"{args.eval_seed}; {args.n_samples} samples vs {m} {args.real_split} images (gan's order, seed "
          f"{args.eval_seed}; real_images_hash {r_hash}); grid ({how}) {args.grid}", flush=True)
    print(f"IS {is_mean:.4f} ± {is_std:.4f} | FID {fid:.4f} | KID {kid_mean:.6f} ± "
          f"{'n/a' if kid_std is None else f'{kid_std:.6f}'} (raw MMD^2, not x1e3)", flush=True)

    rec = {
        "iterations": it, "train_seconds": round(train_s, 3), "it_per_s": round(it_per_s, 4),
        "is": is_mean, "fid": fid, "kid": kid_mean, "n_samples": args.n_samples, "base": args.base,
        "is_std": is_std, "kid_std": kid_std, "real_samples": m, "real_split": args.real_split,
        "real_images_hash": r_hash, "eval_seed": args.eval_seed, "generator_mode": "eval",
        "latent": args.latent, "batch": args.batch, "seed": args.seed, "threads": args.threads,
        "g_params": n_g, "d_params": n_d, "eval_seconds": round(eval_s, 2), "grid": args.grid,
        "torch": torch.__version__,
    }
    line = json.dumps(rec)
    print(line, flush=True)
    if args.json_out:
        d = os.path.dirname(os.path.abspath(args.json_out))
        os.makedirs(d, exist_ok=True)
        with open(args.json_out, "w") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Train the Fashion-MNIST feature network used by IS/FID/KID for the models in models/fmnist/.

    /root/.cache/gan/venv/bin/python scripts/train_fmnist_classifier.py \
        [--data /usr/share/datasets/fashion-mnist] [--out models/fmnist/fmnist_classifier.pt] \
        [--epochs 4] [--seed 0] [--threads 2]

Images are read from the gzip IDX files with gzip + struct + torch.frombuffer (no numpy or
torchvision needed), padded 28x28 -> 32x32 with background exactly like the models' `idx` data
set with `pad = 2`, and scaled to [-1, 1] (pixel / 127.5 - 1), i.e. the same tensors the
generators are trained to produce.

The saved TorchScript module honours the feature-network contract of docs/feature-networks.md:
forward(x [N, 1, 32, 32] in [-1, 1]) -> (logits [N, 10], features [N, 128]). A JSON file beside it
records the test-split accuracy, epochs, seed, parameter count and the command.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

# libgomp busy-waits between parallel regions by default; on a shared 2-core machine that spinning
# starves everything else (and this script) — set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    if (magic >> 8) != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def load_split(root, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz")).long()
    x = x.float().div(127.5).sub(1.0).unsqueeze(1)       # [N, 1, 28, 28] in [-1, 1]
    x = F.pad(x, (2, 2, 2, 2), value=-1.0)               # background border, as idx pad = 2
    return x.contiguous(), y


class FmnistClassifier(nn.Module):
    """Three conv blocks (16-32-64 channels, BatchNorm, ReLU, 2x2 max pool: 32 -> 4 pixels), a 128-d ReLU feature layer (the features FID/KID use) and a 10-way linear head."""

    def __init__(self, feature_dim: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.feature = nn.Sequential(nn.Linear(64 * 4 * 4, feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, 10)

    def forward(self, x: torch.Tensor):
        h = self.body(x).flatten(1)
        f = self.feature(h)
        logits = self.head(self.dropout(f))
        return logits, f


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            logits, _ = model(x[i:i + batch])
            correct += int((logits.argmax(1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


def inception_score(probs, splits=10):
    """Mean and population std over `splits` contiguous groups, as plugins/metrics (is)."""
    n = probs.shape[0]
    scores = []
    for k in range(splits):
        part = probs[k * n // splits:(k + 1) * n // splits]
        py = part.mean(0, keepdim=True)
        kl = (torch.xlogy(part, part) - torch.xlogy(part, py)).sum(1)
        scores.append(float(torch.exp(kl.mean())))
    t = torch.tensor(scores, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def frechet_distance(f1, f2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), float64, via the symmetric S1^1/2 S2 S1^1/2."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = torch.cov(f1.T), torch.cov(f2.T)
    w, v = torch.linalg.eigh(s1)
    r1 = (v * w.clamp_min(0).sqrt()) @ v.T
    m = r1 @ s2 @ r1
    ev = torch.linalg.eigvalsh((m + m.T) / 2).clamp_min(0)
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * ev.sqrt().sum())


def kid(f1, f2, subsets=100, size=1000, seed=0):
    """Unbiased MMD^2 with k(x, y) = (x.y / D + 1)^3, mean and std over random subsets."""
    d = f1.shape[1]
    g = torch.Generator().manual_seed(seed)
    m = min(size, f1.shape[0], f2.shape[0])
    vals = []
    for _ in range(subsets):
        x = f1[torch.randperm(f1.shape[0], generator=g)[:m]]
        y = f2[torch.randperm(f2.shape[0], generator=g)[:m]]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append(float((kxx.sum() - kxx.diag().sum()) / (m * (m - 1)) +
                          (kyy.sum() - kyy.diag().sum()) / (m * (m - 1)) - 2 * kxy.mean()))
    t = torch.tensor(vals, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def probs_and_features(net, x):
    """The feature network's class probabilities and features of images x, in float64, 1000 at a time."""
    probs, feats = [], []
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            lo, fe = net(x[i:i + 1000])
            probs.append(torch.softmax(lo.double(), 1))
            feats.append(fe.double())
    return torch.cat(probs), torch.cat(feats)


def sanity(path, xtr, xte, seed=0):
    """Real-data figures of a saved feature network: IS of the test split, FID/KID(train subset, test)."""
    net = torch.jit.load(path).eval()

    def run(x):
        return probs_and_features(net, x)

    g = torch.Generator().manual_seed(seed)
    sub = xtr[torch.randperm(xtr.shape[0], generator=g)[:10000]]
    p_te, f_te = run(xte)
    p_tr, f_tr = run(sub)
    is_te = inception_score(p_te)
    is_tr = inception_score(p_tr)
    out = {
        "is_test_10000": [round(is_te[0], 4), round(is_te[1], 4)],
        "is_train_10000": [round(is_tr[0], 4), round(is_tr[1], 4)],
        "fid_train10000_test10000": round(frechet_distance(f_tr, f_te), 4),
        "fid_train5000_test5000": round(frechet_distance(f_tr[:5000], f_te[:5000]), 4),
        "kid_train10000_test10000": [round(v, 6) for v in kid(f_tr, f_te)],
        # a reference for "very different images": the test split against itself flipped upside down
        "fid_test_vs_test_upside_down": round(frechet_distance(f_te, run(xte.flip(2))[1]), 4),
    }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "models", "fmnist", "fmnist_classifier.pt"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--sanity-only", action="store_true",
                    help="only compute the real-data figures of the saved --out network and add them to its JSON")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    xtr, ytr = load_split(args.data, "train")
    xte, yte = load_split(args.data, "test")
    print(f"train {tuple(xtr.shape)}, test {tuple(xte.shape)}", flush=True)
    out = os.path.abspath(args.out)
    meta_path = os.path.splitext(out)[0] + ".json"
    if args.sanity_only:
        with open(meta_path) as f:
            meta = json.load(f)
        meta["real_data"] = sanity(out, xtr, xte, args.seed)
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        print(json.dumps(meta["real_data"], indent=2))
        return 0

    model = FmnistClassifier()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = xtr.shape[0] // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch:(s + 1) * args.batch]
            xb, yb = xtr[idx], ytr[idx]
            # light augmentation: horizontal flips (clothes are left-right symmetric classes)
            flip = torch.rand(xb.shape[0], generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            logits, _ = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            if (s + 1) % 100 == 0:
                print(f"  step {s + 1}/{steps_per_epoch}: loss {total / (s + 1):.4f}, {time.time() - t0:.0f} s", flush=True)
        acc = accuracy(model, xte, yte)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / steps_per_epoch:.4f}, test accuracy {acc:.4f}, "
              f"{time.time() - t0:.0f} s", flush=True)

    model.eval()
    test_acc = accuracy(model, xte, yte)
    train_acc = accuracy(model, xtr[:10000], ytr[:10000])
    scripted = torch.jit.script(model)
    # The contract: (logits [N, K], features [N, D]) for [N, 1, 32, 32] in [-1, 1].
    lo, fe = scripted(xte[:4])
    assert lo.shape == (4, 10) and fe.shape == (4, 128), (lo.shape, fe.shape)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    scripted.save(out)
    meta = {
        "contract": "forward(x [N,1,32,32] in [-1,1]) -> (logits [N,10], features [N,128])",
        "test_accuracy": round(test_acc, 4),
        "train_accuracy_first_10000": round(train_acc, 4),
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch,
        "params": n_params,
        "feature_dim": 128,
        "classes": 10,
        "input": [1, 32, 32],
        "torch": torch.__version__,
        "train_seconds": round(time.time() - t0, 1),
        "command": "/root/.cache/gan/venv/bin/python scripts/train_fmnist_classifier.py --epochs "
                   f"{args.epochs} --seed {args.seed} --threads {args.threads} --batch {args.batch}",
    }
    meta["real_data"] = sanity(out, xtr, xte, args.seed)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta["real_data"], indent=2))
    print(f"test accuracy {test_acc:.4f}; wrote {out} ({os.path.getsize(out)} bytes)", flush=True)


if __name__ == "__main__":
    sys.exit(main())

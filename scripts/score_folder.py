#!/usr/bin/env python3
"""Reference scoring of a folder of 8-bit grayscale PNGs (as `gan sample --out DIR/` writes) with the
Fashion-MNIST feature network, independent of gan: PNGs decoded with the standard library (zlib,
the five PNG filters), features from torch.jit.load, IS and FID with the formulas of
scripts/train_fmnist_classifier.py, against the first N images of the test split in order.

    python scripts/score_folder.py DIR [--real N] [--net models/fmnist/fmnist_classifier.pt]

Prints {"n", "n_real", "is", "is_std", "fid"} as JSON. gan's own figure for the same sets:
    gan score models/fmnist/baseline.toml DIR/ --against data:test --n-against N --metrics is,fid
"""
import argparse
import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fmnist_classifier import frechet_distance, inception_score, load_split, probs_and_features  # noqa: E402

import torch  # noqa: E402


def read_png_gray8(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color != 0 or interlace != 0:
                raise SystemExit(f"{path}: only 8-bit grayscale, non-interlaced PNGs")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return torch.frombuffer(bytearray(b"".join(rows)), dtype=torch.uint8).reshape(1, h, w)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("dir")
    ap.add_argument("--real", type=int, default=5000)
    ap.add_argument("--net", default=os.path.join(root, "models/fmnist/fmnist_classifier.pt"))
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    files = sorted(f for f in os.listdir(args.dir) if f.endswith(".png"))
    x = torch.stack([read_png_gray8(os.path.join(args.dir, f)) for f in files]).float().div(127.5).sub(1.0)
    xte, _ = load_split(args.data, "test")
    net = torch.jit.load(args.net).eval()

    p, f = probs_and_features(net, x)
    _, f_real = probs_and_features(net, xte[:args.real])
    is_mean, is_std = inception_score(p)
    print(json.dumps({"n": len(files), "n_real": args.real, "is": is_mean, "is_std": is_std,
                      "fid": frechet_distance(f, f_real)}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks a `gan export` file from plain PyTorch, with no gan installed:

    python scripts/check_export.py G.pt SAMPLES.npz

loads G.pt with torch.jit.load, generates from the latents of SAMPLES.npz (written by
`gan sample RUN --out SAMPLES.npz`) and prints one JSON object: the max |difference| to the
images gan wrote, the module's attributes and what it returns. Needs only torch (no numpy: the
.npy members are read with the standard library)."""
import ast
import json
import struct
import sys
import zipfile

import torch


def read_npy(data):
    if data[:6] != b"\x93NUMPY":
        raise SystemExit("not a .npy member")
    major = data[6]
    if major == 1:
        (hlen,), off = struct.unpack("<H", data[8:10]), 10
    else:
        (hlen,), off = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[off:off + hlen].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        raise SystemExit("expected C-order float32, got %r" % (header,))
    flat = torch.frombuffer(bytearray(data[off + hlen:]), dtype=torch.float32)
    return flat.reshape(header["shape"])


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    G = torch.jit.load(sys.argv[1])
    with zipfile.ZipFile(sys.argv[2]) as z:
        images = read_npy(z.read("images.npy"))
        latents = read_npy(z.read("latents.npy"))
    with torch.no_grad():
        out = G(latents)
        # batch size is free: one image at a time gives the same
        single = torch.cat([G(latents[i:i + 1]) for i in range(min(3, latents.shape[0]))])
    print(json.dumps({
        "max_abs_diff": (out - images).abs().max().item(),
        "single_vs_batch": (single - out[:single.shape[0]]).abs().max().item(),
        "shape": list(out.shape),
        "latent_dim": G.latent_dim,
        "output_range": list(G.output_range),
        "image_shape": list(G.image_shape),
        "min": out.min().item(),
        "max": out.max().item(),
        "state_dict_keys": sorted(G.state_dict().keys()),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reads a folder of TensorBoard event files with TensorBoard's own EventAccumulator and prints
one JSON object: every scalar tag's [step, value] list and every image tag's [step, width,
height, PNG bytes] list, after TensorBoard's purging of events a resumed run repeated.

    python scripts/read_tensorboard.py RUN/tensorboard

Needs the `tensorboard` package (scripts/setup.sh installs it into the setup venv)."""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator as ea


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    print(json.dumps({
        "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
        "images": {t: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in acc.Images(t)]
                   for t in tags["images"]},
    }))


if __name__ == "__main__":
    main()

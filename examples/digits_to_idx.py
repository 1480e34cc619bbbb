#!/usr/bin/env python3
"""Writes scikit-learn's bundled UCI handwritten digits (1 797 images of 8 x 8 pixels, no
download) as an MNIST-format (IDX) folder for `--data idx:DIR`: the first 1 500 images for
training, the other 297 for testing, pixels 0..16 scaled to 0..255.

    pip install scikit-learn
    python3 examples/digits_to_idx.py out/digits
    cargo run --release --example simclr -- --data idx:out/digits --flip-probability 0
"""
import struct
import sys
from pathlib import Path

from sklearn.datasets import load_digits

TRAIN = 1500


def write_idx(path: Path, magic: int, dims: list, payload: bytes) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(header + payload)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/digits")
    out.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    pixels = [min(255, round(v * 255 / 16)) for v in digits.images.reshape(-1)]
    images = bytes(pixels)
    labels = bytes(int(t) for t in digits.target)
    n, side = len(labels), digits.images.shape[1]
    per = side * side
    for split, lo, hi in (("train", 0, TRAIN), ("t10k", TRAIN, n)):
        write_idx(out / f"{split}-images-idx3-ubyte", 0x0803, [hi - lo, side, side],
                  images[lo * per:hi * per])
        write_idx(out / f"{split}-labels-idx1-ubyte", 0x0801, [hi - lo], labels[lo:hi])
    print(f"wrote {TRAIN} train / {n - TRAIN} test digits of {side}x{side} to {out}")


if __name__ == "__main__":
    main()

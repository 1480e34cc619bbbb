#!/usr/bin/env python3
"""An independent PyTorch version of the crate's SimCLR recipe, to compare quality and speed.

Same data split (10 % of the training images held out and unused), same network (ResNet
stem + one basic block per stage, width doubling, average-pool downsampling, 1x1 projection
skips, batch norm; projection head d -> d -> 64), same NT-Xent at tau = 0.2 over 2n views,
Adam at 2e-3 with a one-epoch linear warm-up then cosine decay to 0, same augmentations
(random resized crop, flip, brightness/contrast/saturation jitter with p = 0.8, grayscale with
p = 0.2) and the same evaluation (weighted cosine kNN, k = 20, tau = 0.07; a linear probe of
300 full-batch Adam steps at 0.05 on standardised features), for the learned backbone, the
same backbone at initialisation and raw pixels.

Two switches test where a difference between the implementations could come from:
  --bn separate|joint  batch norm over each view alone (the crate) or both views together
  --adam-eps E         Adam's epsilon: 1e-5 is Burn's default (the crate), 1e-8 PyTorch's

    python3 benches/simclr_reference.py --data tests/data/digits --flip-probability 0 --seed 1

prints one JSON line (add --json PATH to write it). Needs `torch` (CPU is enough).
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{stem}(.gz) in {folder}")


def load_idx_folder(folder):
    def split(prefix):
        x = read_idx(find(folder, f"{prefix}-images-idx3-ubyte")).float() / 255.0
        y = read_idx(find(folder, f"{prefix}-labels-idx1-ubyte")).long()
        return x.unsqueeze(1), y

    return split("train"), split("t10k")


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        self.skip = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()
        self.downsample = downsample

    def forward(self, x):
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        h = F.relu(self.norm1(self.conv1(x)))
        h = self.norm2(self.conv2(h))
        return F.relu(h + self.skip(x))


class ResNet(nn.Module):
    def __init__(self, channels, width, stages):
        super().__init__()
        self.stem = nn.Conv2d(channels, width, 3, padding=1, bias=False)
        self.stem_norm = nn.BatchNorm2d(width)
        blocks, cin = [], width
        for stage in range(stages):
            cout = width << stage
            blocks.append(BasicBlock(cin, cout, stage > 0))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.features = cin

    def forward(self, x):
        return self.blocks(F.relu(self.stem_norm(self.stem(x)))).mean(dim=(2, 3))


def random_resized_crop(images, scale, ratio, flip_p, gen):
    """Batched RandomResizedCrop (torchvision's sampling) + flip, bilinear, by grid_sample."""
    n, _, h, w = images.shape
    area = h * w
    boxes = []
    for _ in range(n):
        box = None
        for _ in range(10):
            target = area * (scale[0] + (scale[1] - scale[0]) * torch.rand(1, generator=gen).item())
            lo, hi = math.log(ratio[0]), math.log(ratio[1])
            aspect = math.exp(lo + (hi - lo) * torch.rand(1, generator=gen).item())
            cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
            if 1 <= cw <= w and 1 <= ch <= h:
                top = torch.randint(0, h - ch + 1, (1,), generator=gen).item()
                left = torch.randint(0, w - cw + 1, (1,), generator=gen).item()
                box = (top, left, ch, cw)
                break
        boxes.append(box or (0, 0, h, w))
    flips = torch.rand(n, generator=gen) < flip_p
    theta = torch.zeros(n, 2, 3)
    for i, (top, left, ch, cw) in enumerate(boxes):
        sx = cw / w * (-1.0 if flips[i] else 1.0)
        theta[i, 0, 0] = sx
        theta[i, 0, 2] = (2 * left + cw) / w - 1
        theta[i, 1, 1] = ch / h
        theta[i, 1, 2] = (2 * top + ch) / h - 1
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def gray(x):
    return (x * LUMA).sum(1, keepdim=True) if x.shape[1] == 3 else x


def colour(x, args, gen):
    """Brightness, contrast, saturation jitter (p = jitter) then grayscale (p = 0.2)."""
    n = x.shape[0]

    def factor(strength):
        return (1 + strength * (2 * torch.rand(n, 1, 1, 1, generator=gen) - 1))

    b, c, s = factor(args.brightness), factor(args.contrast), factor(args.saturation)
    jitter = (torch.rand(n, 1, 1, 1, generator=gen) < 0.8).float()
    y = (x * b).clamp(0, 1)
    mean = gray(y).mean(dim=(1, 2, 3), keepdim=True)
    y = ((y - mean) * c + mean).clamp(0, 1)
    if x.shape[1] == 3:
        g = gray(y)
        y = ((y - g) * s + g).clamp(0, 1)
    y = jitter * y + (1 - jitter) * x
    if x.shape[1] == 3:
        to_gray = (torch.rand(n, 1, 1, 1, generator=gen) < 0.2).float()
        y = to_gray * gray(y).expand_as(y) + (1 - to_gray) * y
    return y


def view(images, args, gen):
    crops = random_resized_crop(images, (args.crop_min, 1.0), (3 / 4, 4 / 3), args.flip_probability, gen)
    return colour(crops, args, gen)


def nt_xent(z1, z2, temperature):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


@torch.no_grad()
def features(backbone, images):
    backbone.eval()
    out = torch.cat([backbone(images[i : i + 256]) for i in range(0, len(images), 256)])
    backbone.train()
    return out


def knn(train, train_y, test, test_y, classes, k=20, tau=0.07):
    sim = F.normalize(test, dim=1) @ F.normalize(train, dim=1).T
    top, idx = sim.topk(min(k, len(train)), dim=1)
    votes = torch.zeros(len(test), classes, dtype=torch.float64)
    votes.scatter_add_(1, train_y[idx], (top.double() / tau).exp())
    return (votes.argmax(1) == test_y).float().mean().item()


def linear_probe(train, train_y, test, test_y, classes, steps=300, lr=0.05, wd=1e-4):
    mean, std = train.mean(0), train.std(0, unbiased=False).clamp_min(1e-6)
    train, test = (train - mean) / std, (test - mean) / std
    probe = nn.Linear(train.shape[1], classes)
    optim = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=wd, eps=1e-5)
    for _ in range(steps):
        optim.zero_grad()
        F.cross_entropy(probe(train), train_y).backward()
        optim.step()
    with torch.no_grad():
        return (probe(test).argmax(1) == test_y).float().mean().item()


def scores(train, train_y, test, test_y, classes):
    return knn(train, train_y, test, test_y, classes), linear_probe(train, train_y, test, test_y, classes)


def encode_views(backbone, head, v1, v2, joint):
    if joint:
        z = head(backbone(torch.cat([v1, v2])))
        return z[: len(v1)], z[len(v1) :]
    return head(backbone(v1)), head(backbone(v2))


def train(args, backbone, head, images):
    params = list(backbone.parameters()) + list(head.parameters())
    optim = torch.optim.Adam(params, lr=args.lr, eps=args.adam_eps)
    per_epoch = len(images) // args.batch_size
    total = per_epoch * args.epochs
    gen = torch.Generator().manual_seed(args.seed + 1)
    step, losses = 0, []
    for _ in range(args.epochs):
        order = torch.randperm(len(images), generator=gen)
        for b in range(per_epoch):
            batch = images[order[b * args.batch_size : (b + 1) * args.batch_size]]
            z1, z2 = encode_views(backbone, head, view(batch, args, gen), view(batch, args, gen), args.bn == "joint")
            loss = nt_xent(z1, z2, args.temperature)
            warm = step < per_epoch
            t = (step - per_epoch) / max(total - per_epoch, 1)
            lr = args.lr * ((step + 1) / per_epoch if warm else 0.5 * (1 + math.cos(math.pi * t)))
            for group in optim.param_groups:
                group["lr"] = lr
            optim.zero_grad()
            loss.backward()
            optim.step()
            step += 1
        losses.append(loss.item())
    return losses


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder of MNIST-format IDX files (plain or .gz)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--stages", type=int, default=2)
    p.add_argument("--crop-min", type=float, default=0.3)
    p.add_argument("--flip-probability", type=float, default=0.5)
    p.add_argument("--brightness", type=float, default=0.8)
    p.add_argument("--contrast", type=float, default=0.8)
    p.add_argument("--saturation", type=float, default=0.8)
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--bn", choices=["separate", "joint"], default="separate")
    p.add_argument("--adam-eps", type=float, default=1e-5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the result to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    (train_x, train_y), (test_x, test_y) = load_idx_folder(args.data)
    held = round(args.validation_fraction * len(train_x))
    keep = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed))[held:]
    train_x, train_y = train_x[keep], train_y[keep]
    classes = int(max(train_y.max(), test_y.max())) + 1
    backbone = ResNet(train_x.shape[1], args.width, args.stages)
    d = backbone.features
    head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 64))
    initial = ResNet(train_x.shape[1], args.width, args.stages)
    initial.load_state_dict(backbone.state_dict())
    trained_at = time.perf_counter()
    losses = train(args, backbone, head, train_x)
    train_seconds = time.perf_counter() - trained_at
    evaluated = {}
    for name, fn in [("learned", lambda x: features(backbone, x)), ("random_init", lambda x: features(initial, x)),
                     ("raw_pixels", lambda x: x.flatten(1))]:
        evaluated[name] = scores(fn(train_x), train_y, fn(test_x), test_y, classes)
    result = {
        "implementation": "pytorch",
        "seed": args.seed,
        "bn": args.bn,
        "adam_eps": args.adam_eps,
        "knn_top1": {k: v[0] for k, v in evaluated.items()},
        "linear_probe_top1": {k: v[1] for k, v in evaluated.items()},
        "final_loss": losses[-1],
        "seconds_per_epoch": train_seconds / args.epochs,
        "seconds": time.perf_counter() - start,
        "torch": torch.__version__,
        "threads": args.threads,
    }
    line = json.dumps(result)
    print(line)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()

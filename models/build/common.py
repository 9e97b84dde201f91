import json
import os
import random

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # models/
CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")


def setup(seed):
    # BUILD_THREADS=1 lets two builds share two cores without oversubscribing them
    torch.set_num_threads(int(os.environ.get("BUILD_THREADS", "2")))
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)
    os.makedirs(CACHE, exist_ok=True)


def r7(x):
    """Round to 7 significant digits (nested lists / tensors)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().double().tolist()
    if isinstance(x, list):
        return [r7(v) for v in x]
    return float(f"{x:.7g}")


def write_json(path, obj, compact=False):
    with open(path, "w", encoding="utf-8") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def lr_at(step, total, peak, warmup):
    import math
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

"""PyTorch eager reference for the scale benchmark (test/bench/scale.ts spawns it with OMP_WAIT_POLICY=PASSIVE).

Loads a scale model's weights (weights.pt, written by models/build/scale_models.py) into the plain PyTorch modules
of models/build and computes, as a careful user would (batched, no_grad where no gradient is needed, threads =
cores), the same attributions Promptscope computes for each case in --cases (a JSON file):
  occlusion            leave-one-out by deletion (special tokens stay): log p(target | prompt) − log p(target | prompt without token i),
                       all n deletions in one batch; only the last row of logits goes through the head
  gradient-x-input     Σ_h ∂ log p(target)/∂e_{i,h} · e_{i,h}
  integrated-gradients (e − e')·Σ_k w_k ∇f(e' + α_k (e − e')) with the case's rule and node count (the engine's final
                       rule: same nodes and weights) and the mean embedding as e'; path points batched in chunks
                       of ≤ 2048 tokens
Prints one JSON line: {"torch", "threads", "peakRssMb", "results": [{"ms" (median), "scores", "score", "gap"}, ...]}
(gap: integrated gradients' relative completeness gap of the reference itself).
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "build")
sys.path.insert(0, os.path.abspath(BUILD))
from gpt2 import GPT2LMHeadModel  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402

CHUNK_TOKENS = 2048


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    if cfg["model_type"] == "llama":
        m = LlamaForCausalLM(cfg)
        table = lambda: m.model.embed_tokens.weight  # noqa: E731
    else:
        keys = ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "layer_norm_epsilon"]
        m = GPT2LMHeadModel({k: cfg.get(k) for k in keys})
        table = lambda: m.transformer.wte.weight  # noqa: E731
    m.load_state_dict(torch.load(os.path.join(model_dir, "weights.pt")), strict=False)
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m, table()


def last_logprob(m, table, ids, emb, target):
    """log p(target) at the last position of each sequence in the batch ([b, n] ids, [b, n, h] embeddings)."""
    b, n = ids.shape
    h, _ = m.hidden_states(ids, torch.ones_like(ids), torch.arange(n).unsqueeze(0).expand(b, n), inputs_embeds=emb)
    row = torch.nn.functional.linear(h[:, n - 1], table)
    return torch.log_softmax(row, -1)[:, target]


def occlusion(m, table, ids, target, special):
    """Special tokens (the start token) stay, as in Promptscope: their score is 0."""
    n = len(ids)
    idx = [i for i in range(n) if not special[i]]
    with torch.no_grad():
        full = torch.tensor([ids])
        base = last_logprob(m, table, full, table[full], target)[0]
        cut = torch.tensor([[t for j, t in enumerate(ids) if j != i] for i in idx])
        occluded = last_logprob(m, table, cut, table[cut], target)
    scores = [0.0] * n
    for k, i in enumerate(idx):
        scores[i] = float(base - occluded[k])
    return scores, float(base), None


def gradient_x_input(m, table, ids, target):
    x = torch.tensor([ids])
    emb = table[x].clone().requires_grad_(True)
    s = last_logprob(m, table, x, emb, target)[0]
    (g,) = torch.autograd.grad(s, emb)
    return (g[0] * emb[0].detach()).sum(-1).tolist(), float(s), None


def rule_nodes(rule, steps):
    """The engine's rules (src/core/methods/quadrature.ts); nodes of weight 0 (α = 0 when graded) are left out."""
    if rule == "graded-clenshaw-curtis":
        j = np.arange(steps + 1)
        t = (1 - np.cos(j * np.pi / steps)) / 2
        k = np.arange(1, steps // 2 + 1)
        b = np.where(2 * k == steps, 1.0, 2.0)
        w = (np.where((j == 0) | (j == steps), 1.0, 2.0) / steps) * (1 - (b * np.cos(2 * np.outer(j, k) * np.pi / steps) / (4 * k * k - 1)).sum(1)) / 2
        keep = t > 0
        return t[keep] ** 2, (w * 2 * t)[keep]
    if rule == "gauss-legendre":
        t, w = np.polynomial.legendre.leggauss(steps)
        return (t + 1) / 2, w / 2
    return (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)


def integrated_gradients(m, table, ids, target, rule, steps):
    n = len(ids)
    x = torch.tensor([ids])
    e = table[x][0]
    e0 = table.mean(0).expand(n, -1)
    delta = e - e0
    alphas, weights = rule_nodes(rule, steps)
    per_chunk = max(1, CHUNK_TOKENS // n)
    acc = torch.zeros_like(e, dtype=torch.float64)
    for c in range(0, len(alphas), per_chunk):
        a = torch.tensor(alphas[c:c + per_chunk], dtype=torch.float32).view(-1, 1, 1)
        pts = (e0.unsqueeze(0) + a * delta.unsqueeze(0)).clone().requires_grad_(True)
        s = last_logprob(m, table, x.expand(pts.size(0), n), pts, target).sum()
        (g,) = torch.autograd.grad(s, pts)
        w = torch.tensor(weights[c:c + per_chunk], dtype=torch.float64).view(-1, 1, 1)
        acc += (w * g.double()).sum(0)
    scores = (delta.double() * acc).sum(-1)
    with torch.no_grad():
        ends = last_logprob(m, table, x.expand(2, n), torch.stack([e, e0]), target)
    span = float(ends[0] - ends[1])
    # The reference's own completeness gap: whether the rule, not the engine, leaves it.
    return scores.tolist(), float(ends[0]), abs(float(scores.sum()) - span) / max(abs(span), 1e-12)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m, table = load(args.model_dir)
    results = []
    for case in json.load(open(args.cases)):
        ids, target, method = case["inputIds"], case["target"], case["method"]
        if target is None:  # the model's own next token, as the next-token target picks it
            with torch.no_grad():
                x = torch.tensor([ids])
                h, _ = m.hidden_states(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), inputs_embeds=table[x])
                target = int(torch.nn.functional.linear(h[0, -1], table).argmax())
        if method == "occlusion":
            run = lambda: occlusion(m, table, ids, target, case.get("special") or [False] * len(ids))  # noqa: E731
        elif method == "gradient-x-input":
            run = lambda: gradient_x_input(m, table, ids, target)  # noqa: E731
        elif method == "integrated-gradients":
            run = lambda: integrated_gradients(m, table, ids, target, case["rule"], case["steps"])  # noqa: E731
        else:
            raise SystemExit(f"no PyTorch reference for {method}")
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            scores, score, gap = run()
            times.append((time.perf_counter() - t) * 1000)
        results.append({"ms": sorted(times)[len(times) // 2], "scores": scores, "score": score, "gap": gap})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "peakRssMb": peak, "results": results}))


if __name__ == "__main__":
    main()

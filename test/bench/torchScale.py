"""PyTorch eager reference for the scale benchmark (test/bench/scale.ts spawns it with OMP_WAIT_POLICY=PASSIVE).

Loads a scale model's weights (weights.pt, written by models/build/scale_models.py) into the plain PyTorch modules
of models/build and computes, as a careful user would (batched, no_grad where no gradient is needed, threads =
cores), the same attributions Promptscope computes for each case in --cases (a JSON file):
  occlusion            leave-one-out by deletion (special tokens stay): log p(target | prompt) − log p(target | prompt without token i),
                       all n deletions in one batch; only the last row of logits goes through the head
  gradient-x-input     Σ_h ∂ log p(target)/∂e_{i,h} · e_{i,h}
  integrated-gradients (e − e')·Σ_k w_k ∇f(e' + α_k (e − e')) with the case's rule and node count (the engine's final
                       rule: same nodes and weights) and the mean embedding as e'; path points batched in chunks
                       of ≤ 2048 tokens. For the adaptive rule, the node set is first found by the same refinement,
                       reimplemented here (untimed; its interval count is returned as "steps" to compare)
Prints one JSON line: {"torch", "threads", "peakRssMb", "results": [{"ms" (median), "cpuMs" (median CPU time, all threads),
"scores", "score", "gap"}, ...]}
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
ADAPTIVE = {}


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


def path_contributions(m, table, x, e0, delta, target, alphas):
    """Per-token δ·∇f at each α (float64), batched in chunks of ≤ CHUNK_TOKENS tokens."""
    n = x.size(1)
    per_chunk = max(1, CHUNK_TOKENS // n)
    out = []
    for c in range(0, len(alphas), per_chunk):
        a = torch.tensor(alphas[c:c + per_chunk], dtype=torch.float32).view(-1, 1, 1)
        pts = (e0.unsqueeze(0) + a * delta.unsqueeze(0)).clone().requires_grad_(True)
        s = last_logprob(m, table, x.expand(pts.size(0), n), pts, target).sum()
        (g,) = torch.autograd.grad(s, pts)
        out += list((g.double() * delta.double().unsqueeze(0)).sum(-1).numpy())
    return out


def adaptive_nodes(m, table, x, e0, delta, target, span, steps, max_steps):
    """The engine's adaptive rule (src/core/methods/adaptivePath.ts), written again: Simpson panels in t with α = t²,
    the panels with the largest |Simpson − composite Simpson| halved while the relative gap is above 1 %; each panel
    contributes Boole's rule. Returns the final rule's nodes α and weights (the timed run uses only those)."""
    first = max(4, -(-steps // 4) * 4)
    budget = max(first, (max_steps // 4) * 4) - 1
    h = {}
    with torch.no_grad():
        ends = last_logprob(m, table, x.expand(2, x.size(1)), torch.stack([e0 + delta, e0]), target)
    top = path_contributions(m, table, x, e0, delta, target, [1.0])[0]
    h[0.0], h[1.0] = np.zeros_like(top), 2 * top
    panels = [(4 * k / first, 4 * (k + 1) / first) for k in range(first // 4)]
    pts = lambda p: [p[0] + (p[1] - p[0]) * k / 4 for k in range(5)]  # noqa: E731

    def fetch():
        new = sorted({t for p in panels for t in pts(p) if t not in h})
        for t, c in zip(new, path_contributions(m, table, x, e0, delta, target, [t * t for t in new])):
            h[t] = 2 * t * c
        return len(new)

    used = fetch()
    while True:
        total, est = 0.0, []
        for p in panels:
            f = [h[t] for t in pts(p)]
            w = p[1] - p[0]
            s1 = w / 6 * (f[0] + 4 * f[2] + f[4])
            s2 = w / 12 * (f[0] + 4 * f[1] + 2 * f[2] + 4 * f[3] + f[4])
            total += float((s2 + (s2 - s1) / 15).sum())
            est.append(float(np.abs(s2 - s1).sum() / 15))
        room = (budget - used) // 4
        if abs(total - span) <= 0.01 * abs(span) or room < 1:
            break
        mean = sum(est) / len(est)
        order = sorted(range(len(panels)), key=lambda k: -est[k])
        split = set([k for j, k in enumerate(order) if j == 0 or est[k] >= mean][:room])
        panels = [q for k, p in enumerate(panels) for q in ([(p[0], (p[0] + p[1]) / 2), ((p[0] + p[1]) / 2, p[1])] if k in split else [p])]
        used += fetch()
    weights = {}
    for p in panels:
        w = p[1] - p[0]
        for t, b in zip(pts(p), [7, 32, 12, 32, 7]):
            weights[t] = weights.get(t, 0.0) + w * b / 90 * 2 * t
    nodes = sorted(t for t in weights if weights[t] != 0)
    return np.array([t * t for t in nodes]), np.array([weights[t] for t in nodes]), 4 * len(panels)


def integrated_gradients(m, table, ids, target, rule, steps, max_steps=None):
    n = len(ids)
    x = torch.tensor([ids])
    e = table[x][0]
    e0 = table.mean(0).expand(n, -1)
    delta = e - e0
    if rule == "adaptive":
        alphas, weights = ADAPTIVE[(tuple(ids), target, steps, max_steps)]
    else:
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
            if case["rule"] == "adaptive":
                # The node set is the integrand's choice: found once, untimed, as the engine's refinement finds it;
                # the timed run is then the final rule alone, as for the fixed rules.
                x = torch.tensor([ids])
                e0 = table.mean(0).expand(len(ids), -1)
                delta = table[x][0] - e0
                with torch.no_grad():
                    ends = last_logprob(m, table, x.expand(2, len(ids)), torch.stack([table[x][0], e0]), target)
                a, w, intervals = adaptive_nodes(m, table, x, e0, delta, target, float(ends[0] - ends[1]), case["firstSteps"], case["maxSteps"])
                ADAPTIVE[(tuple(ids), target, case["steps"], case["maxSteps"])] = (a, w)
                case["torchSteps"] = intervals
            run = lambda: integrated_gradients(m, table, ids, target, case["rule"], case["steps"], case.get("maxSteps"))  # noqa: E731
        else:
            raise SystemExit(f"no PyTorch reference for {method}")
        times, cpus = [], []
        for _ in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            scores, score, gap = run()
            times.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - c) * 1000)  # every thread of the process
        results.append({"ms": sorted(times)[len(times) // 2], "cpuMs": sorted(cpus)[len(cpus) // 2], "scores": scores, "score": score, "gap": gap, **({"steps": case["torchSteps"]} if "torchSteps" in case else {})})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "peakRssMb": peak, "results": results}))


if __name__ == "__main__":
    main()

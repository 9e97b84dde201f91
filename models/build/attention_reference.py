"""Attention reference fixtures for promptscope-tiny-lm, from the PyTorch model (models/build/gpt2.py).

Loads the weights from the exported ONNX initializers (nothing is trained or rebuilt) and writes
models/promptscope-tiny-lm/reference/attention.json:
  - the softmax probabilities of every layer [layer][head][query][key] for a few prompts;
  - AtMan: for each prompt token i, the target's log-probability with attention to key i suppressed in
    every layer and head, implemented as the AtMan reference code does (row shifted by its minimum over all
    keys of the raw scaled scores, multiplied by the factor, then masked), with and without conceptual
    suppression (cosine similarity of input embeddings ≥ kappa, factor (1 - s)(1 - cos) + s).
Run: /usr/bin/python3 models/build/attention_reference.py
"""
import json
import math
import os
import sys

import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, r7, write_json  # noqa: E402
import gpt2  # noqa: E402

MODEL = os.path.join(ROOT, "promptscope-tiny-lm")
PROMPTS = [0, 5, 6]  # items of reference.json: short, and two longer prompts with repeated names
FACTOR = 0.1  # multiplier of the suppressed key's scores: AtMan's f = 0.9
KAPPA = 0.7


def load_model():
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    model = gpt2.GPT2LMHeadModel(cfg).eval()
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
             for i in onnx.load(os.path.join(MODEL, "onnx", "model.onnx")).graph.initializer}
    state = model.state_dict()
    loaded = {}
    for name in state:
        if name in inits:
            loaded[name] = inits[name]
    missing = [n for n in state if n not in loaded and n != "lm_head.weight"]
    if missing:
        raise SystemExit(f"weights missing from the ONNX initializers: {missing}")
    model.load_state_dict(loaded, strict=False)
    return model, cfg


def attention_forward(factors, record):
    """GPT2Attention.forward with AtMan's score manipulation (factors [batch, key]) and recorded probs."""
    def forward(self, x, allowed, past_key=None, past_value=None):
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = self._split(q), self._split(k), self._split(v)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if factors is not None:
            scores = scores - scores.min(-1).values.unsqueeze(3)
            scores = scores * factors[:, None, None, :]
        scores = torch.where(allowed, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
        probs = torch.softmax(scores, dim=-1)
        record.append(probs)
        y = torch.matmul(probs, v)
        b, s = x.size(0), x.size(1)
        y = y.transpose(1, 2).reshape(b, s, self.n_embd)
        return self.c_proj(y), k, v
    return forward


def run(model, ids, factors=None):
    record = []
    orig = gpt2.GPT2Attention.forward
    gpt2.GPT2Attention.forward = attention_forward(factors, record)
    try:
        x = torch.tensor([ids] * (1 if factors is None else factors.size(0)))
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0).expand_as(x))
    finally:
        gpt2.GPT2Attention.forward = orig
    return logits, record


def conceptual_factors(emb, i, factor, kappa):
    """Factors for suppressing token i conceptually: i itself and every token whose embedding cosine ≥ kappa."""
    n = emb.size(0)
    unit = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-8)
    cos = (unit @ unit[i]).clamp(-1, 1)
    f = torch.ones(n)
    for j in range(n):
        if j == i:
            f[j] = factor
        elif cos[j] >= kappa:
            f[j] = (1 - factor) * (1 - cos[j]) + factor
    return f


def main():
    torch.set_num_threads(2)
    model, cfg = load_model()
    ref = json.load(open(os.path.join(MODEL, "reference", "reference.json")))
    items = []
    with torch.no_grad():
        for k in PROMPTS:
            src = ref["items"][k]
            ids = src["input_ids"]
            n = len(ids)
            logits, probs = run(model, ids)
            last = torch.log_softmax(logits[0, -1], -1)
            target = int(last.argmax())
            # the model must be the one in reference.json
            assert abs(last[target].item() - src["score"]) < 1e-4, "weights differ from the reference fixtures"
            emb = model.transformer.wte.weight[torch.tensor(ids)]
            plain = torch.ones(n, n)
            concept = torch.ones(n, n)
            for i in range(n):
                plain[i, i] = FACTOR
                concept[i] = conceptual_factors(emb, i, FACTOR, KAPPA)
            lp_plain = torch.log_softmax(run(model, ids, plain)[0][:, -1], -1)[:, target]
            lp_concept = torch.log_softmax(run(model, ids, concept)[0][:, -1], -1)[:, target]
            items.append({
                "prompt": src["prompt"], "input_ids": ids, "target_token_id": target,
                "log_prob": r7(last[target].item()),
                "attention": [r7(p[0]) for p in probs],
                "atman_log_prob": r7(lp_plain),
                "atman_conceptual_factors": r7(concept),
                "atman_conceptual_log_prob": r7(lp_concept),
            })
    doc = {
        "model": "promptscope-tiny-lm",
        "schema": {
            "attention": "softmax probabilities per layer [layer][head][query][key]; positions 0..n-1, mask all ones",
            "log_prob": "log p(target | prompt) at the last position, unmodified",
            "atman_log_prob": f"[i]: log p(target) with the scores of key i multiplied by {FACTOR} after shifting "
                              "each row by its minimum (raw scaled scores, all keys), in every layer and head",
            "atman_conceptual_factors": f"[i][j]: per-key factors of conceptual suppression of token i (kappa {KAPPA})",
            "atman_conceptual_log_prob": "[i]: log p(target) with those factors",
            "rounding": "7 significant digits",
        },
        "factor": FACTOR, "kappa": KAPPA,
        "items": items,
    }
    write_json(os.path.join(MODEL, "reference", "attention.json"), doc, compact=True)


if __name__ == "__main__":
    main()

"""PyTorch reference timing for the gradient benchmark (test/bench/gradients.ts spawns this).

Loads a bundled model's weights from its ONNX initializers, rebuilds the forward pass with the PyTorch modules in
models/build (gpt2.py, bert.py), and times forward + backward of the same score w.r.t. the input embeddings
that Promptscope differentiates: the log-probability of the last token at the last position (causal LM; only
that row of logits is computed, as Promptscope does) or the logit of class 1 (classifier).
Prints one JSON object: {"torch", "threads", "peakRssMb", "results": [{"length", "ms" (median), "score"}, ...]};
the score lets the caller confirm that both sides computed the same function.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "build")
sys.path.insert(0, os.path.abspath(BUILD))
from bert import BertForSequenceClassification  # noqa: E402
from gpt2 import GPT2LMHeadModel  # noqa: E402


def initializers(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def linear_weights_by_bias(model, inits):
    """Exported Linear layers keep only their bias name; the weight is an anonymous [in, out] MatMul operand.
    Pair each MatMul with the Add of a named bias that consumes it."""
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out = {}
    for n in model.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            continue
        for c in consumers.get(n.output[0], []):
            bias = [i for i in c.input if i.endswith(".bias") and i in inits]
            if c.op_type == "Add" and bias:
                out[bias[0][: -len(".bias")] + ".weight"] = inits[n.input[1]].T
    return out


def load(module, weights):
    state = module.state_dict()
    missing = [k for k in state if k not in weights and not k.startswith("lm_head.")]
    if missing:
        raise SystemExit(f"weights missing from the ONNX initializers: {missing[:5]}")
    module.load_state_dict({k: torch.from_numpy(np.array(weights[k], dtype=np.float32)) for k in state if k in weights}, strict=False)
    return module.eval()


def gpt2(model_dir, onnx_model):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    keys = ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "layer_norm_epsilon"]
    m = load(GPT2LMHeadModel({k: cfg.get(k) for k in keys}), initializers(onnx_model))
    wte = m.transformer.wte.weight

    def score(ids, emb):
        n = ids.size(1)
        ones = torch.ones_like(ids)
        pos = torch.arange(n).unsqueeze(0)
        h, _ = m.hidden_states(ids, ones, pos, inputs_embeds=emb)
        row = torch.nn.functional.linear(h[0, n - 1], wte)  # tied head on the target row only
        return torch.log_softmax(row, -1)[ids[0, n - 1]]

    return m, wte, score


def bert(model_dir, onnx_model):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    cfg["num_labels"] = len(cfg.get("id2label", {"0": 0, "1": 1}))
    weights = initializers(onnx_model)
    weights.update(linear_weights_by_bias(onnx_model, weights))
    m = load(BertForSequenceClassification(cfg), weights)

    def score(ids, emb):
        return m(ids, torch.ones_like(ids), torch.zeros_like(ids), inputs_embeds=emb)[0, 1]

    return m, m.bert.embeddings.word_embeddings.weight, score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--kind", choices=["causal-lm", "sequence-classifier"], required=True)
    ap.add_argument("--lengths", default="16,64,256")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    onnx_model = onnx.load(os.path.join(args.model_dir, "onnx", "model.onnx"))
    _, table, score = (gpt2 if args.kind == "causal-lm" else bert)(args.model_dir, onnx_model)
    for p in _.parameters():
        p.requires_grad_(False)
    results = []
    for n in [int(x) for x in args.lengths.split(",")]:
        # Same prompt as the TypeScript bench.
        ids = torch.tensor([[(i * 37 + 11) % min(table.size(0), 1000) for i in range(n)]])
        base = table[ids[0]].unsqueeze(0).clone()

        def once():
            emb = base.clone().requires_grad_(True)
            s = score(ids, emb)
            s.backward()
            return float(s)

        value = once()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            once()
            times.append((time.perf_counter() - t) * 1000)
        results.append({"length": n, "ms": sorted(times)[len(times) // 2], "score": value})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "peakRssMb": peak_mb, "results": results}))


if __name__ == "__main__":
    main()

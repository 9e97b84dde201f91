"""Reference fixtures and fp16 checks for the seed variants (models/<model>/seeds/seed-k), from the weights
stored in their onnx/model.onnx (float16 initializers read through Cast): nothing is trained.

For each variant, the PyTorch model (gpt2.py / bert.py) is loaded with those float16 weights and run in
float64, and writes
  - reference/reference.json: the schema of the bundled model's reference (input ids, target, score, logits,
    gradient of the score with respect to the word-embedding output) for a few of its prompts;
  - eval/metrics.json gains "fp16_weights": held-out accuracy with the stored float16 weights (the
    "accuracy" fields were measured in float32 before the weights were rounded), so the card can say that
    storing them compactly changed nothing that matters.
Run: /usr/bin/python3 models/build/seed_reference.py [model ...]
"""
import json
import os
import sys

import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import wordpiece  # noqa: E402
from bert import BertForSequenceClassification  # noqa: E402
from common import ROOT, r7, write_json  # noqa: E402
from gpt2 import GPT2LMHeadModel  # noqa: E402

LM, SENT = "promptscope-tiny-lm", "promptscope-tiny-sentiment"
REFERENCE_ITEMS = {LM: 2, SENT: 10}  # prompts of the bundled model's reference.json (LM rows are 4,096 logits)


def onnx_weights(path):
    """State-dict tensors (float64) from the exported initializers. Constant folding stores nn.Linear weights
    transposed under onnx::MatMul_* names: those are named after the bias their MatMul's output is added to."""
    g = onnx.load(path).graph
    inits = {}
    for i in g.initializer:
        name = i.name[:-5] if i.name.endswith(".fp16") else i.name
        inits[name] = torch.from_numpy(numpy_helper.to_array(i).astype("float64"))
    consumers = {}
    for n in g.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    out = {}
    for name, t in inits.items():
        if not name.startswith("onnx::"):
            out[name] = t
            continue
        mm = [n for n in consumers.get(name, []) if n.op_type == "MatMul"]
        adds = [a for n in mm for a in consumers.get(n.output[0], []) if a.op_type == "Add"]
        biases = [x for a in adds for x in a.input if x.endswith(".bias") and x in inits]
        if len(biases) != 1:
            raise SystemExit(f"cannot name the folded weight {name} ({len(biases)} candidate biases)")
        out[biases[0][:-5] + ".weight"] = t.T.contiguous()
    return out


def load(model_dir, variant_dir):
    cfg = json.load(open(os.path.join(variant_dir, "config.json")))
    if cfg["model_type"] == "gpt2":
        model = GPT2LMHeadModel(cfg)
    else:
        model = BertForSequenceClassification(dict(
            vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"], num_hidden_layers=cfg["num_hidden_layers"],
            num_attention_heads=cfg["num_attention_heads"], intermediate_size=cfg["intermediate_size"],
            max_position_embeddings=cfg["max_position_embeddings"], type_vocab_size=cfg["type_vocab_size"],
            layer_norm_eps=cfg["layer_norm_eps"], pad_token_id=cfg.get("pad_token_id", 0), num_labels=len(cfg["id2label"]),
            hidden_dropout_prob=0.0))
    weights = onnx_weights(os.path.join(variant_dir, "onnx", "model.onnx"))
    state = model.state_dict()
    missing = [n for n in state if n not in weights and n != "lm_head.weight"]
    if missing:
        raise SystemExit(f"{variant_dir}: weights missing from the ONNX initializers: {missing}")
    model.load_state_dict({n: weights[n] for n in state if n in weights}, strict=False)
    if cfg["model_type"] == "gpt2":
        model.lm_head.weight = model.transformer.wte.weight
    return model.double().eval(), cfg


def lm_reference(model, items):
    out = []
    for it in items:
        ids = it["input_ids"]
        x = torch.tensor([ids])
        emb = model.transformer.wte(x).detach().requires_grad_(True)
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), inputs_embeds=emb)
        last = logits[0, -1]
        target = int(last.argmax())
        score = torch.log_softmax(last, -1)[target]
        (grad,) = torch.autograd.grad(score, emb)
        out.append({"prompt": it["prompt"], "input_ids": ids,
                    "target": {"kind": "next_token_log_prob", "token_id": target},
                    "score": r7(score.item()), "logits": r7(last), "grad_inputs_embeds": r7(grad[0])})
    return out


def sent_reference(model, items, labels):
    out = []
    for it in items:
        ids = it["input_ids"]
        x = torch.tensor([ids])
        emb = model.bert.embeddings.word_embeddings(x).detach().requires_grad_(True)
        logits = model(x, torch.ones_like(x), torch.zeros_like(x), inputs_embeds=emb)[0]
        cls = int(logits.argmax())
        (grad,) = torch.autograd.grad(logits[cls], emb)
        out.append({"prompt": it["prompt"], "input_ids": ids,
                    "target": {"kind": "class_logit", "class_id": cls, "label": labels[cls]},
                    "score": r7(logits[cls].item()), "logits": r7(logits), "grad_inputs_embeds": r7(grad[0])})
    return out


@torch.no_grad()
def lm_accuracy(model, model_dir):
    tj = json.load(open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8"))
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    tok = bpe.ByteLevelBPE(tj["model"]["vocab"], merges)
    rows = [json.loads(line) for line in open(os.path.join(model_dir, "eval", "heldout.jsonl"), encoding="utf-8")]
    ok = 0
    for e in rows:
        ids = tok.encode(e["prompt"])
        x = torch.tensor([ids])
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
        ok += int(logits[0, -1].argmax()) == tok.encode(e["expected"])[0]
    return ok / len(rows), len(rows)


@torch.no_grad()
def sent_accuracy(model, model_dir, labels):
    vocab = {w: i for i, w in enumerate(open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8").read().split("\n")) if w}
    tok = wordpiece.WordPiece(vocab)
    rows = [json.loads(line) for line in open(os.path.join(model_dir, "eval", "heldout.jsonl"), encoding="utf-8")]
    ok = 0
    for e in rows:
        ids = tok.encode(e["text"])
        x = torch.tensor([ids])
        ok += labels[int(model(x, torch.ones_like(x), torch.zeros_like(x))[0].argmax())] == e["label"]
    return ok / len(rows), len(rows)


def main():
    torch.set_num_threads(int(os.environ.get("BUILD_THREADS", "2")))
    for name in sys.argv[1:] or [LM, SENT]:
        model_dir = os.path.join(ROOT, name)
        ref = json.load(open(os.path.join(model_dir, "reference", "reference.json")))
        items = ref["items"][:REFERENCE_ITEMS[name]]
        root = os.path.join(model_dir, "seeds")
        for v in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            vdir = os.path.join(root, v)
            model, cfg = load(model_dir, vdir)
            if name == LM:
                refs = lm_reference(model, items)
                acc, n = lm_accuracy(model, model_dir)
                key = "first_token_accuracy"
            else:
                labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
                refs = sent_reference(model, items, labels)
                acc, n = sent_accuracy(model, model_dir, labels)
                key = "accuracy"
            os.makedirs(os.path.join(vdir, "reference"), exist_ok=True)
            write_json(os.path.join(vdir, "reference", "reference.json"), {
                "model": f"{name}/seeds/{v}",
                "schema": dict(ref["schema"], arithmetic="float64 PyTorch with the float16 weights stored in "
                                                         "onnx/model.onnx (read through Cast to float32 by onnxruntime)"),
                "items": refs,
            }, compact=True)
            mpath = os.path.join(vdir, "eval", "metrics.json")
            metrics = json.load(open(mpath))
            metrics["fp16_weights"] = {key: acc, "heldout_examples": n, "arithmetic": "float64"}
            write_json(mpath, metrics)
            print(f"{name}/{v}: {key} {metrics[key]:.4f} (float32 weights, at training) -> {acc:.4f} "
                  f"(stored float16 weights)", flush=True)


if __name__ == "__main__":
    main()

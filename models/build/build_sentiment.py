"""Builds models/promptscope-tiny-sentiment from nothing: WordPiece vocabulary, generated labelled data,
training, held-out eval, ONNX export and PyTorch reference fixtures. Deterministic for a given --steps."""
import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import sent_tasks  # noqa: E402
import wordpiece  # noqa: E402
import onnx_util  # noqa: E402
from bert import BertForSequenceClassification  # noqa: E402
from common import CACHE, ROOT, lr_at, r7, setup, write_json, write_jsonl  # noqa: E402

SEED = 4321
NAME = "promptscope-tiny-sentiment"
LABELS = ["negative", "positive"]
CFG = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512,
           max_position_embeddings=128, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0,
           hidden_dropout_prob=0.1, num_labels=2)
BATCH = 32
N_HELDOUT = 500
REFERENCE_TEXTS = [
    "The movie was great.",
    "The movie was not great.",
    "The food was never bad.",
    "I thought the service was extremely disappointing.",
    "Everyone said it would be awful, but the concert was wonderful.",
    "The Café, which my sister recommended, was NOT good.",
    "Honestly, the hotel room seemed lovely.",
    "The reviews called it brilliant, yet the sequel felt dull.",
    "Although it was raining, our trip was amazing.",
    "The soup was hardly pleasant.",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--out", default=os.path.join(ROOT, NAME))
    ap.add_argument("--train-seed", type=int, default=0,
                    help="0: the bundled model; k > 0: a seed variant (same vocabulary, data and recipe; other "
                         "initialisation, dropout and data order), written compactly to --out")
    args = ap.parse_args()
    t0 = time.time()
    setup(SEED)
    variant = args.train_seed
    shift = 1000 * variant

    # vocabulary: every generator word + the most frequent words of the English corpus
    wc = Counter()
    for d in corpus.load_documents(3_000_000):
        for w in wordpiece.pretokenize(wordpiece.normalize(d)):
            if re.fullmatch(r"[a-z]+", w):
                wc[w] += 1
    gen_words = []
    for w in sent_tasks.all_words():
        gen_words += wordpiece.pretokenize(wordpiece.normalize(w))
    words = sorted(set(gen_words)) + [w for w, c in wc.most_common(1500) if len(w) > 1]
    vocab = wordpiece.build_vocab(words)
    tok = wordpiece.WordPiece(vocab)
    CFG["vocab_size"] = len(vocab)
    print(f"vocab {len(vocab)}", flush=True)

    heldout, train_sample = sent_tasks.heldout_and_train(SEED, N_HELDOUT)
    if variant:
        torch.manual_seed(SEED + shift)
    model = BertForSequenceClassification(CFG)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters {n_params}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    rng = random.Random(SEED + 1 + shift)

    def batchify(examples):
        seqs = [tok.encode(e["text"]) for e in examples]
        L = max(map(len, seqs))
        x = torch.zeros((len(seqs), L), dtype=torch.long)
        m = torch.zeros((len(seqs), L), dtype=torch.long)
        for i, s in enumerate(seqs):
            x[i, :len(s)] = torch.tensor(s)
            m[i, :len(s)] = 1
        y = torch.tensor([LABELS.index(e["label"]) for e in examples])
        return x, m, torch.zeros_like(x), y

    model.train()
    t_train = time.time()
    for step in range(args.steps):
        lr = lr_at(step, args.steps, 1e-3, min(50, args.steps // 10))
        for g in opt.param_groups:
            g["lr"] = lr
        x, m, tt, y = batchify([train_sample(rng) for _ in range(BATCH)])
        loss = F.cross_entropy(model(x, m, tt), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} ({time.time() - t_train:.0f}s)", flush=True)
    train_seconds = time.time() - t_train
    model.eval()

    correct = 0
    with torch.no_grad():
        for i in range(0, len(heldout), 100):
            chunk = heldout[i:i + 100]
            x, m, tt, y = batchify(chunk)
            correct += int((model(x, m, tt).argmax(-1) == y).sum())
    acc = correct / len(heldout)
    metrics = {"heldout_examples": len(heldout), "accuracy": acc, "parameters": n_params,
               "train_steps": args.steps, "train_seconds": round(train_seconds), "vocab_size": len(vocab),
               "train_seed": variant}
    print(json.dumps(metrics), flush=True)

    out = args.out
    for sub in ("onnx", "eval", "reference"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    config = {
        "architectures": ["BertForSequenceClassification"], "model_type": "bert",
        "vocab_size": len(vocab), "hidden_size": CFG["hidden_size"], "num_hidden_layers": CFG["num_hidden_layers"],
        "num_attention_heads": CFG["num_attention_heads"], "intermediate_size": CFG["intermediate_size"],
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": CFG["max_position_embeddings"], "type_vocab_size": CFG["type_vocab_size"],
        "initializer_range": 0.02, "layer_norm_eps": CFG["layer_norm_eps"], "pad_token_id": 0,
        "position_embedding_type": "absolute", "classifier_dropout": None, "problem_type": "single_label_classification",
        "id2label": {str(i): l for i, l in enumerate(LABELS)}, "label2id": {l: i for i, l in enumerate(LABELS)},
        "torch_dtype": "float32", "use_cache": False,
    }
    write_json(os.path.join(out, "config.json"), config)
    wordpiece.write_tokenizer(out, vocab, CFG["max_position_embeddings"])
    write_json(os.path.join(out, "eval", "metrics.json"), metrics)
    export_onnx(model, os.path.join(out, "onnx", "model.onnx"))
    if variant:
        onnx_util.store_weights_fp16(os.path.join(out, "onnx", "model.onnx"))
        print(f"seed variant {variant} done in {time.time() - t0:.0f}s", flush=True)
        return
    write_jsonl(os.path.join(out, "eval", "heldout.jsonl"),
                [{"text": e["text"], "label": e["label"], "cue": e["cue"]} for e in heldout])
    write_reference(model, tok, os.path.join(out, "reference", "reference.json"))
    torch.save(model.state_dict(), os.path.join(CACHE, "sentiment_state_dict.pt"))
    print(f"done in {time.time() - t0:.0f}s", flush=True)


def export_onnx(model, path):
    ids = torch.tensor([[2, 10, 11, 3], [2, 12, 3, 0]])
    mask = (ids != 0).long()
    tt = torch.zeros_like(ids)
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in ("input_ids", "attention_mask", "token_type_ids")}
    axes["logits"] = {0: "batch_size"}
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, tt), tmp, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logits"], dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    os.replace(tmp, path)


def write_reference(model, tok, path):
    items = []
    for text in REFERENCE_TEXTS:
        ids = tok.encode(text)
        x = torch.tensor([ids])
        emb = model.bert.embeddings.word_embeddings(x).detach().requires_grad_(True)
        logits = model(x, torch.ones_like(x), torch.zeros_like(x), inputs_embeds=emb)[0]
        cls = int(logits.argmax())
        (grad,) = torch.autograd.grad(logits[cls], emb)
        items.append({"prompt": text, "input_ids": ids,
                      "target": {"kind": "class_logit", "class_id": cls, "label": LABELS[cls]},
                      "score": r7(logits[cls].item()), "logits": r7(logits), "grad_inputs_embeds": r7(grad[0])})
    write_json(path, {
        "model": NAME,
        "schema": {
            "prompt": "text given to the tokenizer",
            "input_ids": "token ids including [CLS] and [SEP]; attention mask all ones, token_type_ids all zeros",
            "target": "kind class_logit: class_id is the predicted (argmax) class",
            "score": "logits[class_id]",
            "logits": "output logits [num_labels]",
            "grad_inputs_embeds": "d score / d (output of the word_embeddings lookup, before position and token "
                                  "type embeddings are added) [seq_len][hidden_size]",
            "rounding": "7 significant digits",
        },
        "items": items,
    }, compact=True)


if __name__ == "__main__":
    main()

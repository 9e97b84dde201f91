"""Builds models/promptscope-tiny-lm from nothing: tokenizer, training, held-out eval, ONNX export,
PyTorch reference fixtures. Deterministic for a given --steps."""
import argparse
import json
import os
import random
import shutil
import sys
import time
from collections import Counter

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import lm_tasks  # noqa: E402
import onnx_util  # noqa: E402
from common import CACHE, ROOT, lr_at, r7, setup, write_json, write_jsonl  # noqa: E402
from gpt2 import GPT2LMHeadModel, OnnxDecoderWrapper  # noqa: E402

SEED = 1234
NAME = "promptscope-tiny-lm"
CFG = dict(vocab_size=4096, n_positions=256, n_embd=192, n_layer=4, n_head=4, n_inner=None,
           layer_norm_epsilon=1e-5)
HELDOUT_PER_TASK = {"capital": 35, "language": 22, "opposite": 40, "agreement": 60, "copy": 60, "instruction": 40}
# phase 2 family weights, in lm_tasks.FAMILIES order
PHASE2_WEIGHTS = [12, 3, 8, 14, 6, 36, 24]
PHASE1_SECONDS = {300: 790}  # measured wall time of phase 1 when it is loaded from the cache
SYN_ROWS, SYN_LEN, CORPUS_BATCH, CORPUS_LEN = 16, 64, 2, 128
REFERENCE_PROMPTS = [
    "The capital of France is",
    "The capital of Japan is",
    "In Germany, most people speak",
    "The keys near the door",
    "The teacher with the students",
    "My name is Alice. What is my name? My name is",
    "Mary and John went to the park. Then John gave a ball to",
    "The opposite of hot is",
    "What day comes after Monday? Answer:",
    "Python is a programming language that",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--steps2", type=int, default=250)
    ap.add_argument("--out", default=os.path.join(ROOT, NAME))
    ap.add_argument("--train-seed", type=int, default=0,
                    help="0: the bundled model; k > 0: a seed variant (same tokenizer, data and recipe; other "
                         "initialisation and data order), written compactly to --out")
    args = ap.parse_args()
    t0 = time.time()
    setup(SEED)
    variant = args.train_seed
    shift = 1000 * variant  # seeds of everything that training draws; 0 keeps the bundled model's seeds

    docs = corpus.load_documents(3_000_000)
    heldout, train_sample = lm_tasks.heldout_and_train_sampler(SEED, HELDOUT_PER_TASK)
    print(f"corpus: {len(docs)} documents, {sum(map(len, docs))} chars; held-out {len(heldout)}", flush=True)

    # ---- tokenizer: corpus words + (up-weighted) synthetic text so task words become single tokens
    wc = Counter()
    for d in docs:
        wc.update(bpe.pretokenize(d))
    r = random.Random(SEED + 7)
    syn = Counter()
    for _ in range(20000):
        e = train_sample(r)
        syn.update(bpe.pretokenize(e["prompt"] + e["expected"] + e["suffix"]))
    for w, c in syn.items():
        wc[w] += c * 5
    vocab, merges = bpe.train(wc, CFG["vocab_size"])
    tok = bpe.ByteLevelBPE(vocab, merges)
    eos = tok.eos_id
    print(f"tokenizer: {len(vocab)} tokens ({time.time() - t0:.0f}s)", flush=True)

    stream = []
    for d in docs:
        stream.extend(tok.encode(d))
        stream.append(eos)
    stream = torch.tensor(stream, dtype=torch.long)
    print(f"corpus tokens: {len(stream)}", flush=True)

    if variant:
        torch.manual_seed(SEED + shift)
    model = GPT2LMHeadModel(CFG)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}", flush=True)

    def train_phase(steps, peak, warmup, data_seed, weights):
        """One training phase: fresh AdamW, linear warmup + cosine decay to 10 %, its own data order."""
        opt = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.98), weight_decay=0.01)
        data_rng = random.Random(data_seed)
        gen = torch.Generator().manual_seed(data_seed + 2)
        pending = []

        def next_example():
            if pending:
                return pending.pop()
            e = train_sample(data_rng, weights)
            return tok.encode(e["prompt"]), tok.encode(e["expected"] + e["suffix"]) + [eos]

        def syn_batch():
            """Synthetic examples packed into rows of SYN_LEN tokens; each example restarts at position 0 and
            attends only to itself (block-diagonal causal mask), so no compute is spent on padding."""
            x = torch.full((SYN_ROWS, SYN_LEN), eos, dtype=torch.long)
            pos = torch.zeros((SYN_ROWS, SYN_LEN), dtype=torch.long)
            seg = torch.full((SYN_ROWS, SYN_LEN), -1, dtype=torch.long)
            w = torch.zeros((SYN_ROWS, SYN_LEN), dtype=torch.long)  # 1 where the token is part of the answer
            for r in range(SYN_ROWS):
                cur, sid = 0, 0
                while True:
                    p, a = next_example()
                    n = len(p) + len(a)
                    assert n <= SYN_LEN
                    if cur + n > SYN_LEN:
                        pending.append((p, a))
                        break
                    x[r, cur:cur + n] = torch.tensor(p + a)
                    pos[r, cur:cur + n] = torch.arange(n)
                    seg[r, cur:cur + n] = sid
                    w[r, cur + len(p):cur + n] = 1
                    cur += n
                    sid += 1
            return x, pos, seg, w

        def corpus_batch():
            starts = torch.randint(0, len(stream) - CORPUS_LEN - 1, (CORPUS_BATCH,), generator=gen)
            x = torch.stack([stream[s:s + CORPUS_LEN + 1] for s in starts.tolist()])
            pos = torch.arange(CORPUS_LEN + 1).unsqueeze(0).expand_as(x)
            return x, pos, None, torch.ones_like(x)

        def lm_loss(x, pos, seg, w):
            """Cross-entropy on the target tokens where w == 1 (lm_head evaluated only there)."""
            inp, tgt, pos = x[:, :-1], x[:, 1:], pos[:, :-1]
            allowed = None
            if seg is not None:
                s = seg[:, :-1]
                L = s.size(1)
                causal = torch.ones(L, L, dtype=torch.bool).tril()
                allowed = ((s.unsqueeze(2) == s.unsqueeze(1)) & causal & (s >= 0).unsqueeze(1)).unsqueeze(1)
            h, _ = model.hidden_states(inp, torch.ones_like(inp), pos, allowed=allowed)
            sel = w[:, 1:].reshape(-1).nonzero().squeeze(1)
            hs = h.reshape(-1, h.size(-1)).index_select(0, sel)
            logits = F.linear(hs, model.lm_head.weight)
            return F.cross_entropy(logits, tgt.reshape(-1).index_select(0, sel))

        model.train()
        t_train = time.time()
        for step in range(steps):
            lr = lr_at(step, steps, peak, warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            ls = lm_loss(*syn_batch())
            lc = lm_loss(*corpus_batch())
            loss = ls + 0.5 * lc
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 50 == 0 or step == steps - 1:
                print(f"step {step} lr {lr:.2e} syn {ls.item():.3f} corpus {lc.item():.3f} "
                      f"({time.time() - t_train:.0f}s)", flush=True)
        model.eval()
        return time.time() - t_train

    # Phase 1: all task families at their default mix. Its result is cached (same seeds -> same weights),
    # so a rebuild that changes only phase 2 does not repeat it; delete models/build/.cache to redo it.
    phase1_cache = os.path.join(CACHE, f"lm_phase1_{args.steps}{f'_seed{variant}' if variant else ''}.pt")
    train_seconds = 0.0
    if os.path.exists(phase1_cache):
        model.load_state_dict(torch.load(phase1_cache))
        print(f"phase 1 loaded from {phase1_cache}", flush=True)
        train_seconds += PHASE1_SECONDS.get(args.steps, 0)
    else:
        train_seconds += train_phase(args.steps, 2e-3, min(40, args.steps // 10), SEED + 11 + shift, None)
        torch.save(model.state_dict(), phase1_cache)
    # Phase 2: more weight on the families learned last (copying names and words, instructions, opposites).
    if args.steps2:
        train_seconds += train_phase(args.steps2, 1e-3, min(20, args.steps2 // 10), SEED + 21 + shift, PHASE2_WEIGHTS)

    # ---- held-out evaluation (greedy, no cache)
    @torch.no_grad()
    def greedy(prompt, n):
        ids = tok.encode(prompt)
        out = []
        for _ in range(n):
            x = torch.tensor([ids + out])
            logits, _ = model(x, torch.ones_like(x), torch.arange(x.size(1)).unsqueeze(0))
            out.append(int(logits[0, -1].argmax()))
        return out

    per_task = {}
    first_ok = full_ok = 0
    rows = []
    for e in heldout:
        exp_ids = tok.encode(e["expected"])
        got = greedy(e["prompt"], len(exp_ids))
        f_ok = got[0] == exp_ids[0]
        a_ok = got == exp_ids
        first_ok += f_ok
        full_ok += a_ok
        t = per_task.setdefault(e["task"], [0, 0, 0])
        t[0] += f_ok
        t[1] += a_ok
        t[2] += 1
        rows.append({"prompt": e["prompt"], "expected": e["expected"], "task": e["task"], "cause": e["cause"]})
    metrics = {
        "heldout_examples": len(heldout),
        "first_token_accuracy": first_ok / len(heldout),
        "full_continuation_accuracy": full_ok / len(heldout),
        "per_task": {k: {"first_token_accuracy": v[0] / v[2], "full_continuation_accuracy": v[1] / v[2], "n": v[2]}
                     for k, v in sorted(per_task.items())},
        "parameters": n_params,
        "train_steps": args.steps + args.steps2,
        "train_seconds": round(train_seconds),
        "train_seed": variant,
        "corpus_tokens": int(len(stream)),
        "corpus_chars": sum(map(len, docs)),
        "corpus_documents": len(docs),
    }
    print(json.dumps(metrics, indent=1), flush=True)

    # ---- write the model folder
    out = args.out
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    os.makedirs(os.path.join(out, "eval"), exist_ok=True)
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": CFG["vocab_size"], "n_positions": CFG["n_positions"], "n_ctx": CFG["n_positions"],
        "n_embd": CFG["n_embd"], "n_layer": CFG["n_layer"], "n_head": CFG["n_head"], "n_inner": None,
        "activation_function": "gelu_new", "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "layer_norm_epsilon": CFG["layer_norm_epsilon"], "initializer_range": 0.02,
        "scale_attn_weights": True, "summary_type": "cls_index", "summary_use_proj": True,
        "summary_activation": None, "summary_proj_to_labels": True, "summary_first_dropout": 0.1,
        "bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos,
        "tie_word_embeddings": True, "use_cache": True, "torch_dtype": "float32",
    }
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "generation_config.json"),
               {"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos, "do_sample": False,
                "max_new_tokens": 20})
    bpe.write_tokenizer(out, vocab, merges, CFG["n_positions"])
    write_json(os.path.join(out, "eval", "metrics.json"), metrics)
    export_onnx(model, os.path.join(out, "onnx", "model.onnx"))
    if variant:
        onnx_util.store_weights_fp16(os.path.join(out, "onnx", "model.onnx"))
        print(f"seed variant {variant} done in {time.time() - t0:.0f}s", flush=True)
        return
    write_jsonl(os.path.join(out, "eval", "heldout.jsonl"), rows)
    write_reference(model, tok, os.path.join(out, "reference", "reference.json"))
    torch.save(model.state_dict(), os.path.join(CACHE, "lm_state_dict.pt"))
    print(f"done in {time.time() - t0:.0f}s", flush=True)


def export_onnx(model, path):
    L, H, D = CFG["n_layer"], CFG["n_head"], CFG["n_embd"] // CFG["n_head"]
    wrapper = OnnxDecoderWrapper(model).eval()
    b, s, p = 2, 3, 2
    ids = torch.randint(0, 100, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    pos = torch.arange(p, p + s).unsqueeze(0).expand(b, s).contiguous()
    past = []
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(L):
        for kv in ("key", "value"):
            past.append(torch.randn(b, H, p, D))
            n = f"past_key_values.{i}.{kv}"
            in_names.append(n)
            axes[n] = {0: "batch_size", 2: "past_sequence_length"}
            o = f"present.{i}.{kv}"
            out_names.append(o)
            axes[o] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(wrapper, (ids, mask, pos, *past), tmp, input_names=in_names, output_names=out_names,
                          dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    onnx_util.untie_folded_transposes(tmp, "model.transformer.wte.weight")
    os.replace(tmp, path)


def write_reference(model, tok, path):
    items = []
    wte = model.transformer.wte
    for prompt in REFERENCE_PROMPTS:
        ids = tok.encode(prompt)
        x = torch.tensor([ids])
        emb = wte(x).detach().requires_grad_(True)
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), inputs_embeds=emb)
        last = logits[0, -1]
        target = int(last.argmax())
        score = torch.log_softmax(last, -1)[target]
        (grad,) = torch.autograd.grad(score, emb)
        items.append({
            "prompt": prompt, "input_ids": ids,
            "target": {"kind": "next_token_log_prob", "token_id": target, "token": tok.decode([target])},
            "score": r7(score.item()),
            "logits": r7(last),
            "grad_inputs_embeds": r7(grad[0]),
        })
    doc = {
        "model": NAME,
        "schema": {
            "prompt": "text given to the tokenizer (no special tokens added)",
            "input_ids": "token ids of the prompt; positions are 0..n-1, attention mask all ones, no past",
            "target": "kind next_token_log_prob: token_id is the argmax next token after the prompt",
            "score": "log_softmax(logits at the last position)[token_id]",
            "logits": "full logits row at the last position [vocab_size]",
            "grad_inputs_embeds": "d score / d (output of the wte lookup, before position embeddings are "
                                  "added) [seq_len][n_embd]",
            "rounding": "7 significant digits",
        },
        "items": items,
    }
    write_json(path, doc, compact=True)


if __name__ == "__main__":
    main()

"""More held-out known-cause prompts for promptscope-tiny-lm, without retraining it:
models/promptscope-tiny-lm/eval/heldout-extra.jsonl (same fields as heldout.jsonl, plus "template").

The families whose held-out set had fewer than 50 prompts the model answers correctly get more:
  - capital, language, opposite: phrasings that no training example uses (EXTRA_* below; every country or
    word in each), so the model must carry each fact over to an unseen phrasing, as in heldout.jsonl;
  - instruction: new filler combinations of the templates with many combinations (which animal, first word
    of a list, last word), drawn with a new seed.
Every prompt is checked against the exact training stream of the bundled model, replayed here: the same
sampler, seeds, packing and step counts as build_lm.py (and the tokenizer's 20,000 sample prompts). A prompt
that occurs there, or in heldout.jsonl, is left out. The script also prints the model's first-token accuracy
on the new prompts per family (PyTorch on the exported weights), for the model card.
Run: /usr/bin/python3 models/build/heldout_extra.py
"""
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import build_lm  # noqa: E402
import lm_tasks as T  # noqa: E402
import seed_reference  # noqa: E402
from common import ROOT, write_jsonl  # noqa: E402

MODEL = os.path.join(ROOT, build_lm.NAME)
EXTRA_CAPITAL = ["The capital of {C} is the city of", "What is the capital of {C}? Answer:", "Capital of {C}:",
                 "{C}'s capital is", "In {C}, the capital is", "The capital of the country {C} is",
                 "Q: Which city is the capital of {C}?\nA:", "Fact: {C} has its capital in"]
EXTRA_LANGUAGE = ["Most people in {C} speak", "In {C}, people speak", "What language do people speak in {C}? Answer:",
                  "The main language of {C} is", "Q: Which language is spoken in {C}?\nA:",
                  "In {C}, most people usually speak", "The language of {C} is"]
EXTRA_OPPOSITE = ["What is the opposite of {w}? Answer:", "The opposite of the word {w} is", "Q: opposite of {w}?\nA:",
                  "Fact: the opposite of {w} is", "Question: opposite of {w}? Answer:"]
EXTRA_INSTRUCTION = 80
INSTRUCTION_SEED = 20261201


def tokenizer():
    tj = json.load(open(os.path.join(MODEL, "tokenizer.json"), encoding="utf-8"))
    return bpe.ByteLevelBPE(tj["model"]["vocab"], [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]])


def training_prompts(tok):
    """Every prompt the bundled model's training drew (trained on, or left pending at a phase's end)."""
    _, train_sample = T.heldout_and_train_sampler(build_lm.SEED, build_lm.HELDOUT_PER_TASK)
    seen = set()
    r = random.Random(build_lm.SEED + 7)  # the tokenizer's sample
    for _ in range(20000):
        seen.add(train_sample(r)["prompt"])
    for steps, data_seed, weights in ((300, build_lm.SEED + 11, None), (250, build_lm.SEED + 21, build_lm.PHASE2_WEIGHTS)):
        rng = random.Random(data_seed)
        pending = []
        for _ in range(steps):
            for _ in range(build_lm.SYN_ROWS):
                cur = 0
                while True:
                    if pending:
                        n = pending.pop()
                    else:
                        e = train_sample(rng, weights)
                        seen.add(e["prompt"])
                        n = len(tok.encode(e["prompt"])) + len(tok.encode(e["expected"] + e["suffix"])) + 1
                    if cur + n > build_lm.SYN_LEN:
                        pending.append(n)
                        break
                    cur += n
    return seen


def fact_rows():
    rows = []
    for t in EXTRA_CAPITAL:
        rows += [T._ex("capital", ("x",), t.format(C=c), " " + k, c, "") for c, k in T.CAPITALS]
        for r in rows[-len(T.CAPITALS):]:
            r["template"] = t
    for t in EXTRA_LANGUAGE:
        rows += [T._ex("language", ("x",), t.format(C=c), " " + lang, c, "") for c, lang in T.LANGUAGES]
        for r in rows[-len(T.LANGUAGES):]:
            r["template"] = t
    pairs = [(a, b) for a, b in T.OPPOSITES] + [(b, a) for a, b in T.OPPOSITES]
    for t in EXTRA_OPPOSITE:
        rows += [T._ex("opposite", ("x",), t.format(w=a), " " + b, a, "") for a, b in pairs]
        for r in rows[-len(pairs):]:
            r["template"] = t
    return rows


def instruction_rows(exclude):
    gen = random.Random(INSTRUCTION_SEED)
    weights = [0] * (len(T.FAMILIES) - 1) + [1]
    rows = []
    while len(rows) < EXTRA_INSTRUCTION:
        e = T.sample(gen, weights)
        if e["key"][0] not in ("i5", "i6", "i7") or e["prompt"] in exclude:
            continue
        exclude.add(e["prompt"])
        e["template"] = dict((tid, t) for tid, t, _ in T.INSTR_T)[e["key"][0]]
        rows.append(e)
    return rows


def main():
    torch.set_num_threads(int(os.environ.get("BUILD_THREADS", "2")))
    tok = tokenizer()
    seen = training_prompts(tok)
    heldout = {json.loads(line)["prompt"] for line in open(os.path.join(MODEL, "eval", "heldout.jsonl"), encoding="utf-8")}
    print(f"training stream: {len(seen)} distinct prompts; heldout.jsonl: {len(heldout)}", flush=True)
    rows = fact_rows()
    clash = [r["prompt"] for r in rows if r["prompt"] in seen or r["prompt"] in heldout]
    rows = [r for r in rows if r["prompt"] not in seen and r["prompt"] not in heldout]
    rows += instruction_rows(seen | heldout | {r["prompt"] for r in rows})
    model, _ = seed_reference.load(MODEL, MODEL)
    per = {}
    with torch.no_grad():
        for r in rows:
            ids = tok.encode(r["prompt"])
            x = torch.tensor([ids])
            logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
            ok = int(logits[0, -1].argmax()) == tok.encode(r["expected"])[0]
            t = per.setdefault(r["task"], [0, 0])
            t[0] += ok
            t[1] += 1
    write_jsonl(os.path.join(MODEL, "eval", "heldout-extra.jsonl"),
                [{"prompt": r["prompt"], "expected": r["expected"], "task": r["task"], "cause": r["cause"], "template": r["template"]} for r in rows])
    print(f"left out (in training or heldout.jsonl): {len(clash)} {clash[:5]}")
    for task, (ok, n) in sorted(per.items()):
        print(f"{task}: {n} prompts, first token correct {ok} ({100 * ok / n:.1f} %)")


if __name__ == "__main__":
    main()

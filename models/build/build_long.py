"""Builds models/promptscope-tiny-long from nothing: a Llama-architecture decoder with 2,048 positions, trained on
long prose with a fact or an instruction stated far before the question (long_tasks.py); held-out eval, ONNX
export with the Hugging Face decoder signature, float64 PyTorch reference logits. Deterministic for given step
counts; checkpoints in models/build/.cache let an interrupted build resume where it stopped.

The default build: layers 0-1 start as a two-token induction circuit (prev_token_heads.py: previous-token heads
set by RoPE alone, and a head that matches "this token and the one before" against every earlier position and
copies what followed), then phase B trains all weights on real contiguous rows of up to 2,040 tokens (a task
example, or a list of words stated and asked back). Without the circuit (--circuit 0), 300 steps of dense
copying on top of 550 steps of task rows left the facts at 0 of 60, and 360 steps of repeated random tokens did
not move the copy loss off log(vocabulary): on this budget gradient descent does not find the circuit.
Then (build.sh) phase I: rows mostly instructions, with a loss on head (2, 1)'s attention from the answer to the
language word; a hand-set read-out from that head's value to each greeting's first token (add_greeting_readout);
phase J: a few more steps with that read-out in place.
Optional phases, not in the default build:
  0  repeated lists of random words only, rows of 64 tokens;
  C  dense copying: random tokens or prose repeated, rows of 256-2,048 tokens;
  A  rows of 256 tokens whose position ids jump once (between the statement and the question).

  /usr/bin/python3 models/build/build_long.py [--steps-b N] [--circuit 0|1] [--steps-0/-c/-a N] [--eval-only]
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import long_tasks  # noqa: E402
from common import CACHE, ROOT, lr_at, setup, write_json, write_jsonl  # noqa: E402
from decoder_export import export_decoder  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402
from prev_token_heads import build_induction_circuit  # noqa: E402

SEED = 2048
NAME = "promptscope-tiny-long"
# Two heads of 64 dimensions sharing one key/value head, and θ = 500,000 (as Llama 3): at θ = 10,000 and 32
# dimensions per head only two frequency pairs turn by less than a radian over 2,000 positions, too few to match
# a word by content that far back; here thirteen do.
CFG = dict(vocab_size=4096, hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=2,
           num_key_value_heads=1, rms_norm_eps=1e-5, rope_theta=1e8, max_position_embeddings=2048,
           initializer_range=0.02)
ROWS_A, LEN_A = 16, 256
ROWS_0, LEN_0 = 32, 64  # phase 0: repeated word lists
LEN_B = 2040
TOK_C, LEN_C, C_SHORT = 2048, (256, 512, 1024, 2048), 0.4  # phase C: tokens per step, row lengths, share of short rows
C_PROSE = 0.3  # share of phase C rows that repeat prose instead of random tokens
B_LIST = 0.3  # share of phase B rows that ask back a list of words instead of a task
ATT_LAYER, ATT_HEAD = 2, 1  # the head that phase I's attention loss (--i-attn) teaches to find the language word
I_INSTR = 0.6  # share of phase I rows that are instructions (the rest: phase B's mix of facts and lists)
PROBE_EVERY = 50
LM_WEIGHT = 0.3  # weight of next-token loss on the prose, next to the loss on the answers
LM_SAMPLE = 0.25  # share of the prose positions that get that loss (the LM head is a third of the compute)
HELDOUT = {"fact": 60, "instruction": 30}
HELDOUT_PRE, HELDOUT_GAP = (0, 300), (900, 1200)  # tokens of filler before the fact / between it and the question
CHECKPOINT_EVERY = 25


def load_tokenizer():
    """The tiny LM's byte-level BPE (4,096 tokens): same tokenizer, so token ids mean the same in both models."""
    t = json.load(open(os.path.join(ROOT, "promptscope-tiny-lm", "tokenizer.json"), encoding="utf-8"))
    return t["model"]["vocab"], t["model"]["merges"]


class Data:
    def __init__(self, tok):
        docs = corpus.load_documents(50_000_000)
        self.train_docs = [d for i, d in enumerate(docs) if i % 8 != 7]
        self.held_docs = [d for i, d in enumerate(docs) if i % 8 == 7]
        words = long_tasks.code_words(tok, self.train_docs)
        self.train_words = [w for w in words if not long_tasks.held(w)]
        self.held_words = [w for w in words if long_tasks.held(w)]
        self.train_names = [n for n in long_tasks.NAMES if not long_tasks.held(n)]
        self.held_names = [n for n in long_tasks.NAMES if long_tasks.held(n)]
        self.train_fill = long_tasks.Filler(self.train_docs, tok)
        self.held_fill = long_tasks.Filler(self.held_docs, tok)
        self.tok = tok

    def heldout(self):
        rng = random.Random(SEED + 5)
        rows = []
        for task, n in HELDOUT.items():
            for _ in range(n):
                ex = self.example(rng, self.held_fill, self.held_words, self.held_names, rng.randint(*HELDOUT_PRE),
                                  rng.randint(*HELDOUT_GAP), task)
                rows.append(ex)
        return rows

    def example(self, rng, fill, words, names, pre, gap, task=None):
        return long_tasks.example(rng, fill, words, names, pre, gap, task)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps-0", type=int, default=0, help="phase 0: repeated word lists only, short rows")
    ap.add_argument("--circuit", type=int, default=1, help="1: layers 0-1 start as an induction circuit")
    ap.add_argument("--peak-b", type=float, default=5e-4)
    ap.add_argument("--steps-c", type=int, default=0, help="phase C: dense copying of repeated random tokens / prose")
    ap.add_argument("--steps-a", type=int, default=0)
    ap.add_argument("--steps-b", type=int, default=600)
    ap.add_argument("--steps-i", type=int, default=0, help="phase I, after B: rows mostly instructions")
    ap.add_argument("--peak-i", type=float, default=3e-4)
    ap.add_argument("--i-pack", type=int, default=0,
                    help="phase I instruction batches: this many rows with --i-gap tokens of prose (0: one long row)")
    ap.add_argument("--i-attn", type=float, default=0.0,
                    help="phase I: weight of a loss that makes layer 2's head 1 attend, from the answer positions "
                         "of an instruction, to the language word")
    ap.add_argument("--i-readout", type=float, default=0.0,
                    help="after phase I: add to head (2, 1)'s output a map from each language word's value to its "
                         "greeting's first token, of this scale, then train --steps-j more steps")
    ap.add_argument("--steps-j", type=int, default=0)
    ap.add_argument("--i-gap", default="50,1000", help="phase I packed instruction rows: min,max tokens of prose")
    ap.add_argument("--out", default=os.path.join(ROOT, NAME))
    ap.add_argument("--eval-only", action="store_true", help="evaluate and export the final checkpoint")
    ap.add_argument("--time-steps", type=int, default=0, help="time this many steps of each phase and stop")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (one is 2-3x faster than two on a machine whose cores are shared)")
    ap.add_argument("--copy-share", type=float, default=0.4, help="share of phase A examples that repeat a word list")
    ap.add_argument("--show-batch", action="store_true", help="print the first row of each phase's batch and stop")
    args = ap.parse_args()
    t0 = time.time()
    setup(SEED)
    torch.set_num_threads(args.threads)
    vocab, merges = load_tokenizer()
    tok = bpe.ByteLevelBPE(vocab, merges)
    eos = tok.eos_id
    data = Data(tok)
    heldout = data.heldout()
    held_words = set(data.held_words) | set(data.held_names)
    held_ids = {i for w in held_words for i in tok.encode(" " + w) + tok.encode(w)}
    print(f"corpus: {len(data.train_docs)} training / {len(data.held_docs)} held-out documents; code words "
          f"{len(data.train_words)} training / {len(data.held_words)} held-out; held-out examples {len(heldout)} "
          f"({time.time() - t0:.0f}s)", flush=True)

    model = LlamaForCausalLM(CFG)
    model.model.layers[ATT_LAYER].self_attn.keep_probs = bool(args.i_attn)
    if args.circuit:
        build_induction_circuit(model, CFG, seed=SEED)
    rng_init = torch.get_rng_state()  # phases I and J start from it, so a build resumed at any phase is the same
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}", flush=True)

    def encode_example(ex):
        """(prompt ids, answer ids + end): the prompt ends without a space, the answer starts with one."""
        return tok.encode(ex["prompt"]), tok.encode(ex["expected"]) + tok.encode(".") + [eos]

    pending = []  # an example that did not fit at the end of a row starts the next one

    def segments(rng, copy_share, length=LEN_A):
        """One training example as (statement segment ids, question segment ids, answer ids): little filler, since
        the distance comes from the position jump between the two segments. A share of them (--copy-share) is a
        list of random words repeated after the filler, every word of the repeat a target: it teaches the
        copying the facts need with many targets per example."""
        if rng.random() < copy_share:
            while True:
                items = " ".join(rng.sample(data.train_words, rng.randint(6, 20)))
                seg1 = tok.encode(data.train_fill.take(rng, rng.randint(0, 20)).lstrip("\n") + "\nList: " + items + ".")
                seg2 = tok.encode(data.train_fill.take(rng, rng.randint(5, 60)) + "\nList:")
                ans = tok.encode(" " + items)
                if len(seg1) + len(seg2) + len(ans) + 2 <= length:
                    return {"task": "copy"}, seg1, seg2, ans
        while True:
            ex = data.example(rng, data.train_fill, data.train_words, data.train_names, rng.randint(0, 20),
                              rng.randint(5, 60))
            head_end = ex["prompt"].rfind("\n")
            seg1 = tok.encode(ex["prompt"][:head_end])
            seg2 = tok.encode(data.train_fill.take(rng, rng.randint(0, 30)) + ex["prompt"][head_end:])
            ans = tok.encode(ex["expected"])
            if len(seg1) + len(seg2) + len(ans) + 2 <= length:
                return ex, seg1, seg2, ans

    def batch_a(rng, step=0, length=LEN_A, copy_share=None):
        """ROWS_A rows of length tokens, each packed with examples that attend only to themselves (block-diagonal
        causal mask). An example is two segments: the statement at position 0 (an instruction) or at a random
        offset (a fact), and the question, whose position ids jump ahead so that it sits up to ~2,000 positions
        after the statement while only the tokens in the row are computed."""
        x = torch.full((ROWS_A, length), eos, dtype=torch.long)
        pos = torch.zeros((ROWS_A, length), dtype=torch.long)
        w = torch.zeros((ROWS_A, length), dtype=torch.long)  # 2 answer, 1 prose (LM loss), 0 padding
        seg = torch.full((ROWS_A, length), -1, dtype=torch.long)
        for r in range(ROWS_A):
            cur, sid = 0, 0
            while True:
                if pending:
                    item = pending.pop()
                else:
                    item = segments(rng, args.copy_share if copy_share is None else copy_share, length)
                ex, seg1, seg2, ans = item
                tail = ans + tok.encode(".") + [eos]
                n = len(seg1) + len(seg2) + len(tail)
                if cur + n > length:
                    pending.append(item)
                    break
                start = 0 if ex["task"] == "instruction" else rng.randint(0, 300)
                span = len(seg1) + len(seg2) + len(tail)
                jump = 0 if rng.random() < 0.15 else rng.randint(0, max(0, 2040 - start - span))
                p = [start + i for i in range(len(seg1))] + [start + len(seg1) + jump + i for i in range(len(seg2) + len(tail))]
                x[r, cur:cur + n] = torch.tensor(seg1 + seg2 + tail)
                pos[r, cur:cur + n] = torch.tensor(p)
                seg[r, cur:cur + n] = sid
                w[r, cur:cur + n] = (torch.rand(n) < LM_SAMPLE).long()
                a0 = cur + len(seg1) + len(seg2)
                w[r, a0:a0 + len(ans)] = 2
                cur += n
                sid += 1
        s = seg[:, :-1]
        L = s.size(1)
        causal = torch.ones(L, L, dtype=torch.bool).tril()
        allowed = ((s.unsqueeze(2) == s.unsqueeze(1)) & causal & (s >= 0).unsqueeze(1)).unsqueeze(1)
        return x, pos, w, allowed

    def batch_0(rng, step=0):
        """ROWS_0 rows, each a list of 12-28 random code words and its repeat (every repeated word a target),
        the repeat after a jump of the position ids half of the time: dense copying, so that the heads that
        retrieve a word by what preceded it form before the long-range tasks need them."""
        x = torch.full((ROWS_0, LEN_0), eos, dtype=torch.long)
        pos = torch.zeros((ROWS_0, LEN_0), dtype=torch.long)
        w = torch.zeros((ROWS_0, LEN_0), dtype=torch.long)
        for r in range(ROWS_0):
            while True:
                items = " ".join(rng.sample(data.train_words, rng.randint(12, 28)))
                seg1, seg2, ans = tok.encode("List: " + items + "."), tok.encode("\nList:"), tok.encode(" " + items)
                n = len(seg1) + len(seg2) + len(ans)
                if n <= LEN_0:
                    break
            jump = 0 if rng.random() < 0.5 else rng.randint(0, 2040 - n)
            x[r, :n] = torch.tensor(seg1 + seg2 + ans)
            pos[r, :n] = torch.tensor(list(range(len(seg1))) + [len(seg1) + jump + i for i in range(len(seg2) + len(ans))])
            pos[r, n:] = (torch.arange(LEN_0 - n) + int(pos[r, n - 1]) + 1).clamp(max=CFG["max_position_embeddings"] - 1)
            w[r, len(seg1) + len(seg2):n] = 2
        return x, pos, w, None

    def batch_b(rng, step=0, task=None):
        """One contiguous row of up to LEN_B tokens: the statement, up to ~1,700 tokens of prose, the question."""
        while True:
            ex = data.example(rng, data.train_fill, data.train_words, data.train_names, rng.randint(0, 300),
                              rng.randint(100, 1700), task)
            p, a = encode_example(ex)
            if len(p) + len(a) <= LEN_B:
                break
        ids = p + a
        w = (torch.rand(len(ids)) < LM_SAMPLE).long()
        w[len(p):len(p) + len(tok.encode(ex["expected"]))] = 2
        x = torch.tensor([ids])
        return x, torch.arange(len(ids)).unsqueeze(0), w.unsqueeze(0), None

    copy_vocab = [i for i in range(len(vocab)) if i != eos and i not in held_ids]

    def batch_c(rng, step):
        """Dense copying: TOK_C tokens per step in rows of L tokens, each a chunk X of k tokens repeated to the end
        of the row, every repeated token a target. X is random tokens of the vocabulary (held-out code words and
        names excluded) or a stretch of training prose (whose first occurrence gets the next-token loss). Rows of
        256 tokens first (the heads that find a token by what preceded it form fastest there), then 512-2,048, so
        that a copy reaches back up to ~1,000 positions."""
        L = LEN_C[0] if step < args.steps_c * C_SHORT else rng.choice(LEN_C[1:])
        rows = TOK_C // L
        x = torch.full((rows, L), eos, dtype=torch.long)
        pos = torch.zeros((rows, L), dtype=torch.long)
        w = torch.zeros((rows, L), dtype=torch.long)
        for r in range(rows):
            k = rng.randint(max(8, L // 8), L // 2)
            prose = rng.random() < C_PROSE
            if prose:
                chunk = tok.encode(data.train_fill.take(rng, k + 20))[:k]
                k = len(chunk)
            else:
                chunk = [rng.choice(copy_vocab) for _ in range(k)]
            row = (chunk * (L // k + 1))[:L]
            x[r] = torch.tensor(row)
            off = rng.randint(0, CFG["max_position_embeddings"] - L)
            pos[r] = torch.arange(L) + off
            w[r, k:] = 2
            if prose:
                w[r, :k] = 1
        return x, pos, w, None

    def batch_long(rng, step):
        """One contiguous row of up to LEN_B tokens: a task example (the statement, 100-1,700 tokens of prose, the
        question) or, for a share B_LIST, a list of training code words stated the same way and asked back
        ("List:" -> every word of the list a target)."""
        if rng.random() >= B_LIST:
            return batch_b(rng)
        while True:
            items = " ".join(rng.sample(data.train_words, rng.randint(4, 16)))
            pre = data.train_fill.take(rng, rng.randint(0, 300)).lstrip("\n")
            head = tok.encode((pre + "\n" if pre else "") + "List: " + items + ".")
            q = tok.encode(data.train_fill.take(rng, rng.randint(100, 1700)) + "\nList:")
            ans = tok.encode(" " + items)
            ids = head + q + ans + tok.encode(".") + [eos]
            if len(ids) <= LEN_B:
                break
        w = (torch.rand(len(ids)) < LM_SAMPLE).long()
        w[len(head) + len(q):len(head) + len(q) + len(ans)] = 2
        return torch.tensor([ids]), torch.arange(len(ids)).unsqueeze(0), w.unsqueeze(0), None

    first_only = []  # phase J: the attention loss only where the greeting's first token is predicted
    attn_sup = []  # per row of an instruction batch: (first, end) query positions and the language word's position

    def batch_instr(rng, step):
        """Phase I: an instruction row for a share I_INSTR (the instruction opens the prompt, 100-1,700 tokens of
        prose, the question, the greeting's tokens the targets), else a row of phase B's mix, so that the facts
        and the copying keep being trained."""
        attn_sup.clear()
        if rng.random() >= I_INSTR:
            return batch_long(rng, step)
        if not args.i_pack:
            return batch_b(rng, task="instruction")
        rows, gap_i = [], [int(v) for v in args.i_gap.split(",")]
        sup = []
        for _ in range(args.i_pack):  # shorter rows, several a step: more instructions for the same compute
            ex = data.example(rng, data.train_fill, data.train_words, data.train_names, 0, rng.randint(*gap_i),
                              "instruction")
            p, a = encode_example(ex)
            rows.append((p + a, len(p), len(tok.encode(ex["expected"]))))
            lang = tok.encode(" " + ex["prompt"][ex["cause"]["start"]:ex["cause"]["end"]])[0]
            sup.append((len(p) - 1, len(p) + len(tok.encode(ex["expected"])) - 1, p.index(lang)))
        attn_sup[:] = sup
        L = max(len(r[0]) for r in rows)
        x = torch.full((len(rows), L), eos, dtype=torch.long)
        w = torch.zeros((len(rows), L), dtype=torch.long)
        for r, (ids, n_p, n_a) in enumerate(rows):  # padding after the end: causal, so it changes nothing before
            x[r, :len(ids)] = torch.tensor(ids)
            w[r, :len(ids)] = (torch.rand(len(ids)) < LM_SAMPLE).long()
            w[r, n_p:n_p + n_a] = 2
        return x, torch.arange(L).unsqueeze(0).expand(len(rows), L), w, None

    def loss_of(x, pos, w, allowed):
        inp, tgt = x[:, :-1], x[:, 1:]
        h, _ = model.hidden_states(inp, torch.ones_like(inp), pos[:, :-1], allowed=allowed)
        wt = w[:, 1:].reshape(-1)
        hs = h.reshape(-1, h.size(-1))
        ans = (wt == 2).nonzero().squeeze(1)
        lm = (wt == 1).nonzero().squeeze(1)
        la = F.cross_entropy(F.linear(hs.index_select(0, ans), model.lm_head.weight), tgt.reshape(-1).index_select(0, ans))
        if attn_sup and args.i_attn:  # -log of head (2, 1)'s attention on the language word, answer positions
            pr = model.model.layers[ATT_LAYER].self_attn.probs
            terms = [pr[r, ATT_HEAD, q0:(q0 + 1 if first_only else q1), k] for r, (q0, q1, k) in enumerate(attn_sup)]
            la = la + args.i_attn * (-torch.log(torch.cat(terms) + 1e-6)).mean()
        if lm.numel() == 0:  # phase 0 has no prose
            return la, torch.zeros(())
        ll = F.cross_entropy(F.linear(hs.index_select(0, lm), model.lm_head.weight), tgt.reshape(-1).index_select(0, lm))
        return la, ll

    probe_rows = [data.example(random.Random(SEED + 7 + i), data.held_fill, data.held_words, data.held_names,
                               0, 1000, "fact" if i % 3 else "instruction") for i in range(18)]

    @torch.no_grad()
    def probe():
        """First-token accuracy on 18 prompts like the held-out ones (held-out prose, words and names, 1,000 tokens
        between statement and question; other seeds than the held-out set) and copy accuracy on a repeated list
        of held-out words: printed during training to see whether retrieval forms."""
        model.eval()
        hits = {"fact": 0, "instruction": 0}
        for e in probe_rows:
            ids = tok.encode(e["prompt"])
            x = torch.tensor([ids])
            h, _ = model.hidden_states(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
            hits[e["task"]] += int(F.linear(h[0, -1], model.lm_head.weight).argmax()) == tok.encode(e["expected"])[0]
        words = random.Random(SEED + 8).sample(data.held_words, 30)
        ids = tok.encode("List: " + " ".join(words) + ".\nList: " + " ".join(words))
        x = torch.tensor([ids])
        h, _ = model.hidden_states(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
        pred = F.linear(h[0, :-1], model.lm_head.weight).argmax(-1)
        half = len(ids) // 2 + 2
        copy = float((pred[half:] == x[0, half + 1:]).float().mean())
        model.train()
        return f"probe: fact {hits['fact']}/12 instruction {hits['instruction']}/6 held-out copy {copy:.2f}"

    def train_phase(name, steps, peak, warmup, data_seed, make_batch):
        """Fresh AdamW, warmup + cosine to 10 %. Checkpointed every CHECKPOINT_EVERY steps (model, optimiser,
        data order), so a resumed run continues exactly where the interrupted one stopped."""
        ck = os.path.join(CACHE, f"long_{name}_{steps}{recipe}.ckpt")
        opt = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.98), weight_decay=0.01)
        rng = random.Random(data_seed)
        pending.clear()
        start, spent = 0, 0.0
        if os.path.exists(ck):
            st = torch.load(ck)
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["opt"])
            rng.setstate(st["rng"])
            pending.extend(st["pending"])
            torch.set_rng_state(st["torch_rng"])
            start, spent = st["step"], st["seconds"]
            print(f"phase {name}: resumed at step {start} from {ck}", flush=True)
        model.train()
        t_phase = time.time() - spent
        last = args.time_steps or steps
        for step in range(start, min(steps, last)):
            lr = lr_at(step, steps, peak, warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            ts = time.time()
            la, ll = loss_of(*make_batch(rng, step))
            loss = la + LM_WEIGHT * ll
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 10 == 0 or step == steps - 1 or args.time_steps:
                print(f"{name} step {step} lr {lr:.2e} answer {la.item():.3f} prose {ll.item():.3f} "
                      f"({time.time() - ts:.1f}s/step, {time.time() - t_phase:.0f}s)", flush=True)
            if (step + 1) % PROBE_EVERY == 0 or step == steps - 1:
                print(f"{name} step {step + 1} {probe()}", flush=True)
            if (step + 1) % CHECKPOINT_EVERY == 0 or step == steps - 1:
                tmp = ck + ".tmp"
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": rng.getstate(), "pending": list(pending),
                            "torch_rng": torch.get_rng_state(), "step": step + 1,
                            "seconds": time.time() - t_phase}, tmp)
                os.replace(tmp, ck)
        model.eval()
        return time.time() - t_phase

    recipe = (f"_ind{args.circuit}_pb{args.peak_b:g}_p0{args.steps_0}_c{args.steps_c}_copy{args.copy_share:g}_h{CFG['num_attention_heads']}"
              f"_t{CFG['rope_theta']:g}")
    if args.show_batch:
        for make in (batch_a, batch_b):
            x, pos, w, _ = make(random.Random(0))
            row = [(tok.decode([int(t)]), int(p), int(k)) for t, p, k in zip(x[0], pos[0], w[0])]
            print(" ".join(f"{t!r}@{p}{'*' if k == 2 else ''}" for t, p, k in row[:400]))
        return

    final = os.path.join(CACHE, f"long_final_{args.steps_a}_{args.steps_b}{recipe}_b{B_LIST:g}.pt")
    if args.eval_only or os.path.exists(final):
        st = torch.load(final)
        model.load_state_dict(st["model"])
        seconds = st["seconds"]
        print(f"trained weights loaded from {final}", flush=True)
    else:
        s0 = train_phase("0", args.steps_0, 2e-3, 20, SEED + 1, batch_0) if args.steps_0 else 0.0
        sc = train_phase("C", args.steps_c, 3e-3, 50, SEED + 31, batch_c) if args.steps_c else 0.0
        sa = train_phase("A", args.steps_a, 2e-3, 30, SEED + 11, batch_a) if args.steps_a else 0.0
        sb = train_phase("B", args.steps_b, args.peak_b, 20, SEED + 21, batch_long) if args.steps_b else 0.0
        if args.time_steps:
            return
        seconds = {"0": round(s0), "C": round(sc), "A": round(sa), "B": round(sb)}
        torch.save({"model": model.state_dict(), "seconds": seconds}, final)
    if args.steps_i:  # phase I continues from phase B's final weights
        final_i = final.replace(".pt", f"_i{args.steps_i}_pi{args.peak_i:g}_ii{I_INSTR:g}_k{args.i_pack}{'' if args.i_gap == '50,1000' else '_g' + args.i_gap.replace(',', '-')}{f'_at{args.i_attn:g}' if args.i_attn else ''}.pt")
        if args.eval_only or os.path.exists(final_i):
            st = torch.load(final_i)
            model.load_state_dict(st["model"])
            seconds = st["seconds"]
            print(f"trained weights loaded from {final_i}", flush=True)
        else:
            torch.set_rng_state(rng_init)
            si = train_phase(f"I{args.steps_b}_pi{args.peak_i:g}_ii{I_INSTR:g}_k{args.i_pack}{'' if args.i_gap == '50,1000' else '_g' + args.i_gap.replace(',', '-')}{f'_at{args.i_attn:g}' if args.i_attn else ''}", args.steps_i, args.peak_i, 20, SEED + 41, batch_instr)
            if args.time_steps:
                return
            seconds = {**seconds, "I": round(si)}
            torch.save({"model": model.state_dict(), "seconds": seconds}, final_i)
        if args.i_readout:
            final_j = final_i.replace(".pt", f"_r{args.i_readout:g}_j{args.steps_j}.pt")
            if args.eval_only or os.path.exists(final_j):
                st = torch.load(final_j)
                model.load_state_dict(st["model"])
                seconds = st["seconds"]
            else:
                add_greeting_readout(model, tok, args.i_readout)
                torch.set_rng_state(rng_init)
                first_only.append(True)
                sj = train_phase(os.path.basename(final_j)[:-3].replace("long_final", "J"), args.steps_j, 3e-4, 10,
                                 SEED + 51, batch_instr) if args.steps_j else 0.0
                seconds = {**seconds, "J": round(sj)}
                torch.save({"model": model.state_dict(), "seconds": seconds}, final_j)
    model.eval()

    # ---- held-out evaluation in PyTorch (greedy with the KV cache); the engine's own figures are measured
    # by test/eval/longContext.ts and written into eval/metrics.json beside these.
    @torch.no_grad()
    def greedy(prompt, n):
        ids = tok.encode(prompt)
        x = torch.tensor([ids])
        logits, past = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
        out, total = [], len(ids)
        for i in range(n):
            nxt = int(logits[0, -1].argmax())
            out.append(nxt)
            if i == n - 1:
                break
            total += 1
            x = torch.tensor([[nxt]])
            logits, past = model(x, torch.ones(1, total, dtype=torch.long), torch.tensor([[total - 1]]), past)
        return out, len(ids)

    per_task, rows, lengths = {}, [], []
    for e in heldout:
        exp_ids = tok.encode(e["expected"])
        got, n = greedy(e["prompt"], len(exp_ids))
        lengths.append(n)
        t = per_task.setdefault(e["task"], [0, 0, 0])
        t[0] += got[0] == exp_ids[0]
        t[1] += got == exp_ids
        t[2] += 1
        value = e["prompt"][e["cause"]["start"]:e["cause"]["end"]]
        assert e["task"] == "instruction" or value in held_words, value
        rows.append({"prompt": e["prompt"], "expected": e["expected"], "task": e["task"], "cause": e["cause"]})
    n = len(heldout)
    metrics = {
        "heldout_examples": n,
        "heldout_prompt_tokens": {"min": min(lengths), "median": sorted(lengths)[n // 2], "max": max(lengths)},
        "pytorch": {
            "first_token_accuracy": sum(v[0] for v in per_task.values()) / n,
            "full_continuation_accuracy": sum(v[1] for v in per_task.values()) / n,
            "per_task": {k: {"first_token_accuracy": v[0] / v[2], "full_continuation_accuracy": v[1] / v[2], "n": v[2]}
                         for k, v in sorted(per_task.items())},
        },
        "parameters": n_params,
        "train_steps": {"0": args.steps_0, "C": args.steps_c, "A": args.steps_a, "B": args.steps_b, "I": args.steps_i, "J": args.steps_j},
        "train_seconds": seconds,
        "train_code_words": len(data.train_words),
        "heldout_code_words": len(data.held_words),
    }
    print(json.dumps(metrics, indent=1), flush=True)

    out = args.out
    for sub in ("onnx", "eval", "reference"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
              **{k: v for k, v in CFG.items()}, "head_dim": CFG["hidden_size"] // CFG["num_attention_heads"],
              "hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
              "bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos, "torch_dtype": "float32",
              "use_cache": True}
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "generation_config.json"),
               {"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos, "do_sample": False, "max_new_tokens": 20})
    bpe.write_tokenizer(out, vocab, merges, CFG["max_position_embeddings"])
    old = os.path.join(out, "eval", "metrics.json")
    if os.path.exists(old):  # keep the engine's figures when only the PyTorch side is rewritten
        engine = json.load(open(old)).get("engine")
        if engine:
            metrics["engine"] = engine
    write_json(os.path.join(out, "eval", "metrics.json"), metrics)
    write_jsonl(os.path.join(out, "eval", "heldout.jsonl"), rows)
    export_decoder(model, os.path.join(out, "onnx", "model.onnx"), CFG["num_hidden_layers"],
                   CFG["num_key_value_heads"], config["head_dim"], "model.model.embed_tokens.weight")
    write_reference(model, tok, rows, os.path.join(out, "reference", "reference.json"))
    print(f"done in {time.time() - t0:.0f}s", flush=True)


@torch.no_grad()
def add_greeting_readout(model, tok, scale):
    """Head ATT_HEAD of layer ATT_LAYER attends, after phase I, from the answer position of an instruction to the
    language word. Its value there identifies the language; add to the head's output projection a map (least
    squares, the pseudo-inverse of the ten languages' values) from each language's value to the direction that
    raises its greeting's first token. Values come from the bare instruction templates, not from held-out text."""
    layer = model.model.layers[ATT_LAYER]
    attn, hd, cap = layer.self_attn, layer.self_attn.head_dim, {}
    hook = layer.input_layernorm.register_forward_hook(lambda m, i, o: cap.__setitem__("n", o))
    vals = []
    for lang, _ in long_tasks.GREETINGS:
        t, vs = tok.encode(" " + lang)[0], []
        for _, tmpl in long_tasks.INSTR_T:
            ids = tok.encode(tmpl.format(L=lang))
            x = torch.tensor([ids])
            model.hidden_states(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0))
            vs.append(attn.v_proj(cap["n"][0, ids.index(t)]))
        vals.append(torch.stack(vs).mean(0))
    hook.remove()
    u = torch.linalg.pinv(torch.stack(vals))  # [head_dim, 10]: u[:, l] . value of language m = (l == m)
    emb = model.model.embed_tokens.weight
    g = torch.stack([emb[tok.encode(gr)[0]] / model.model.norm.weight for _, gr in long_tasks.GREETINGS], 1)
    g = g / g.norm(dim=0, keepdim=True)
    attn.o_proj.weight[:, ATT_HEAD * hd:(ATT_HEAD + 1) * hd] += scale * g @ u.T


def write_reference(model, tok, heldout, path):
    """Last-position logits in float64 (the weights exactly as exported, arithmetic in double) and in float32
    PyTorch, for short prompts, a held-out long prompt and a prompt that fills all 2,048 positions. The float32
    row measures how far one independent fp32 evaluation strays from the exact value; the test derives the
    engine's tolerance from it."""
    prompts = ["The code word is apple. The code word is", "Instruction: always reply in French.\nUser: Hello!\nAssistant:",
               max((e["prompt"] for e in heldout), key=len)]
    filler = heldout[0]["prompt"]
    ids_full = (tok.encode(filler) * 3)[:2048]
    items = []
    m64 = LlamaForCausalLM(model.cfg).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    m64.eval()
    for p in prompts + [None]:
        ids = tok.encode(p) if p is not None else ids_full
        x = torch.tensor([ids])
        pos = torch.arange(len(ids)).unsqueeze(0)
        with torch.no_grad():
            l64, _ = m64(x, torch.ones_like(x), pos)
            l32, _ = model(x, torch.ones_like(x), pos)
        a, b = l64[0, -1], l32[0, -1].double()
        items.append({"prompt": p, "input_ids": ids, "logits_float64": [float(f"{v:.10g}") for v in a.tolist()],
                      "float32_max_abs_deviation": float((a - b).abs().max()), "argmax": int(a.argmax())})
    write_json(path, {"model": NAME, "schema": {
        "prompt": "text given to the tokenizer (null: input_ids are a held-out prompt repeated to 2,048 tokens)",
        "input_ids": "positions 0..n-1, attention mask all ones, no past",
        "logits_float64": "logits at the last position, float64 arithmetic on the exported weights, 10 digits",
        "float32_max_abs_deviation": "max |float32 PyTorch logits - float64 logits| at that position"},
        "items": items}, compact=True)


if __name__ == "__main__":
    main()

"""Byte-level BPE (GPT-2 style): training, encoding, and writing a Hugging Face tokenizer.json."""
import heapq
import json
from collections import Counter, defaultdict

import regex

# GPT-2's pre-tokenisation pattern, as used by the ByteLevel pre-tokenizer (use_regex: true).
GPT2_PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOS = "<|endoftext|>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}


def pretokenize(text):
    return ["".join(BYTE_ENC[b] for b in piece.encode("utf-8")) for piece in GPT2_PATTERN.findall(text)]


def train(word_counts, vocab_size):
    """word_counts: Counter of byte-level pre-tokens. Returns (vocab dict, merges list)."""
    alphabet = [BYTE_ENC[b] for b in range(256)]
    n_merges = vocab_size - len(alphabet) - 1  # one slot for <|endoftext|>
    words = [list(w) for w in sorted(word_counts)]
    counts = [word_counts["".join(w)] for w in words]
    pair_counts = Counter()
    where = defaultdict(set)
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_counts[p] += counts[i]
            where[p].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc or negc == 0:
            continue
        merges.append(pair)
        a, b = pair
        ab = a + b
        changed = Counter()
        for i in sorted(where[pair]):
            w = words[i]
            c = counts[i]
            j = 0
            new = []
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    new.append(ab)
                    j += 2
                else:
                    new.append(w[j])
                    j += 1
            if len(new) == len(w):
                continue
            for p in zip(w, w[1:]):
                pair_counts[p] -= c
                changed[p] += 1
            for p in zip(new, new[1:]):
                pair_counts[p] += c
                where[p].add(i)
                changed[p] += 1
            words[i] = new
        pair_counts.pop(pair, None)
        for p in changed:
            c = pair_counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            elif p in pair_counts:
                del pair_counts[p]
    vocab = {}
    for s in alphabet:
        vocab[s] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab[EOS] = len(vocab)
    return vocab, ["%s %s" % m for m in merges]


class ByteLevelBPE:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.cache = {}
        self.eos_id = vocab[EOS]

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i, p in enumerate(zip(parts, parts[1:])):
                r = self.ranks.get(p)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = p, r
            if best is None:
                break
            new, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    new.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    new.append(parts[i])
                    i += 1
            parts = new
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        out = []
        for w in pretokenize(text):
            out.extend(self._bpe(w))
        return out

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            t = self.inv[i]
            if t == EOS:
                data.extend(t.encode("utf-8"))
            else:
                data.extend(BYTE_DEC[c] for c in t)
        return data.decode("utf-8", errors="replace")


def tokenizer_json(vocab, merges):
    eos_id = vocab[EOS]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": eos_id, "content": EOS, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": True, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": bl,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": merges,
        },
    }


def write_tokenizer(folder, vocab, merges, model_max_length):
    with open(f"{folder}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False, separators=(",", ":"))
    cfg = {
        "tokenizer_class": "GPT2Tokenizer",
        "add_bos_token": False,
        "add_prefix_space": False,
        "bos_token": EOS,
        "eos_token": EOS,
        "unk_token": EOS,
        "pad_token": EOS,
        "model_max_length": model_max_length,
        "clean_up_tokenization_spaces": False,
        "errors": "replace",
    }
    with open(f"{folder}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)

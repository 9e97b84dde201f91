"""BERT-style WordPiece tokenisation (BertNormalizer lowercase + strip_accents, BertPreTokenizer,
greedy longest-match WordPiece with "##" continuation) and writing a Hugging Face tokenizer.json."""
import json
import unicodedata

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if ch.isspace() or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    t = "".join(out).lower()
    t = unicodedata.normalize("NFD", t)
    return "".join(c for c in t if unicodedata.category(c) != "Mn")


def pretokenize(text):
    words, cur = [], []
    for ch in text:
        if ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


class WordPiece:
    def __init__(self, vocab):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}

    def word(self, w):
        if len(w) > 100:
            return [self.vocab["[UNK]"]]
        ids, start = [], 0
        while start < len(w):
            end = len(w)
            found = None
            while start < end:
                piece = w[start:end] if start == 0 else "##" + w[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.vocab["[UNK]"]]
            ids.append(found)
            start = end
        return ids

    def encode(self, text):
        ids = [self.vocab["[CLS]"]]
        for w in pretokenize(normalize(text)):
            ids.extend(self.word(w))
        ids.append(self.vocab["[SEP]"])
        return ids


def build_vocab(words):
    """words: iterable of normalised whole words to include. Adds every single character seen (and its
    ## continuation form), ASCII letters/digits/punctuation, so that unknown words still split into pieces."""
    toks = list(SPECIALS)
    chars = set("abcdefghijklmnopqrstuvwxyz0123456789")
    chars |= {chr(c) for c in range(33, 127) if _is_punct(chr(c))}
    for w in words:
        chars |= set(w)
    for c in sorted(chars):
        toks.append(c)
    for c in sorted(chars):
        if not _is_punct(c):
            toks.append("##" + c)
    seen = set(toks)
    for w in words:
        if w not in seen:
            toks.append(w)
            seen.add(w)
    return {t: i for i, t in enumerate(toks)}


def write_tokenizer(folder, vocab, model_max_length):
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": True, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    with open(f"{folder}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
    cfg = {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "strip_accents": True,
           "tokenize_chinese_chars": True, "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
           "unk_token": "[UNK]", "mask_token": "[MASK]", "model_max_length": model_max_length,
           "clean_up_tokenization_spaces": True}
    with open(f"{folder}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    with open(f"{folder}/vocab.txt", "w", encoding="utf-8") as f:
        for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
            f.write(t + "\n")

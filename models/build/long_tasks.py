"""Long-range synthetic tasks for promptscope-tiny-long: a fact or an instruction stated far before the question.

  fact         "The code word is {W}." / "Remember: the password is {W}." / "My name is {N}." somewhere near the
               top, long prose filler, then the question ("The code word is" -> " {W}")
  instruction  "Instruction: always reply in {Lang}." at the top, long prose filler, then
               "User: Hello!\nAssistant:" -> the greeting of that language (" Bonjour", " Hola", ...)

Filler is prose from the Python documentation (corpus.py). The held-out set uses documents, code words and names
that training never sees: the documents are split by index, the words and names by a fixed hash, so a correct
held-out answer needs real retrieval, not memory. Every example is {prompt, expected, task, cause: {start, end}}
where `cause` is the character span of the stated word (the code word, the name, the language).
"""
import hashlib
import re
from collections import Counter

FACT_T = [
    ("f0", "The code word is {W}.", "The code word is"),
    ("f1", "Remember: the password is {W}.", "What is the password? The password is"),
    ("f2", "My name is {N}.", "What is my name? My name is"),
]
INSTR_T = [
    ("i0", "Instruction: always reply in {L}."),
    ("i1", "System: you are an assistant who answers only in {L}."),
]
QUESTIONS = ["User: Hello!\nAssistant:", "User: Good morning.\nAssistant:"]
GREETINGS = [
    ("French", " Bonjour"), ("German", " Hallo"), ("Spanish", " Hola"), ("Italian", " Ciao"),
    ("English", " Hello"), ("Swedish", " Hej"), ("Turkish", " Merhaba"), ("Russian", " Privet"),
    ("Japanese", " Konnichiwa"), ("Finnish", " Terve"),
]
NAMES = [
    "Alice", "Bob", "Mary", "John", "Sarah", "David", "Emma", "James", "Laura", "Peter", "Anna", "Michael",
    "Julia", "Thomas", "Sophie", "Daniel", "Maria", "Robert", "Lucy", "Paul", "Kate", "Mark", "Lisa", "George",
    "Helen", "Frank", "Rachel", "Simon", "Claire", "Henry", "Nina", "Oscar", "Grace", "Victor", "Chloe", "Adam",
    "Olivia", "Jack", "Emily", "Martin", "Susan", "Kevin", "Diana", "Brian", "Alex", "Ruth", "Tom", "Linda",
]


def held(word):
    """A fixed fifth of the words and names is held out (stable across Python versions: not hash())."""
    return hashlib.sha1(word.encode("utf-8")).digest()[0] % 5 == 0


def code_words(tok, docs):
    """Whole lower-case words that are one token with a leading space and occur as words in the corpus."""
    counts = Counter(w for d in docs for w in re.findall(r"\b[a-z]{4,}\b", d))
    out = []
    for t in tok.vocab:
        if not re.fullmatch("Ġ[a-z]{4,}", t):
            continue
        w = t[1:]
        if counts[w] >= 3 and len(tok.encode(" " + w)) == 1:
            out.append(w)
    return sorted(out)


class Filler:
    """Paragraphs of prose, drawn in document order from a random start, until a token count is reached."""

    def __init__(self, docs, tok):
        self.paras = [p for d in docs for p in d.split("\n")]
        self.lens = [len(tok.encode("\n" + p)) for p in self.paras]
        self.tok = tok

    def take(self, rng, n_tokens):
        """Whole paragraphs (each after a newline) totalling about n_tokens; the last one is cut at a word."""
        if n_tokens <= 0:
            return ""
        i = rng.randrange(len(self.paras))
        out, n = [], 0
        while n < n_tokens:
            p, k = self.paras[i], self.lens[i]
            if n + k > n_tokens:
                words = p.split(" ")
                keep = max(1, int(len(words) * (n_tokens - n) / k))
                out.append(" ".join(words[:keep]) + ".")
                break
            out.append(p)
            n += k
            i = (i + 1) % len(self.paras)
        return "".join("\n" + p for p in out)


def example(rng, filler, words, names, pre_tokens, gap_tokens, task=None):
    """One long example: [pre filler] statement [gap filler] question. Pre filler comes before a fact only;
    an instruction always opens the prompt."""
    task = task or rng.choice(["fact", "fact", "instruction"])
    if task == "fact":
        tid, stmt_t, q = rng.choice(FACT_T)
        value = rng.choice(names if tid == "f2" else words)
        stmt = stmt_t.format(W=value, N=value)
        pre = filler.take(rng, pre_tokens).lstrip("\n")
        head = (pre + "\n" if pre else "") + stmt
        cause_start = len(head) - 1 - len(value)
        expected = " " + value
    else:
        tid, stmt_t = rng.choice(INSTR_T)
        lang, expected = rng.choice(GREETINGS)
        head = stmt_t.format(L=lang)
        cause_start = head.index(lang)
        value = lang
        q = rng.choice(QUESTIONS)
    prompt = head + filler.take(rng, gap_tokens) + "\n" + q
    assert prompt[cause_start:cause_start + len(value)] == value
    return {"prompt": prompt, "expected": expected, "task": task, "template": tid,
            "cause": {"start": cause_start, "end": cause_start + len(value)}}

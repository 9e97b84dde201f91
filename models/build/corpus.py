"""English prose from Debian's python3.11-doc package (the reStructuredText sources of the Python 3.11
documentation, /usr/share/doc/python3.11/html/_sources, PSF License Version 2). Only prose paragraphs are kept:
code blocks, directives, tables and headings are dropped and inline markup is reduced to its text."""
import os
import re

SOURCE_DIR = "/usr/share/doc/python3.11/html/_sources"
SECTIONS = ["tutorial", "faq", "howto", "glossary.rst.txt", "reference", "library", "whatsnew", "using"]

ROLE = re.compile(r":[a-zA-Z:]+:`!?~?([^`<]*?)(?:\s*<[^>]*>)?`")
LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
REF = re.compile(r"`([^`]+)`_+")
LIT = re.compile(r"``([^`]+)``")
EMPH = re.compile(r"\*\*?([^*]+)\*\*?")
SUBST = re.compile(r"\|[^|\s]+\|")


def clean_line(s):
    s = ROLE.sub(r"\1", s)
    s = LINK.sub(r"\1", s)
    s = REF.sub(r"\1", s)
    s = LIT.sub(r"\1", s)
    s = EMPH.sub(r"\1", s)
    s = SUBST.sub("", s)
    s = s.replace("`", "")
    return re.sub(r"\s+", " ", s).strip()


def prose_paragraphs(text):
    paras, cur = [], []
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        if line[0] in " \t" or line.startswith("..") or re.fullmatch(r"([=\-~^\"*#+`'.:_])\1{2,}\s*", line):
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        cur.append(line.strip())
    if cur:
        paras.append(" ".join(cur))
    out = []
    for p in paras:
        if p.startswith(("|", "+", ">>>", "$")) or p.endswith("::"):
            p = p.rstrip(":") + "." if p.endswith("::") and len(p) > 60 else ""
        p = clean_line(p)
        # keep sentences that read like English prose
        if len(p) < 60 or sum(c.isalpha() for c in p) < 0.7 * len(p) or p.count("(") > 4:
            continue
        out.append(p)
    return out


def load_documents(max_chars):
    docs = []
    total = 0
    files = []
    for sec in SECTIONS:
        path = os.path.join(SOURCE_DIR, sec)
        if os.path.isfile(path):
            files.append(path)
        else:
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".rst.txt")]
    for path in files:
        with open(path, encoding="utf-8") as f:
            paras = prose_paragraphs(f.read())
        if not paras:
            continue
        doc = "\n".join(paras)
        docs.append(doc)
        total += len(doc)
        if total >= max_chars:
            break
    return docs


if __name__ == "__main__":
    d = load_documents(50_000_000)
    print(len(d), sum(map(len, d)))
    print(d[3][:1500])

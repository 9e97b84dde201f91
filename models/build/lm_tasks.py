"""Synthetic prompts whose continuation depends on one known earlier token or span.

Every example is a dict {prompt, expected, task, cause: {start, end}, key}; `cause` is the character span in
the prompt that the answer depends on (the country, the subject noun, the earlier name, the word to repeat...).
`key` identifies the combination of template and fillers; the held-out set is a fixed set of keys that never
appears in training (unseen template/filler combinations of the same task families).
"""
import random

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Portugal", "Lisbon"),
    ("Japan", "Tokyo"), ("China", "Beijing"), ("Russia", "Moscow"), ("Egypt", "Cairo"), ("Greece", "Athens"),
    ("Austria", "Vienna"), ("Poland", "Warsaw"), ("Sweden", "Stockholm"), ("Norway", "Oslo"),
    ("Denmark", "Copenhagen"), ("Finland", "Helsinki"), ("Ireland", "Dublin"), ("England", "London"),
    ("Canada", "Ottawa"), ("Australia", "Canberra"), ("India", "Delhi"), ("Kenya", "Nairobi"),
    ("Peru", "Lima"), ("Chile", "Santiago"), ("Argentina", "Buenos Aires"), ("Cuba", "Havana"),
    ("Mexico", "Mexico City"), ("Turkey", "Ankara"), ("Iran", "Tehran"), ("Iraq", "Baghdad"),
    ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"), ("Hungary", "Budapest"), ("Belgium", "Brussels"),
    ("Switzerland", "Bern"), ("Scotland", "Edinburgh"), ("Brazil", "Brasilia"), ("Morocco", "Rabat"),
    ("Nigeria", "Abuja"), ("Indonesia", "Jakarta"), ("Colombia", "Bogota"), ("Ukraine", "Kyiv"),
]
LANGUAGES = [
    ("France", "French"), ("Germany", "German"), ("Italy", "Italian"), ("Spain", "Spanish"),
    ("Portugal", "Portuguese"), ("Japan", "Japanese"), ("China", "Chinese"), ("Russia", "Russian"),
    ("Greece", "Greek"), ("Poland", "Polish"), ("Sweden", "Swedish"), ("Norway", "Norwegian"),
    ("Denmark", "Danish"), ("Finland", "Finnish"), ("Hungary", "Hungarian"), ("Turkey", "Turkish"),
    ("Egypt", "Arabic"), ("Brazil", "Portuguese"), ("Mexico", "Spanish"), ("Austria", "German"),
    ("Vietnam", "Vietnamese"), ("Thailand", "Thai"), ("Iran", "Persian"), ("Ukraine", "Ukrainian"),
    ("Netherlands", "Dutch"), ("Korea", "Korean"), ("Argentina", "Spanish"), ("England", "English"),
]
OPPOSITES = [
    ("hot", "cold"), ("big", "small"), ("up", "down"), ("fast", "slow"), ("happy", "sad"), ("light", "dark"),
    ("old", "young"), ("open", "closed"), ("early", "late"), ("strong", "weak"), ("rich", "poor"),
    ("high", "low"), ("long", "short"), ("hard", "soft"), ("wet", "dry"), ("full", "empty"),
    ("left", "right"), ("day", "night"), ("black", "white"), ("good", "bad"), ("loud", "quiet"),
    ("thick", "thin"), ("clean", "dirty"), ("true", "false"), ("inside", "outside"), ("first", "last"),
    ("win", "lose"), ("push", "pull"), ("buy", "sell"), ("start", "finish"), ("north", "south"),
    ("east", "west"), ("above", "below"), ("near", "far"), ("yes", "no"), ("always", "never"),
]
NOUNS = [  # (singular, plural)
    ("key", "keys"), ("dog", "dogs"), ("teacher", "teachers"), ("book", "books"), ("car", "cars"),
    ("student", "students"), ("bird", "birds"), ("door", "doors"), ("house", "houses"), ("box", "boxes"),
    ("girl", "girls"), ("boy", "boys"), ("tree", "trees"), ("cat", "cats"), ("song", "songs"),
    ("player", "players"), ("letter", "letters"), ("doctor", "doctors"), ("bottle", "bottles"),
    ("picture", "pictures"), ("window", "windows"), ("farmer", "farmers"), ("lamp", "lamps"),
    ("painting", "paintings"), ("singer", "singers"), ("chair", "chairs"), ("flower", "flowers"),
    ("child", "children"), ("man", "men"), ("woman", "women"), ("road", "roads"), ("ship", "ships"),
    ("horse", "horses"), ("river", "rivers"), ("table", "tables"), ("cup", "cups"), ("pilot", "pilots"),
    ("author", "authors"), ("garden", "gardens"), ("bridge", "bridges"),
]
PREPS = ["near", "on", "behind", "next to", "under", "beside", "in front of", "with", "of", "by"]
AGREE_ADJ = ["old", "new", "red", "broken", "ready", "quiet", "here", "famous", "small", "missing", "clean"]
NAMES = [
    "Alice", "Bob", "Mary", "John", "Sarah", "David", "Emma", "James", "Laura", "Peter", "Anna", "Michael",
    "Julia", "Thomas", "Sophie", "Daniel", "Maria", "Robert", "Lucy", "Paul", "Kate", "Mark", "Lisa", "George",
    "Helen", "Frank", "Rachel", "Simon", "Claire", "Henry", "Nina", "Oscar", "Grace", "Victor", "Chloe", "Adam",
    "Olivia", "Jack", "Emily", "Martin", "Susan", "Kevin", "Diana", "Brian", "Alex", "Ruth", "Tom", "Linda",
]
PLACES = ["store", "park", "market", "station", "library", "beach", "museum", "office", "school", "cafe",
          "garden", "bank", "theater", "hospital", "kitchen", "harbor"]
OBJECTS = ["apple", "book", "ball", "letter", "key", "ticket", "pen", "cake", "hat", "map", "cup", "phone",
           "coin", "flower", "lamp", "bag", "watch", "camera", "guitar", "kite", "box", "candle", "shoe", "ring"]
ADJS = ["red", "blue", "green", "small", "big", "new", "old", "shiny", "heavy", "yellow", "wooden", "tiny"]
ANIMALS = ["dog", "cat", "horse", "cow", "lion", "tiger", "rabbit", "mouse", "bird", "fish", "bear", "wolf",
           "sheep", "goat", "duck", "fox", "frog", "snake", "monkey", "elephant"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
WORDS = OBJECTS + ANIMALS + ["house", "river", "music", "water", "window", "garden", "paper", "bread",
                             "tree", "chair", "cloud", "stone", "train", "road", "song", "table"]

# (template id, prompt template, suffix written after the answer in training text)
CAPITAL_T = [
    ("c0", "The capital of {C} is", "."),
    ("c1", "The capital city of {C} is", "."),
    ("c2", "Q: What is the capital of {C}?\nA:", ""),
    ("c3", "{C} is a country. Its capital is", "."),
    ("c4", "Which city is the capital of {C}? The answer is", "."),
    ("c5", "I flew to {C} and spent a week in its capital,", "."),
    ("c6", "Question: capital of {C}? Answer:", ""),
    ("c7", "Fact: the capital of {C} is", "."),
]
CAPITAL_REV_T = [("r0", "{K} is the capital of", "."), ("r1", "The city of {K} is in", ".")]
LANG_T = [
    ("l0", "In {C}, most people speak", "."),
    ("l1", "The official language of {C} is", "."),
    ("l2", "Q: What language is spoken in {C}?\nA:", ""),
    ("l3", "People in {C} usually speak", "."),
    ("l4", "Visitors to {C} should learn some", "."),
]
OPP_T = [
    ("o0", "The opposite of {w} is", "."),
    ("o1", "Q: What is the opposite of {w}?\nA:", ""),
    ("o2", "The word {w} means the opposite of", "."),
    ("o3", "Opposite of {w}:", ""),
    ("o4", "If something is not {w}, it is", "."),
]
AGREE_T = [
    ("a0", "The {S} {P} the {D}", " {adj}."),
    ("a1", "The {S} that the {D} liked", " {adj}."),
    ("a2", "The {S} {P} the {J} {D}", " {adj}."),
    ("a3", "I think the {S} {P} the {D}", " {adj}."),
    ("a4", "The {S} who saw the {D}", " {adj}."),
    ("a5", "Yesterday the {S} {P} the {D}", " {adj}."),
]
COPY_T = [
    ("n0", "My name is {N}. What is my name? My name is", "."),
    ("n1", "{N} has a {A} {O}. The {O} belongs to", "."),
    ("n2", "{N} and {M} went to the {L}. Then {M} gave a {O} to", "."),
    ("n3", "Yesterday {N} called me from the {L}. The person who called me was", "."),
    ("n4", "The winner of the race was {N}. Everyone cheered for", "."),
    ("n5", "Remember this name: {N}. The name to remember is", "."),
    ("n6", "{N} wrote a letter to {M}. The letter was written by", "."),
    ("n7", "When {N} and {M} arrived at the {L}, {M} handed the {O} to", "."),
    ("n8", "Hi, I am {N} and I work at the {L}. Nice to meet you, I am", "."),
    ("n9", "{N} found a {O} in the {L}. Who found the {O}? Answer:", ""),
]
INSTR_T = [
    ("i0", "Repeat the word {w}:", ""),
    ("i1", "Say the word {w} again: {w},", ""),
    ("i2", "What day comes after {D}? Answer:", ""),
    ("i3", "What month comes after {Mo}? Answer:", ""),
    ("i4", "Count: {n1}, {n2}, {n3},", ""),
    ("i5", "Which one is an animal, {x} or {y}? Answer:", ""),
    ("i6", "Pick the first word of this list: {w}, {w2}, {w3}. Answer:", ""),
    ("i7", "Copy the last word: {w2} {w3} {w}. Answer:", ""),
    ("i8", "The day after {D} is", "."),
]


def _ex(task, key, prompt, expected, cause_text, suffix, cause_occurrence=0):
    start = -1
    for _ in range(cause_occurrence + 1):
        start = prompt.find(cause_text, start + 1)
    # cause spans never start inside a word: search for a word boundary occurrence
    while start > 0 and (prompt[start - 1].isalpha() or (start + len(cause_text) < len(prompt) and prompt[start + len(cause_text)].isalpha())):
        start = prompt.find(cause_text, start + 1)
    assert start >= 0, (prompt, cause_text)
    if not (key[0][0] in "clo" and key[0][1:].isdigit()):
        key = (key[0], prompt)  # non-fact families: the prompt itself is the combination
    return {"prompt": prompt, "expected": expected, "task": task,
            "cause": {"start": start, "end": start + len(cause_text)}, "key": key, "suffix": suffix}


FAMILIES = ["capital", "capital_reverse", "language", "opposite", "agreement", "copy", "instruction"]
DEFAULT_WEIGHTS = [18, 4, 10, 10, 22, 24, 16]


def sample(rng, weights=None):
    """One random synthetic example (any family)."""
    fam = rng.choices(FAMILIES, weights=weights or DEFAULT_WEIGHTS)[0]
    if fam == "capital":
        tid, t, suf = rng.choice(CAPITAL_T)
        c, k = rng.choice(CAPITALS)
        return _ex("capital", (tid, c), t.format(C=c), " " + k, c, suf)
    if fam == "capital_reverse":
        tid, t, suf = rng.choice(CAPITAL_REV_T)
        c, k = rng.choice(CAPITALS)
        return _ex("capital", (tid, k), t.format(K=k), " " + c, k, suf)
    if fam == "language":
        tid, t, suf = rng.choice(LANG_T)
        c, lang = rng.choice(LANGUAGES)
        return _ex("language", (tid, c), t.format(C=c), " " + lang, c, suf)
    if fam == "opposite":
        tid, t, suf = rng.choice(OPP_T)
        a, b = rng.choice(OPPOSITES)
        if rng.random() < 0.5:
            a, b = b, a
        return _ex("opposite", (tid, a, b), t.format(w=a), " " + b, a, suf)
    if fam == "agreement":
        tid, t, suf = rng.choice(AGREE_T)
        i, j, j2 = rng.sample(range(len(NOUNS)), 3)
        plural = rng.random() < 0.5
        subj = NOUNS[i][int(plural)]
        # the distractor noun usually has the other number
        dplural = (not plural) if rng.random() < 0.8 else plural
        d = NOUNS[j][int(dplural)]
        prep = rng.choice(PREPS)
        prompt = t.format(S=subj, P=prep, D=d, J=rng.choice(ADJS))
        adj = rng.choice(AGREE_ADJ)
        verb = " are" if plural else " is"
        return _ex("agreement", (tid, subj, prep, d), prompt, verb, subj, suf.format(adj=adj))
    if fam == "copy":
        tid, t, suf = rng.choice(COPY_T)
        n, m = rng.sample(NAMES, 2)
        a, o, place = rng.choice(ADJS), rng.choice(OBJECTS), rng.choice(PLACES)
        prompt = t.format(N=n, M=m, A=a, O=o, L=place)
        return _ex("copy", (tid, n, m, a, o, place), prompt, " " + n, n, suf)
    tid, t, suf = rng.choice(INSTR_T)
    if tid in ("i0", "i1"):
        w = rng.choice(WORDS)
        return _ex("instruction", (tid, w), t.format(w=w), " " + w, w, suf)
    if tid in ("i2", "i8"):
        d = rng.randrange(7)
        return _ex("instruction", (tid, d), t.format(D=DAYS[d]), " " + DAYS[(d + 1) % 7], DAYS[d], suf)
    if tid == "i3":
        m = rng.randrange(12)
        return _ex("instruction", (tid, m), t.format(Mo=MONTHS[m]), " " + MONTHS[(m + 1) % 12], MONTHS[m], suf)
    if tid == "i4":
        s = rng.randrange(len(NUMBERS) - 3)
        prompt = t.format(n1=NUMBERS[s], n2=NUMBERS[s + 1], n3=NUMBERS[s + 2])
        return _ex("instruction", (tid, s), prompt, " " + NUMBERS[s + 3], NUMBERS[s + 2], suf, 0)
    if tid == "i5":
        an = rng.choice(ANIMALS)
        ob = rng.choice(OBJECTS)
        x, y = (an, ob) if rng.random() < 0.5 else (ob, an)
        return _ex("instruction", (tid, x, y), t.format(x=x, y=y), " " + an, an, suf)
    w, w2, w3 = rng.sample(WORDS, 3)
    return _ex("instruction", (tid, w, w2, w3), t.format(w=w, w2=w2, w3=w3), " " + w, w, suf)


def heldout_and_train_sampler(seed, n_heldout_per_task):
    """Builds the held-out set (deterministic) and returns (heldout list, function rng -> training example)."""
    rng = random.Random(seed)
    per_task = {}
    keys = set()
    # Facts: for each country one non-canonical template is held out (canonical c0/l0/o0 always trained).
    hold_fact = {}
    for c, _ in CAPITALS:
        hold_fact[("capital", c)] = rng.choice([t[0] for t in CAPITAL_T[1:]])
    for c, _ in LANGUAGES:
        hold_fact[("language", c)] = rng.choice([t[0] for t in LANG_T[1:]])
    for a, b in OPPOSITES:
        for x in (a, b):
            hold_fact[("opposite", x)] = rng.choice([t[0] for t in OPP_T[1:]])

    def is_held_fact(key):
        tid = key[0]
        if tid.startswith("c") and ("capital", key[1]) in hold_fact:
            return hold_fact[("capital", key[1])] == tid
        if tid.startswith("l"):
            return hold_fact[("language", key[1])] == tid
        if tid.startswith("o"):
            return hold_fact[("opposite", key[1])] == tid
        return False

    seen_prompts = set()
    heldout = []
    gen = random.Random(seed + 1)
    while True:
        ex = sample(gen)
        task = ex["task"]
        need = n_heldout_per_task.get(task, 0)
        if per_task.get(task, 0) >= need or ex["prompt"] in seen_prompts:
            if all(per_task.get(t, 0) >= n for t, n in n_heldout_per_task.items()):
                break
            continue
        fact = task in ("capital", "language", "opposite")
        if fact and not is_held_fact(ex["key"]):
            continue
        if ex["key"][0] in ("r0", "r1", "i2", "i3", "i4", "i8"):
            continue  # fully enumerable small families: nothing unseen to hold out
        seen_prompts.add(ex["prompt"])
        keys.add(ex["key"])
        heldout.append(ex)
        per_task[task] = per_task.get(task, 0) + 1

    def train_sample(r, weights=None):
        while True:
            ex = sample(r, weights)
            if ex["key"] in keys or is_held_fact(ex["key"]):
                continue
            return ex

    return heldout, train_sample


if __name__ == "__main__":
    h, ts = heldout_and_train_sampler(1234, {"capital": 40, "language": 25, "opposite": 40, "agreement": 60,
                                             "copy": 60, "instruction": 40})
    print(len(h))
    for e in h[:10]:
        print(e)
    r = random.Random(0)
    for _ in range(15):
        e = ts(r)
        print(repr(e["prompt"] + e["expected"] + e["suffix"]), e["prompt"][e["cause"]["start"]:e["cause"]["end"]])

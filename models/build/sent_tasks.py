"""Generator of labelled sentiment sentences whose label is carried by a known cue.

Each sentence talks about one subject; the label comes from one cue adjective (positive or negative list),
flipped by a negation directly before it ("not", "never", "hardly", "wasn't"...), optionally strengthened by
an intensifier ("very", "really"...). Sentences may carry a neutral distractor clause ("which we tried on
Tuesday", "although it was raining") or a contrast clause with the opposite cue that is overridden by the
final clause ("Everyone said it would be awful, but the movie was great."). `cue` is the character span of the
deciding phrase: from the negation (if any) through the cue adjective. Casing and accents vary (GREAT, Café)
so the tokenizer's lowercase + strip_accents normalisation is exercised.
"""
import random

POS = ["good", "great", "excellent", "wonderful", "amazing", "delightful", "fantastic", "pleasant", "superb",
       "lovely", "brilliant", "enjoyable", "impressive", "perfect", "awesome", "charming", "outstanding",
       "satisfying", "friendly", "beautiful"]
NEG = ["bad", "terrible", "awful", "horrible", "boring", "disappointing", "dreadful", "poor", "mediocre",
       "unpleasant", "annoying", "useless", "lousy", "dull", "rude", "ugly", "painful", "bland", "messy", "weak"]
NEGATIONS = ["not", "never", "hardly", "not at all", "far from"]
NEG_VERB = {"was": "wasn't", "is": "isn't"}
INTENS = ["very", "really", "extremely", "incredibly", "truly", "so", "quite", "absolutely"]
SUBJECTS = ["the movie", "the restaurant", "the hotel room", "my new phone", "the concert", "the service",
            "the book", "our trip", "the café", "the coffee", "the staff", "the game", "the pizza", "the show",
            "the album", "the hotel", "the flight", "the museum", "the lecture", "the crêpe", "the soup",
            "the app", "the laptop", "the match", "the play", "the weather", "the tour", "the beach",
            "the garden", "the dinner", "the novel", "the hike", "the festival", "the exhibition", "the sequel",
            "the ride", "the menu", "the cake", "the update", "the film"]
DISTRACTORS = ["which we tried on Tuesday", "which my sister recommended", "that I visited last week",
               "which opened in June", "that we booked online", "which is near the station",
               "that I read about in the newspaper", "which my colleagues talked about"]
PREFIXES = ["Although it was raining,", "After a long day at work,", "On Saturday evening,",
            "To be honest,", "As far as I remember,", "According to my notes,", "In my opinion,",
            "Last summer,", "For what it's worth,", "Between you and me,"]
VERBS = ["was", "is", "seemed", "looked", "felt"]


def _cap(s):
    return s[0].upper() + s[1:]


def _style(word, rng):
    r = rng.random()
    if r < 0.1:
        return word.upper()
    if r < 0.15:
        return _cap(word)
    return word


def sample(rng):
    subj = rng.choice(SUBJECTS)
    pol = rng.random() < 0.5  # polarity of the cue word
    cue_word = _style(rng.choice(POS if pol else NEG), rng)
    negated = rng.random() < 0.4
    verb = rng.choice(VERBS)
    t = rng.randrange(8)
    if t in (1, 4, 6, 7):  # past-tense frames
        verb = rng.choice(["was", "seemed", "looked", "felt"])
    intens = rng.choice(INTENS) + " " if rng.random() < 0.3 else ""
    neg = ""
    verb_text = verb
    if negated:
        if verb in NEG_VERB and rng.random() < 0.3:
            verb_text = NEG_VERB[verb]
            neg = ""
        else:
            neg = rng.choice(NEGATIONS) + " "
            if neg.strip() not in ("not", "never"):
                intens = ""  # "hardly very good" is not English
    # the deciding phrase: "[negation] [intensifier] cue"
    phrase = f"{neg}{intens}{cue_word}"
    if negated and not neg:
        pred = f"{verb_text} {intens}{cue_word}"
        cue_text = pred  # "wasn't very good": the contraction is part of the cue
    else:
        pred = f"{verb_text} {phrase}"
        cue_text = phrase
    label = "positive" if pol != negated else "negative"
    s_subj = subj if rng.random() < 0.85 else subj.upper() if rng.random() < 0.3 else subj.title()
    if t == 0:
        text = f"{_cap(s_subj)} {pred}."
    elif t == 1:
        text = f"I thought {s_subj} {pred}."
    elif t == 2:
        text = f"{_cap(s_subj)}, {rng.choice(DISTRACTORS)}, {pred}."
    elif t == 3:
        text = f"{rng.choice(PREFIXES)} {s_subj} {pred}."
    elif t == 4:
        opp = rng.choice(NEG if (label == "positive") else POS)
        text = f"Everyone said it would be {opp}, but {s_subj} {pred}."
    elif t == 5:
        text = f"Honestly, {s_subj} {pred}, {rng.choice(PREFIXES[:3]).rstrip(',').lower()}."
    elif t == 6:
        text = f"We went there twice and {s_subj} {pred} both times."
    else:
        opp = rng.choice(NEG if (label == "positive") else POS)
        text = f"The reviews called it {opp}, yet {s_subj} {pred}."
    # the cue is the last occurrence of the deciding phrase (contrast clauses come first)
    start = text.rfind(cue_text)
    assert start >= 0
    return {"text": text, "label": label, "cue": {"start": start, "end": start + len(cue_text)},
            "key": (t, subj.lower(), cue_word.lower(), neg.strip(), verb_text, intens.strip())}


def heldout_and_train(seed, n_heldout):
    """Held-out = unseen combinations (template, subject, cue, negation, verb, intensifier)."""
    rng = random.Random(seed)
    held, keys, texts = [], set(), set()
    while len(held) < n_heldout:
        e = sample(rng)
        if e["key"] in keys:
            continue
        keys.add(e["key"])
        held.append(e)

    def train_sample(r):
        while True:
            e = sample(r)
            if e["key"] not in keys:
                return e

    return held, train_sample


def all_words():
    words = POS + NEG + NEGATIONS + INTENS + VERBS + list(NEG_VERB.values())
    for s in SUBJECTS + DISTRACTORS + PREFIXES:
        words += s.split()
    words += ("everyone said it would be but i thought honestly we went there twice and both times "
              "the reviews called yet").split()
    return words


if __name__ == "__main__":
    h, ts = heldout_and_train(7, 10)
    for e in h:
        print(e["label"], e["text"], "|", e["text"][e["cue"]["start"]:e["cue"]["end"]])

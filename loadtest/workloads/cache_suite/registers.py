"""Generated register variants (typos, openers) and the conversational glue, each list split by split.

The openers, chatter turns and accepting replies are hand-written like the templates and
divided between the splits, so no held-out pair reuses a phrase the tuning half has (the
single-turn `fresh` split has openers of its own and no chatter or replies). The typo
rule is an algorithm, not a template: it touches only lower-case words of five letters or more,
never digits, names or short words ("not", "am", "pm"), so it cannot change what is asked.
"""

import random

OPENERS = {
    "tune": ("hey quick q, {q}", "hi! {q}", "ok so {q}", "hello there, {q}", "sorry to bother you but {q}",
             "um, {q}", "question for you: {q}", "hey there - {q}"),
    "heldout": ("hiya, {q}", "good morning! {q}", "hi, hoping you can help: {q}", "so, random one: {q}",
                "hey, just wondering, {q}", "quick question - {q}", "excuse me, {q}", "hello hello, {q}"),
    "fresh": ("hey, got a sec? {q}", "yo, {q}", "can I ask something? {q}", "evening! {q}", "hi folks, {q}",
              "right, so {q}", "hi again, {q}", "thanks in advance - {q}"),
}

# (before the context, after it): a greeting exchange and an acknowledgement that add nothing.
CHATTER = {
    "tune": (
        ((("user", "hi"), ("assistant", "Hi! How can I help you today?")),
         (("user", "ok, got it, thanks"), ("assistant", "You're welcome! Anything else?"))),
        ((("user", "hey there"), ("assistant", "Hey! What can I do for you?")),
         (("user", "cool, makes sense"), ("assistant", "Great. Let me know what else you need."))),
        ((("user", "hello, are you there?"), ("assistant", "Yes, I'm here. How can I help?")),
         (("user", "thanks, that's useful"), ("assistant", "Happy to help. Any other questions?"))),
    ),
    "heldout": (
        ((("user", "hello, hope you're well"), ("assistant", "Hello! Doing well, thanks. What can I do for you?")),
         (("user", "great, that helps"), ("assistant", "Glad to hear it. What else would you like to know?"))),
        ((("user", "good afternoon"), ("assistant", "Good afternoon! How may I help?")),
         (("user", "alright, understood"), ("assistant", "Perfect. Is there anything more I can help with?"))),
        ((("user", "hi, I have a couple of questions"), ("assistant", "Sure, ask away.")),
         (("user", "ok perfect, thank you"), ("assistant", "Any time. What's your next question?"))),
    ),
}

# The user accepting the assistant's last offer.
REPLIES = {
    "tune": ("sure, go ahead", "yes, do that", "ok, sounds good"),
    "heldout": ("yes please", "yeah, that would be great", "please do"),
}


def with_opener(question: str, rng: random.Random, split: str) -> str:
    opener = rng.choice(OPENERS[split])
    return opener.format(q=question[0].lower() + question[1:])


def with_typos(question: str, rng: random.Random) -> str:
    """One or two slips of the keyboard: swapped neighbours or a dropped letter inside a long word."""
    words = question.split(" ")
    candidates = [i for i, w in enumerate(words) if _core(w).isalpha() and _core(w).islower() and len(_core(w)) >= 5]
    for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 2)))):
        w = _core(words[i])
        j = rng.randrange(1, len(w) - 2)  # never the first or last letter: the word stays recognisable
        swap = rng.random() < 0.6 and w[j] != w[j + 1]  # swapping "oo" would change nothing
        words[i] = (w[:j] + w[j + 1] + w[j] + w[j + 2:] if swap else w[:j] + w[j + 1:]) + words[i][len(w):]
    typed = " ".join(words)
    return typed.lower().rstrip("?") if rng.random() < 0.5 else typed


def _core(word: str) -> str:
    return word.rstrip("?.,!")

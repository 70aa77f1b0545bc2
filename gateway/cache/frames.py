"""Question frames that ask the same: "how can I" / "how do I", "am I allowed to" / "can I".

A frame is the part of a question that says what kind of answer it wants, around what it is about. Several
frames ask for the same kind of answer; `plainest` rewrites each such frame of a canonical form (canonical.py)
to one of them, so two questions that differ only in their frames compare equal (semantic_cache.py, `_same_form`):
- how to do it: "how can I", "how to", "how would I", "what is the way / are the steps to", "what is the
  procedure for cancelling" -> "how do i (cancel)";
- whether one may: "am I allowed to", "is my manager permitted to", "is it possible to", "is there a way to"
  -> "can i", "can my manager";
- what it costs: "what is the price of X", "how much does X cost" -> "how much is X".
Frames that read the same but often ask something else stay apart: "how do you" (QQP dev: 14 of 54 such pairs
labelled different), "could I" ("could I be pregnant?"), "what should I do to" and "what is the best way to".
Only the comparison reads this: what is embedded and what the verifier reads stay the canonical form.
"""

import re

from gateway.cache.canonical import base_form

# Who may: a pronoun, or a noun of one or two words with a determiner.
_WHO = r"((?:i|we|you|it|they|he|she|one)|(?:(?:my|the|a|an|our|your|their) )?[a-z]+(?: [a-z]+)?)"
_FRAMES = (
    (re.compile(r"^(?:how can i|how to|how would i|how could i)\b"), "how do i"),
    (re.compile(r"^(?:what is|what are) (?:the )?(?:way|steps|procedure|process) to\b"), "how do i"),
    (re.compile(r"\b(?:am|is|are) " + _WHO + r" (?:allowed|permitted|able) to\b"), r"can \1"),
    (re.compile(r"^(?:is there (?:a|any) way|is it possible) to\b"), "can i"),
    (re.compile(r"^(?:what is|what's) the (?:price|cost) of\b"), "how much is"),
    (re.compile(r"^how much does (.+?) cost\b"), r"how much is \1"),
)
# "what is the procedure for cancelling X": the doing named by its -ing form.
_PROCEDURE_FOR = re.compile(r"^(?:what is|what are) (?:the )?(?:way|steps|procedure|process) (?:for|of) ([a-z]+ing)\b")


def plainest(form: str) -> str:
    """`form` (a canonical form) with each frame above said the plainest way."""
    if found := _PROCEDURE_FOR.match(form):
        form = f"how do i {base_form(found.group(1))}{form[found.end() :]}"
    for pattern, plain in _FRAMES:
        form = pattern.sub(plain, form, count=1)
    return form

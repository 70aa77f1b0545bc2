"""Question and request frames: the many ways of opening one question, read as one.

"How can I", "what is the way to", "is there a way to", "tell me how to" and "what are the steps to" all ask
for a procedure, and "can you explain" or "I'd like to know" only ask politely. The words of a frame say how
something is asked, never what, yet they move the embedding and the verifier's word overlap as much as a
content word. `normalise_frames` rewrites a frame at the start of a canonical form (lower case, contractions
expanded, greetings gone: gateway/cache/canonical.py) to one representative, and drops a standalone
"please" or "kindly" anywhere. Rules of general English, never read off evaluation rows; third persons ("how
do they", "how can she") keep their subject, since they ask about someone else, and so does "you" asked for
an opinion ("how do you feel about").
"""

import re

HOW_DO_I = "how do i "
_PROCEDURE = (
    r"how\s+(?:can|could|would|should|might|do|does|shall)\s+(?:i|one|we|you(?!\s+(?:feel|think|know|like|mean|rate)\b))"
    r"|how\s+am\s+i\s+supposed\s+to"
    r"|how\s+to|what\s+is\s+the\s+(?:way|process|procedure|method)\s+(?:to|for\s+me\s+to)"
    r"|what\s+are\s+the\s+steps\s+(?:to|for\s+me\s+to)"
    r"|what\s+steps\s+(?:do|should|must)\s+i\s+(?:need\s+to\s+)?(?:take|follow)\s+to"
    r"|what\s+steps\s+are\s+(?:needed|required|involved)\s+to|what\s+do\s+i\s+(?:need\s+to\s+|have\s+to\s+)?do\s+to"
    r"|is\s+there\s+(?:a|any)\s+way\s+(?:for\s+me\s+)?to"
)
# What may stand in front of a procedure question and asks nothing itself: "tell me how to", "I want to know
# how to", "explain how to", "show me how to".
_ASKING = (
    r"(?:(?:please\s+)?(?:tell|show|teach)\s+me|(?:please\s+)?explain|i\s+(?:want|need|would\s+like)\s+to\s+(?:know|learn)"
    r"|i\s+wonder|i\s+am\s+(?:not\s+sure|unsure)|(?:any|no)\s+idea)\s+"
)
_FRAME = re.compile(rf"^(?:{_ASKING})?(?:{_PROCEDURE})\s+")
# A polite request for an answer: "can you explain", "could you give me". What
# follows is the request itself; the verb list keeps "can you freeze cooked rice" (a question about the world,
# "you" meaning anyone) as it is.
_REQUEST = re.compile(
    r"^(?:(?:can|could|would|will)\s+you\s+(?:please\s+|kindly\s+)?|i\s+would\s+like\s+you\s+to\s+"
    r"|i\s+(?:would\s+like|want|need)\s+(?:some\s+)?help\s+(?:with\s+|to\s+)?|(?:please\s+)?help\s+me\s+(?:to\s+)?)"
    r"(?=(?:give|show|list|recommend|suggest|describe|summari[sz]e|explain|calculate|convert|translate|compare|find"
    r"|check|confirm|define|outline|walk\s+me)\b)"
)
_POLITE = re.compile(r"(?<!\w)(?:please|kindly)\s+")


def normalise_frames(form: str) -> str:
    """`form` (a canonical form, lower case) with its frame rewritten: a procedure question begins "how do i",
    a polite request begins with what it asks, and no "please" is left standing alone."""
    form = _POLITE.sub("", form)
    form = _REQUEST.sub("", form, count=1)
    return _FRAME.sub(HOW_DO_I, form, count=1)

"""Rewrites of a question that keep or change what it asks: the cross-encoder's generated training pairs.

QQP has few of the near misses a cache meets (the same words with the roles swapped, 9 am for 9 pm,
an antonym), and few of the harmless changes (a greeting, a typo, a synonym). Each rewrite here takes
one question and returns another, or None where it does not apply; `TRAPS` change the answer (label
0), `SAME` keep it (label 1). The word lists are short and written here, on purpose: what the model
must learn is that such a change matters, not a dictionary.
"""

import random
import re
from collections.abc import Callable

Rewrite = Callable[[str, random.Random], str | None]

ANTONYMS = [
    ("good", "bad"),
    ("best", "worst"),
    ("better", "worse"),
    ("increase", "decrease"),
    ("buy", "sell"),
    ("open", "close"),
    ("hot", "cold"),
    ("cheap", "expensive"),
    ("easy", "hard"),
    ("fast", "slow"),
    ("more", "less"),
    ("win", "lose"),
    ("love", "hate"),
    ("start", "stop"),
    ("high", "low"),
    ("higher", "lower"),
    ("rich", "poor"),
    ("safe", "dangerous"),
    ("healthy", "unhealthy"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("true", "false"),
    ("old", "new"),
    ("young", "old"),
    ("big", "small"),
    ("early", "late"),
    ("upload", "download"),
    ("import", "export"),
    ("gain", "lose"),
    ("add", "remove"),
    ("enable", "disable"),
    ("accept", "reject"),
    ("allow", "forbid"),
    ("arrive", "depart"),
    ("pros", "cons"),
    ("advantages", "disadvantages"),
    ("benefits", "risks"),
    ("strong", "weak"),
    ("heavy", "light"),
    ("happy", "sad"),
    ("success", "failure"),
    ("maximum", "minimum"),
    ("max", "min"),
    ("positive", "negative"),
    ("internal", "external"),
    ("public", "private"),
    ("input", "output"),
    ("deposit", "withdraw"),
    ("borrow", "lend"),
    ("inhale", "exhale"),
    ("attack", "defend"),
    ("friend", "enemy"),
    ("left", "right"),
    ("north", "south"),
    ("east", "west"),
    ("up", "down"),
    ("men", "women"),
    ("boys", "girls"),
    ("male", "female"),
    ("rise", "fall"),
    ("push", "pull"),
    ("first", "last"),
    ("upgrade", "downgrade"),
    ("subscribe", "unsubscribe"),
    ("lock", "unlock"),
    ("encrypt", "decrypt"),
    ("install", "uninstall"),
    ("connect", "disconnect"),
    ("like", "dislike"),
    ("agree", "disagree"),
    ("wet", "dry"),
    ("raw", "cooked"),
    ("sweet", "sour"),
    ("inside", "outside"),
]
SCOPE = [
    ("all", "some"),
    ("always", "sometimes"),
    ("before", "after"),
    ("including", "excluding"),
    ("included", "excluded"),
    ("with", "without"),
    ("within", "after"),
    ("everyone", "someone"),
    ("every", "any"),
    ("most", "least"),
    ("more than", "less than"),
    ("at least", "at most"),
    ("only", "also"),
    ("during", "after"),
    ("domestic", "international"),
    ("weekdays", "weekends"),
]
SYNONYMS = [
    ("buy", "purchase"),
    ("big", "large"),
    ("fast", "quick"),
    ("begin", "start"),
    ("help", "assist"),
    ("car", "automobile"),
    ("movie", "film"),
    ("doctor", "physician"),
    ("job", "position"),
    ("shop", "store"),
    ("phone", "mobile"),
    ("cheap", "inexpensive"),
    ("fix", "repair"),
    ("make", "create"),
    ("need", "require"),
    ("show", "display"),
    ("choose", "pick"),
    ("learn", "study"),
    ("small", "little"),
    ("answer", "reply"),
    ("mistake", "error"),
    ("quickly", "fast"),
    ("easily", "without trouble"),
    ("book", "reserve"),
    ("cancel", "call off"),
    ("refund", "money back"),
    ("best way", "easiest way"),
    ("tell me", "let me know"),
    ("explain", "describe"),
    ("use", "utilise"),
    ("trip", "journey"),
]
ENTITIES = [
    [
        "India",
        "China",
        "Pakistan",
        "Canada",
        "Germany",
        "France",
        "Japan",
        "Brazil",
        "Australia",
        "Mexico",
        "Italy",
        "Spain",
        "Russia",
        "Nigeria",
        "Kenya",
        "Egypt",
        "Sweden",
        "Norway",
        "Poland",
        "Turkey",
    ],
    [
        "London",
        "Paris",
        "Rome",
        "Berlin",
        "Madrid",
        "Tokyo",
        "Delhi",
        "Mumbai",
        "Boston",
        "Chicago",
        "Toronto",
        "Sydney",
        "Dubai",
        "Lisbon",
        "Vienna",
        "Prague",
        "Seattle",
        "Denver",
        "Dublin",
        "Oslo",
    ],
    [
        "Apple",
        "Samsung",
        "Google",
        "Microsoft",
        "Amazon",
        "Netflix",
        "Spotify",
        "Sony",
        "Nike",
        "Adidas",
        "Toyota",
        "Honda",
        "Tesla",
        "Ford",
        "IKEA",
        "Uber",
        "Visa",
        "PayPal",
        "Dell",
        "Lenovo",
    ],
    ["Trump", "Obama", "Clinton", "Modi", "Putin", "Merkel", "Einstein", "Newton", "Gandhi", "Lincoln"],
    ["Python", "Java", "JavaScript", "Ruby", "Rust", "Go", "Kotlin", "Swift", "PHP", "Scala"],
    ["iPhone", "Android", "Windows", "Linux", "macOS", "Chrome", "Firefox", "Excel", "Photoshop", "WhatsApp"],
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
UNITS = [
    ("km", "miles"),
    ("kg", "pounds"),
    ("kg", "lb"),
    ("celsius", "fahrenheit"),
    ("meters", "feet"),
    ("liters", "gallons"),
    ("cm", "inches"),
    ("minutes", "hours"),
    ("hours", "days"),
    ("days", "weeks"),
    ("weeks", "months"),
    ("months", "years"),
    ("GB", "MB"),
    ("grams", "ounces"),
    ("mph", "km/h"),
]
CURRENCIES = [
    ("dollars", "euros"),
    ("USD", "EUR"),
    ("USD", "GBP"),
    ("$", "€"),
    ("$", "£"),
    ("rupees", "dollars"),
    ("pounds", "dollars"),
    ("EUR", "JPY"),
    ("bitcoin", "ethereum"),
]
GREETINGS = [
    "Hi! ",
    "Hello, ",
    "Hey there, quick question: ",
    "Hi, I was wondering: ",
    "Good morning! ",
    "Hey, ",
    "Quick question: ",
    "Sorry to bother you, but ",
    "Can you help? ",
    "Hello there. ",
]
CLOSINGS = [
    " Thanks!",
    " Thank you.",
    " Thanks in advance.",
    " Any help appreciated.",
    " Cheers!",
    " pls",
    " thx",
    " Much appreciated!",
]
AUXILIARIES = [
    "is",
    "are",
    "was",
    "were",
    "can",
    "could",
    "should",
    "would",
    "will",
    "do",
    "does",
    "did",
    "has",
    "have",
    "must",
]
_NEGATED = {
    "isn't": "is",
    "aren't": "are",
    "wasn't": "was",
    "weren't": "were",
    "can't": "can",
    "couldn't": "could",
    "shouldn't": "should",
    "wouldn't": "would",
    "won't": "will",
    "don't": "do",
    "doesn't": "does",
    "didn't": "did",
    "hasn't": "has",
    "haven't": "have",
    "not ": "",
    "never ": "",
}


def _swap_word(text: str, pairs: list[tuple[str, str]], rng: random.Random) -> str | None:
    """Replace one listed word (either side of a pair, whole word, case kept) with its partner."""
    options = []
    for x, y in pairs:
        for old, new in ((x, y), (y, x)):
            for m in re.finditer(rf"(?<![\w$€£]){re.escape(old)}(?!\w)", text, flags=re.IGNORECASE):
                options.append((m.start(), m.end(), new))
    if not options:
        return None
    start, end, new = rng.choice(options)
    found = text[start:end]
    new = new.capitalize() if found[:1].isupper() and found[1:2].islower() else new
    return text[:start] + new + text[end:]


def negate(text: str, rng: random.Random) -> str | None:
    """Take a negation away where there is one; else negate the verb after its subject ("should I not
    stop", "does it not work"), or contract a leading auxiliary ("Isn't it", "Can't I")."""
    for negated, plain in _NEGATED.items():
        m = re.search(rf"\b{re.escape(negated)}", text, flags=re.IGNORECASE)
        if m:
            return text[: m.start()] + plain + text[m.end() :]
    auxiliaries = "|".join(AUXILIARIES)
    m = re.search(rf"\b(?:{auxiliaries})\s+(I|you|we|they|he|she|it|(?:my|the|your|this) \w+)\b", text, re.IGNORECASE)
    if m:
        return text[: m.end(1)] + " not" + text[m.end(1) :]
    m = re.match(rf"\s*({auxiliaries})\b", text, flags=re.IGNORECASE)
    if m and m.group(1).lower() != "will":
        return text[: m.end(1)] + "n't" + text[m.end(1) :]
    m = re.search(rf"\b(?:{auxiliaries})\b", text, flags=re.IGNORECASE)
    return text[: m.end()] + " not" + text[m.end() :] if m else None


def antonym(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, ANTONYMS, rng)


def scope(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, SCOPE, rng)


def direction(text: str, rng: random.Random) -> str | None:
    """Swap the two sides of "from A to B", "A better than B", "convert A to B", "A beat B"."""
    for pattern in (
        (
            r"\bfrom ([\w$€£ .'-]{1,40}?) to ([\w$€£ .'-]{1,40}?)(?=\s+(?:on|in|at|for|by|before|after|"
            r"during|with|without|via|today|tomorrow|tonight)\b|[?.!,]|$)"
        ),
        r"\b([\w'-]+) (?:better|worse|bigger|smaller|faster|slower|cheaper|safer|older) than ([\w'-]+)",
        r"\bconvert ([\w$€£'-]+) (?:to|into) ([\w$€£'-]+)",
        (
            r"\b([A-Z][\w'-]+) (?:beat|beats|defeat|defeated|invade|invaded|sue|sued|hire|hired|owe|owes) "
            r"([A-Z][\w'-]+)"
        ),
    ):
        m = re.search(pattern, text)
        if m and m.group(1).lower() != m.group(2).lower():
            a, b = m.span(1), m.span(2)
            return text[: a[0]] + text[b[0] : b[1]] + text[a[1] : b[0]] + text[a[0] : a[1]] + text[b[1] :]
    return None


def entity(text: str, rng: random.Random) -> str | None:
    for group in rng.sample(ENTITIES, len(ENTITIES)):
        present = [e for e in group if re.search(rf"(?<!\w){re.escape(e)}(?!\w)", text)]
        if present:
            old = rng.choice(present)
            new = rng.choice([e for e in group if e != old])
            return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, text, count=1)
    return None


def number(text: str, rng: random.Random) -> str | None:
    found = list(re.finditer(r"(?<![\w.])\d+(?:\.\d+)?", text))
    if not found:
        return None
    m = rng.choice(found)
    value = float(m.group())
    if 1900 <= value <= 2100:  # a year
        new = str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3]))
    else:
        whole = int(value)
        new = str(rng.choice([whole + rng.randint(1, 9), whole * rng.choice([2, 10]), max(0, whole - 1)]))
        new = new if new != m.group() else str(int(value) + 1)
    return text[: m.start()] + new + text[m.end() :]


def date(text: str, rng: random.Random) -> str | None:
    for names in (MONTHS, WEEKDAYS):
        present = [n for n in names if re.search(rf"\b{n}\b", text, flags=re.IGNORECASE) and n != "May"]
        if present:
            old = rng.choice(present)
            return re.sub(rf"\b{old}\b", rng.choice([n for n in names if n != old]), text, count=1, flags=re.IGNORECASE)
    return None


def time_of_day(text: str, rng: random.Random) -> str | None:
    m = re.search(r"\b(\d{1,2})(:\d\d)?\s?([ap])\.?m\.?\b", text, flags=re.IGNORECASE)
    if m:
        flipped = "pm" if m.group(3).lower() == "a" else "am"
        return text[: m.start(3)] + flipped + text[m.end() :]
    m = re.search(r"\b([01]?\d|2[0-3]):([0-5]\d)\b", text)
    if m:
        hour = (int(m.group(1)) + rng.choice([2, 3, 12])) % 24
        return text[: m.start()] + f"{hour:02d}:{m.group(2)}" + text[m.end() :]
    return None


def unit(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, UNITS, rng)


def currency(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, CURRENCIES, rng)


def greeting(text: str, rng: random.Random) -> str | None:
    first = text[:1].lower() + text[1:] if not text[:2].isupper() else text
    return rng.choice(GREETINGS) + first + (rng.choice(CLOSINGS) if rng.random() < 0.4 else "")


def casual(text: str, rng: random.Random) -> str | None:
    out = text.lower().rstrip("?.! ")
    for formal, informal in (
        (" you ", " u "),
        (" please", " pls"),
        ("what is", "what's"),
        ("do not", "don't"),
        (" are ", " r "),
        ("going to", "gonna"),
        ("want to", "wanna"),
    ):
        if rng.random() < 0.5:
            out = out.replace(formal, informal)
    out += rng.choice(["", "?", "??", " lol", " tho"])
    return out if out != text else None


def typo(text: str, rng: random.Random) -> str | None:
    long_words = list(re.finditer(r"[A-Za-z]{5,}", text))
    if not long_words:
        return None
    for m in rng.sample(long_words, min(len(long_words), rng.choice([1, 1, 2]))):
        w, i = m.group(), rng.randrange(1, len(m.group()) - 2)
        broken = rng.choice([w[:i] + w[i + 1] + w[i] + w[i + 2 :], w[:i] + w[i + 1 :], w[:i] + w[i] + w[i:]])
        text = text[: m.start()] + broken + text[m.end() :]
    return text


def synonym(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, SYNONYMS, rng)


def reorder(text: str, rng: random.Random) -> str | None:
    """Move a trailing "in/on/for/at X" phrase to the front: "What to see in Rome?" -> "In Rome, what to see?"."""
    m = re.search(r"^(.*\w)\s+((?:in|on|for|at|during) [\w' -]{2,30}?)\s*\?$", text)
    if not m or len(m.group(1).split()) < 3:
        return None
    head = m.group(1)
    return f"{m.group(2)[0].upper()}{m.group(2)[1:]}, {head[0].lower()}{head[1:]}?"


TRAPS: dict[str, Rewrite] = {
    "negation": negate,
    "antonym": antonym,
    "scope": scope,
    "direction": direction,
    "entity": entity,
    "number": number,
    "date": date,
    "time": time_of_day,
    "unit": unit,
    "currency": currency,
}
SAME: dict[str, Rewrite] = {
    "greeting": greeting,
    "casual": casual,
    "typo": typo,
    "synonym": synonym,
    "reorder": reorder,
}


def with_detail(text: str, rng: random.Random) -> tuple[str, str] | None:
    """The question with a detail a trap can change (a time, a route, an amount, a day, a quantity) put
    before its question mark, and the trap kind for it; None for a question that does not end in "?".
    Few questions state such details, and the model must see many of them changed."""
    if not text.rstrip().endswith("?"):
        return None
    cities = ENTITIES[1]
    kind = rng.choice(["time", "direction", "currency", "date", "unit", "number"])
    if kind == "time":
        detail = rng.choice(
            [
                f" at {rng.randint(1, 12)} {rng.choice(['am', 'pm'])}",
                f" at {rng.randint(0, 23):02d}:{rng.choice(['00', '15', '30', '45'])}",
                f" by {rng.randint(1, 12)}{rng.choice(['am', 'pm'])}",
            ]
        )
    elif kind == "direction":
        a, b = rng.sample(cities, 2)
        detail = f" from {a} to {b}"
    elif kind == "currency":
        x, _ = rng.choice(CURRENCIES)
        amount = rng.choice([10, 20, 50, 100, 250, 500, 1000])
        detail = f" for {x}{amount}" if x in "$€£" else f" for {amount} {x}"
    elif kind == "date":
        detail = rng.choice(
            [
                f" on {rng.choice(WEEKDAYS)}",
                f" in {rng.choice(MONTHS[:4] + MONTHS[5:])}",
                f" on {rng.choice(MONTHS[5:])} {rng.randint(1, 28)}",
            ]
        )
    elif kind == "unit":
        x, _ = rng.choice(UNITS)
        detail = f" for {rng.randint(2, 30)} {x}"
    else:
        detail = f" for {rng.randint(2, 12)} people"
    stem = text.rstrip()[:-1].rstrip()
    return f"{stem}{detail}?", kind

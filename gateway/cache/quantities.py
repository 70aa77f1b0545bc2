"""Numbers, times of day and units: the quantities a question pins down, for the guards.

"7 am" and "7 pm" share their number, "19:00" and "7 pm" share none, and "10 miles" and "10 km"
differ only in the unit, so times and units are read apart from bare numbers: a time's digits are
not numbers of their own, and a unit is compared with the other question's units of the same
dimension (length, currency, ...). Every regex here is linear on any input (bounded repeats, or a
single character class repeated): user text up to the message limit passes through it.
"""

import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from gateway.cache.text import STOPWORDS, words

NUMBER_WORDS = {
    "zero": "0",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
    "billion": "1000000000",
    "first": "1",
    "second": "2",
    "third": "3",
    "half": "0.5",
    "dozen": "12",
    # Not "couple": "a couple of questions" is chatter; read as a number it made a conversation's small talk a
    # detail its context check refused to match. "earliest" is "first" only before what it counts (_numbers).
    "twice": "2",
    "double": "2",
    "triple": "3",
}  # "one" is left out: "which one is better?" states no quantity.
# Ordinals fused into an adjective that counts nothing ("a first-time buyer", "second-hand smoke").
_COUNTING_NOTHING = re.compile(r"\b(?:first-time|first-timers?|second-hand)\b", re.IGNORECASE)
_NOT_COUNTED_EARLIEST = frozenset({"convenience", "possible", "opportunity", "moment"})
_EVERY_PERIOD = re.compile(r"\bevery (other |second )?(hour|day|night|week|month|year)\b", re.IGNORECASE)
_PER_PERIOD = {
    "hour": "hourly",
    "day": "daily",
    "night": "daily",
    "week": "weekly",
    "month": "monthly",
    "year": "annual",
}
_DIGITS = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th|k\b)?", re.IGNORECASE)
# "7 pm", "7:30 p.m.", "7am", "7 o'clock"; and 24-hour "19:00". Bounded repeats only.
_CLOCK = re.compile(r"(?<![\d:.])(\d{1,2})(?::(\d{2}))? ?(a\.?m\b\.?|p\.?m\b\.?|o['’]clock)", re.IGNORECASE)  # noqa: RUF001 the typographic apostrophe of o'clock is meant
_TWENTY_FOUR = re.compile(r"(?<![\d:.])(\d{1,2}):(\d{2})(?![\d:])")
_NAMED_TIMES = {"noon": 720, "midday": 720, "midnight": 0}
_DAY = 24 * 60

# unit word -> (dimension, canonical unit). A word in two dimensions ("pound": money or weight) is both.
_UNITS: dict[str, tuple[tuple[str, str], ...]] = {}
_ATTACHED_ONLY: set[str] = set()  # read as a unit only right after a number ("5 m", "30 days")


def _define(dimension: str, canonical: str, spellings: tuple[str, ...], attached: bool) -> None:
    """`attached`: the unit's words are common in other senses ("days", "cups"); they, and every spelling of
    one or two letters ("m", "c"), count only right after a number. Other unit names count anywhere."""
    for spelling in (canonical, *spellings):
        _UNITS[spelling] = (*_UNITS.get(spelling, ()), (dimension, canonical))
        if attached or len(spelling) <= 2:
            _ATTACHED_ONLY.add(spelling)


for _dimension, _canonical, _spellings, _attached in [
    ("length", "km", ("kms", "kilometer", "kilometers", "kilometre", "kilometres"), False),
    ("length", "mile", ("miles", "mi"), False),
    ("length", "meter", ("meters", "metre", "metres", "m"), True),
    ("length", "cm", ("centimeter", "centimeters", "centimetre", "centimetres"), False),
    ("length", "mm", ("millimeter", "millimeters", "millimetre", "millimetres"), False),
    ("length", "inch", ("inches",), False),
    ("length", "foot", ("feet", "ft"), False),
    ("length", "yard", ("yards", "yd", "yds"), False),
    ("mass", "kg", ("kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"), False),
    ("mass", "gram", ("grams", "gramme", "grammes", "g"), True),
    ("mass", "pound", ("pounds", "lb", "lbs"), False),
    ("mass", "ounce", ("ounces", "oz"), False),
    ("mass", "stone", ("stones",), True),
    ("mass", "ton", ("tons", "tonne", "tonnes"), False),
    ("volume", "liter", ("liters", "litre", "litres", "l"), True),
    ("volume", "ml", ("milliliter", "milliliters", "millilitre", "millilitres"), False),
    ("volume", "gallon", ("gallons", "gal"), False),
    ("volume", "cup", ("cups",), True),
    ("volume", "pint", ("pints",), False),
    ("volume", "quart", ("quarts", "qt"), False),
    ("volume", "tablespoon", ("tablespoons", "tbsp"), False),
    ("volume", "teaspoon", ("teaspoons", "tsp"), False),
    ("area", "acre", ("acres",), False),
    ("area", "square-foot", ("sqft", "ft2", "ft²"), False),
    ("area", "square-meter", ("sqm", "m2", "m²"), False),
    ("area", "hectare", ("hectares", "ha"), False),
    ("temperature", "celsius", ("centigrade", "c"), False),
    ("temperature", "fahrenheit", ("f",), False),
    ("speed", "mph", (), False),
    ("speed", "kph", ("kmh", "kmph"), False),
    ("data", "gb", ("gigabyte", "gigabytes"), False),
    ("data", "mb", ("megabyte", "megabytes"), False),
    ("data", "tb", ("terabyte", "terabytes"), False),
    ("data", "kb", ("kilobyte", "kilobytes"), False),
    ("currency", "dollar", ("dollars", "usd", "buck", "bucks", "$"), False),
    ("currency", "euro", ("euros", "eur", "€"), False),
    ("currency", "pound", ("pounds", "gbp", "sterling", "£"), False),
    ("currency", "yen", ("jpy", "¥"), False),
    ("currency", "rupee", ("rupees", "inr", "rs", "₹"), False),
    ("currency", "franc", ("francs", "chf"), False),
    ("currency", "peso", ("pesos",), False),
    ("duration", "second", ("seconds", "sec", "secs"), True),
    ("duration", "minute", ("minutes", "min", "mins"), True),
    ("duration", "hour", ("hours", "hr", "hrs"), True),
    ("duration", "day", ("days",), True),
    ("duration", "week", ("weeks",), True),
    ("duration", "month", ("months",), True),
    ("duration", "year", ("years", "yr", "yrs"), True),
    # How often: "a monthly fee" / "an annual fee". "every day" reads as "daily", "every other day" as its own.
    ("frequency", "hourly", (), False),
    ("frequency", "daily", ("nightly",), False),
    ("frequency", "weekly", (), False),
    ("frequency", "biweekly", ("fortnightly",), False),
    ("frequency", "monthly", (), False),
    ("frequency", "quarterly", (), False),
    ("frequency", "annual", ("annually", "yearly"), False),
]:
    _define(_dimension, _canonical, _spellings, _attached)
# "square" / "cubic" before a length: an area or a volume of its own ("100 square meters" is no "100 square feet").
_POWERS = {
    "square": ("area", "square"),
    "sq": ("area", "square"),
    "cubic": ("volume", "cubic"),
    "cu": ("volume", "cubic"),
}
# An amount of time: a number (digits or a word, "one" and "half" among them, never "second" or "first") and its unit.
_IN_SECONDS = {"sec": 1, "second": 1, "min": 60, "minute": 60, "hr": 3600, "hour": 3600, "day": 86400, "week": 604800}
_IN_MONTHS = {"month": 1, "yr": 12, "year": 12}  # a month is no fixed number of days: calendar time apart
_DURATION_AMOUNTS = {
    **{w: v for w, v in NUMBER_WORDS.items() if w not in ("first", "second", "third", "twice", "double", "triple")},
    "one": "1",
}
_DURATION = re.compile(
    r"(?<![\w.,])(\d[\d,]{0,12}(?:\.\d{1,6})?|" + "|".join(sorted(_DURATION_AMOUNTS, key=len, reverse=True)) + r")"
    r"[ -]?(secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|yrs?|years?)\b",
    re.IGNORECASE,
)
_SYMBOLS = "$€£¥₹"
UNIT_WORDS = frozenset(_UNITS)  # for the substitution guard to leave units to this one
ATTACHED_UNIT_WORDS = frozenset(_ATTACHED_ONLY)


@dataclass(frozen=True)
class Quantities:
    numbers: frozenset[str]
    times: tuple[frozenset[int], ...]  # each time of day as the minutes after midnight it may mean
    units: frozenset[tuple[str, str]]  # (dimension, canonical unit)
    amounts: frozenset[str]  # the numbers with each amount of time as one ("12 mo", "21600 s"): quantities_differ
    amount_units: frozenset[tuple[str, str]]  # the units beside them (time as ("duration", "s" or "mo"))


def read_quantities(text: str, tokens: list[str]) -> Quantities:
    """`tokens`: text.words(text)."""
    times, rest = _times(text, tokens)
    numbers, units = _numbers(rest, tokens), _units(text, tokens)
    durations, without = _durations(rest)
    if not durations:
        return Quantities(frozenset(numbers), times, frozenset(units), frozenset(numbers), frozenset(units))
    # The same question with each amount of time read as one quantity: numbers and units apart from them.
    plain = words(without)
    amounts = _numbers(without, plain) + durations
    amount_units = [u for u in _units(without, plain) if u[0] != "duration"] + [
        ("duration", d.split()[1]) for d in durations
    ]
    return Quantities(frozenset(numbers), times, frozenset(units), frozenset(amounts), frozenset(amount_units))


class Pinned(Protocol):
    """What quantities_differ reads: a question's Quantities, or the guards' Facts that carry them."""

    @property
    def numbers(self) -> frozenset[str]: ...

    @property
    def units(self) -> frozenset[tuple[str, str]]: ...

    @property
    def amounts(self) -> frozenset[str]: ...

    @property
    def amount_units(self) -> frozenset[tuple[str, str]]: ...


def quantities_differ(query: Pinned, cached: Pinned, numbers: bool, units: bool) -> str | None:
    """ "numbers" or "units" when the two questions pin different ones down (each guard only when switched on),
    read as written or with their amounts of time converted ("twelve months" / "one year", "360 minutes" / "6
    hours"): a pair the conversion reconciles passes, and it vetoes nothing the plain reading lets by."""
    if numbers and query.numbers != cached.numbers:
        found = "numbers"
    elif units and units_differ(query.units, cached.units):
        found = "units"
    else:
        return None
    reconciled = (not numbers or query.amounts == cached.amounts) and (
        not units or not units_differ(query.amount_units, cached.amount_units)
    )
    return None if reconciled else found


def times_differ(query: tuple[frozenset[int], ...], cached: tuple[frozenset[int], ...]) -> bool:
    """Whether the times of day cannot be the same ones: "7 pm" = "19:00"; "7:00" is 7 am (24-hour writing)."""
    if len(query) != len(cached):
        return True
    left = Counter(cached)
    for readings in sorted(query, key=len):  # the unambiguous ones first
        # The cached times that can mean one of these readings: a handful of keys, not a scan (linear).
        meeting = [readings] + [
            frozenset(pair) for v in readings for pair in ({v}, {v, (v + 720) % _DAY}, {v, (v - 720) % _DAY})
        ]
        key = next((k for k in meeting if left[k] > 0), None)
        if key is None:
            return True
        left[key] -= 1
    return False


def units_differ(query: frozenset[tuple[str, str]], cached: frozenset[tuple[str, str]]) -> bool:
    """A dimension both questions name in different units ("miles" / "km"); a unit named by one
    question only ("$100" / "100") is a missing detail, not a contradiction."""
    for dimension in {d for d, _ in query} & {d for d, _ in cached}:
        if {u for d, u in query if d == dimension} != {u for d, u in cached if d == dimension}:
            return True
    return False


def _times(text: str, tokens: list[str]) -> tuple[tuple[frozenset[int], ...], str]:
    """The times of day in `text`, and `text` with them blanked out (their digits are no numbers)."""
    found: list[frozenset[int]] = []
    spans: list[tuple[int, int]] = []
    for match in _CLOCK.finditer(text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        marker = match.group(3).lower()
        if (hour > 12 and marker != "o'clock") or minute >= 60:
            continue
        if marker[0] == "a":
            readings = {(hour % 12) * 60 + minute}
        elif marker[0] == "p":
            readings = {(hour % 12) * 60 + 720 + minute}
        else:
            readings = {(hour % 12) * 60 + minute, (hour % 12) * 60 + 720 + minute}
        found.append(frozenset(readings))
        spans.append(match.span())
    clock_starts = {start for start, _ in spans}  # "7:30 pm" was read above; both patterns start at its hour
    for match in _TWENTY_FOUR.finditer(text):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 24 or minute >= 60 or match.start() in clock_starts:
            continue
        # Hours and minutes with no am/pm are the 24-hour clock's: "10:00" is 10 am, not "10 pm".
        found.append(frozenset({(hour * 60 + minute) % _DAY}))
        spans.append(match.span())
    found += [frozenset({_NAMED_TIMES[t]}) for t in tokens if t in _NAMED_TIMES]
    if not spans:
        return tuple(found), text
    pieces, last = [], 0
    for start, end in sorted(spans):
        pieces += [text[last:start], " " * (end - start)]
        last = end
    pieces.append(text[last:])
    return tuple(found), "".join(pieces)


def _durations(text: str) -> tuple[list[str], str]:
    """Each number of seconds, minutes, ... weeks as seconds and of months or years as months ("a 360-minute
    audiobook" is a 6-hour one, "over twelve months" is "over one year"), and `text` with them blanked out."""
    found: list[str] = []

    def blank(match: re.Match[str]) -> str:
        amount = match.group(1).lower().replace(",", "")
        value = float(_DURATION_AMOUNTS.get(amount, amount))
        unit = match.group(2).lower().removesuffix("s")
        factor, scale = (_IN_SECONDS[unit], "s") if unit in _IN_SECONDS else (_IN_MONTHS[unit], "mo")
        amount = f"{value * factor:.6f}".rstrip("0").rstrip(".")
        found.append(f"{amount} {scale}")
        return " " * len(match.group(0))

    return found, _DURATION.sub(blank, text)


def _numbers(text: str, tokens: list[str]) -> list[str]:
    found = []
    for match in _DIGITS.finditer(text):
        value = match.group(1).rstrip(",.").replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        if match.group(0).lower().endswith("k"):
            value = str(int(float(value) * 1000))
        found.append(value)
    if _COUNTING_NOTHING.search(text):  # "a first-time homeowner" is no first of anything
        tokens = words(_COUNTING_NOTHING.sub(" ", text))
    found.extend(NUMBER_WORDS[t] for t in tokens if t in NUMBER_WORDS)
    found.extend("1" for i, t in enumerate(tokens) if t == "earliest" and _earliest_of(tokens[i + 1 : i + 2]))
    return found


def _earliest_of(following: list[str]) -> bool:
    """ "the earliest flight" is the first one; "at your earliest convenience" and "the earliest I can" count
    nothing."""
    return bool(following) and following[0] not in STOPWORDS and following[0] not in _NOT_COUNTED_EARLIEST


def _every(other: str | None, period: str) -> str:
    """ "every day" is daily; "every other day" is not."""
    return f"every-other-{period}" if other else _PER_PERIOD[period]


def _units(text: str, tokens: list[str]) -> list[tuple[str, str]]:
    found = [unit for symbol in _SYMBOLS if symbol in text for unit in _UNITS[symbol]]
    if "every" in tokens:
        found += [("frequency", _every(m.group(1), m.group(2).lower())) for m in _EVERY_PERIOD.finditer(text)]
    after_number = False
    for i, token in enumerate(tokens):
        if token in _POWERS:  # "100 square meters": the number still reaches the unit
            continue
        power = _POWERS.get(tokens[i - 1]) if i else None
        lengths = [c for d, c in _UNITS.get(token, ()) if d == "length"]
        if power and lengths:  # "a cubic meter": the power word says it is the unit, number or not
            found.append((power[0], f"{power[1]}-{lengths[0]}"))
            after_number = False
            continue
        if token[0].isdigit():
            glued = token.lstrip("0123456789")  # "100g", "5km"
            if glued in _UNITS:
                found.extend(_UNITS[glued])
            after_number = True
            continue
        if token in _UNITS and (after_number or token not in _ATTACHED_ONLY):
            found.extend(_UNITS[token])
        after_number = token in NUMBER_WORDS
    return found

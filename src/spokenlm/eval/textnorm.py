"""Text normalisation for WER/CER: lowercase, numbers spelled out, punctuation removed.

    >>> normalize("Dr. Smith paid $3.50 on the 2nd of May, 1999!")
    'dr smith paid three dollars fifty cents on the second of may nineteen ninety nine'

Both references and ASR hypotheses go through :func:`normalize`, so
"twenty-one" and "21" compare equal.
"""

from __future__ import annotations

import re
import unicodedata

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_to_words(n: int) -> str:
    """Cardinal ``n`` in English words without "and": ``1205`` → ``"one thousand two hundred five"``."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale, name in _SCALES:
        if n >= scale:
            words += _below_thousand(n // scale) + [name]
            n %= scale
    if n:
        words += _below_thousand(n)
    return " ".join(words)


def year_to_words(n: int) -> str:
    """A year read in pairs: ``1999`` → ``"nineteen ninety nine"``, ``1905`` → ``"nineteen oh five"``, ``2000`` → cardinal."""
    high, low = divmod(n, 100)
    if 2000 <= n < 2010:
        return number_to_words(n)
    if low == 0:
        return number_to_words(high) + " hundred"
    low_words = number_to_words(low) if low >= 10 else "oh " + _ONES[low]
    return f"{number_to_words(high)} {low_words}"


def ordinal_to_words(n: int) -> str:
    """``21`` → ``"twenty first"``."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _money(match: re.Match[str]) -> str:
    dollars = int(match.group(1).replace(",", ""))
    cents = int((match.group(2) or "0").ljust(2, "0")[:2])
    text = f"{number_to_words(dollars)} dollar{'s' if dollars != 1 else ''}"
    if cents:
        text += f" {number_to_words(cents)} cent{'s' if cents != 1 else ''}"
    return f" {text} "


def _decimal(match: re.Match[str]) -> str:
    whole, frac = match.group(1).replace(",", ""), match.group(2)
    return f" {number_to_words(int(whole))} point {' '.join(_ONES[int(d)] for d in frac)} "


def _integer(match: re.Match[str]) -> str:
    digits = match.group(0).replace(",", "")
    value = int(digits)
    if len(digits) == 4 and "," not in match.group(0) and 1100 <= value <= 2099:
        return f" {year_to_words(value)} "
    return f" {number_to_words(value)} "


def normalize(text: str) -> str:
    """Lowercase, spell out numbers (money, ordinals, decimals, percents, years), drop punctuation, squeeze spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("&", " and ").replace("%", " percent ")
    text = re.sub(r"\$(\d[\d,]*)(?:\.(\d+))?", _money, text)
    text = re.sub(r"(\d+)(?:st|nd|rd|th)\b", lambda m: f" {ordinal_to_words(int(m.group(1)))} ", text)
    text = re.sub(r"(\d[\d,]*)\.(\d+)", _decimal, text)
    text = re.sub(r"\d{1,3}(?:,\d{3})+|\d+", _integer, text)
    text = re.sub(r"(?<=\w)'(?=\w)", "", text)  # don't → dont, so contractions match either way
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())

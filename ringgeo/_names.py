"""Name normalization for linking partners to Census geography (private helpers).

Partner rows spell places the way people type them; Census names are formal.
These helpers turn both into comparable keys:

* :func:`strip_invisible` removes invisible format characters (U+200E, U+FEFF...), the
  one place that does so for the whole package (states, partner cleaning, readers);
* :func:`clean` removes invisible format characters (U+200E), curly quotes and
  repeated whitespace, nothing else (used for *exact* comparison);
* :func:`fold` also drops diacritics (``Doña`` -> ``dona``), case and
  punctuation, and spells out abbreviations (``St.`` -> ``saint``, ``Ste.`` ->
  ``sainte``, ``Ft.`` -> ``fort``, ``Mt.`` -> ``mount``);
* :func:`compact` removes the spaces of a folded key, so ``La Salle`` and
  ``LaSalle``, ``De Kalb`` and ``DeKalb`` meet;
* :func:`split_county` and :func:`split_descriptor` separate a name from the word
  that says what kind of area it is (``County``, ``Parish``, ``(city)``,
  ``township``, ``village``...); :data:`MUNI_DESCRIPTORS` lists the municipality
  words, once for the package;
* :func:`parse_agency` reads the municipality (and its kind) that an agency's
  own name names: ``"Upper Darby Township Police Department"`` ->
  ``("upper darby", "township")``, ``"Village of Rye Brook Police"`` ->
  ``("rye brook", "village")``.
"""

from __future__ import annotations

import re
import unicodedata

from ._config import memoized

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount", "twp": "township",
                  "boro": "borough", "vlg": "village", "dept": "department"}

#: County descriptors, longest first (folded), and the kind each one means: the words of
#: ``geography.COUNTY_LSAD`` and the partner files' ``"Norfolk (city) County"``.
COUNTY_WORDS = (
    ("city and borough", "city and borough"), ("census area", "census area"),
    ("(city) county", "city"), ("(city)", "city"), ("county", "county"), ("parish", "parish"),
    ("borough", "borough"), ("municipality", "municipality"), ("municipio", "municipio"),
    ("city", "city"),
)

#: Trailing legal descriptors of Census place and MCD names, as Census writes them in
#: ``sub-est2021_all.csv`` (the one list of the package; ``geography.NAME_DESCRIPTORS``).
#: Case matters in a Census name: "Carson City" is a name, "Salt Lake City city" has a
#: descriptor. Longest first, so ``"charter township"`` wins over ``"township"``.
MUNI_DESCRIPTORS = (
    "consolidated government (balance)", "metropolitan government (balance)",
    "unified government (balance)", "metro government (balance)",
    "metropolitan government", "consolidated government", "unified government",
    "metro government", "city and borough", "charter township", "metro township",
    "urban county", "city (balance)", "municipality", "corporation", "plantation",
    "(balance)", "township", "location", "purchase", "borough", "village", "grant",
    "city", "town", "gore", "CDP", "UT",
)

#: Kinds an agency name can state, mapped to the Census word(s) they mean.
AGENCY_KINDS = {"township": {"township", "charter township", "metro township"},
                "town": {"town"},
                "village": {"village"}, "city": {"city"}, "borough": {"borough"}}

_AGENCY_SUFFIX = re.compile(
    r"\s*\b(?:department of public safety|public safety department|public safety|"
    r"public sfty department|police authority\b.*|metropolitan police department|"
    r"metro police department|police department|police division|police dept|"
    r"division of police|bureau of police|police|marshal'?s office|department)\b.*$"
)
_AGENCY_PREFIX = re.compile(r"^(charter township|township|town|village|city|borough) of\s+")
_AGENCY_TRAILING = re.compile(r"\s+(charter township|township|town|village|city|borough)$")


def strip_invisible(text: str) -> str:
    """Remove the invisible Unicode format characters (category Cf) from ``text``.

    Left-to-right marks (U+200E), byte order marks (U+FEFF), zero-width spaces
    (U+200B) and their kin come with copied text and make equal names differ.

    Examples
    --------
    >>> strip_invisible("\u200eHarris\u200b County\ufeff")
    'Harris County'
    """
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def clean(text) -> str:
    r"""Remove format characters (U+200E...), unify quotes and collapse whitespace.

    Examples
    --------
    >>> clean("\u200eHarris County\u200e ")
    'Harris County'
    >>> clean("New Kent County Sheriff\u2019s Office")
    "New Kent County Sheriff's Office"
    """
    if text is None or (not isinstance(text, str) and text != text):  # None / NaN / NA
        return ""
    text = str(text)
    if not text.isascii():
        text = strip_invisible(unicodedata.normalize("NFKC", text))
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.replace("`", "'").split())


@memoized(maxsize=1 << 16)
def fold(text) -> str:
    """Return a comparison key: no diacritics, case, punctuation or abbreviations.

    Examples
    --------
    >>> fold("Doña Ana County")
    'dona ana county'
    >>> fold("St. Louis (city)")
    'saint louis (city)'
    >>> fold("Ste. Genevieve")
    'sainte genevieve'
    >>> fold("Prince George's")
    'prince georges'
    """
    text = clean(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    text = text.replace("&", " and ").replace("'", "")
    text = re.sub(r"[.,;:/\-]", " ", text)
    words = [_ABBREVIATIONS.get(word, word) for word in text.split()]
    return " ".join(words)


def compact(key: str) -> str:
    """Remove the spaces of a folded key (``"la salle"`` -> ``"lasalle"``).

    Examples
    --------
    >>> compact(fold("La Salle"))
    'lasalle'
    """
    return key.replace(" ", "")


def _strip_word(key: str, words) -> tuple[str, str | None]:
    pattern, kinds = _word_pattern(words)
    match = pattern.search(key)
    if match is None:
        return key, None
    return key[: match.start()].strip(), kinds[match.group(1)]


@memoized(maxsize=8)
def _word_pattern(words: tuple) -> tuple[re.Pattern, dict]:
    # the leftmost match is the longest descriptor; keep one character of name
    alternatives = "|".join(re.escape(word) for word, _ in words)
    return re.compile(r"(?<=.) (" + alternatives + r")$"), dict(words)


def split_county(text) -> list[tuple[str, str | None]]:
    """Folded ``(base, kind)`` readings of a county as a partner row writes it.

    The first reading strips the descriptor; the second keeps the whole name
    (``"Carson City"`` is a name, not the city "Carson").

    Examples
    --------
    >>> split_county("Norfolk (city) County")
    [('norfolk', 'city'), ('norfolk (city) county', None)]
    >>> split_county("James City County")[0]
    ('james city', 'county')
    >>> split_county("Doña Ana")
    [('dona ana', None)]
    """
    key = fold(text)
    base, kind = _strip_word(key, COUNTY_WORDS)
    readings = [(base, kind)]
    if kind is not None:
        readings.append((key, None))
    return readings


def muni_aliases(name) -> set[str]:
    """Other folded names a Census municipality is known by.

    Examples
    --------
    >>> sorted(muni_aliases("San Buenaventura (Ventura) city"))
    ['san buenaventura', 'san buenaventura (ventura)', 'ventura']
    >>> sorted(muni_aliases("City of Orange township"))
    ['city of orange', 'orange']
    >>> sorted(muni_aliases("Louisville/Jefferson County metro government (balance)"))
    ['louisville', 'louisville jefferson county']
    """
    base, word = split_descriptor(name, folded=True)
    names = {base}
    inner = re.search(r"^(.*?)\s*\(([^)]+)\)$", base)
    if inner:  # "san buenaventura (ventura)"
        names |= {inner.group(1).strip(), fold(inner.group(2))}
    prefix = _AGENCY_PREFIX.match(base)
    if prefix:  # "city of orange" township
        names.add(base[prefix.end():].strip())
    if word and ("government" in word or "balance" in word or "urban" in word):
        # consolidated governments are known by their city's name
        names.add(fold(re.split(r"[/-]", clean(name))[0]))
    return {n for n in names if n}


@memoized(maxsize=1 << 16)
def split_descriptor(name, *, folded: bool = False) -> tuple[str, str | None]:
    """Split the trailing legal descriptor (:data:`MUNI_DESCRIPTORS`) off a municipality name.

    The package's one splitter of place and MCD names: :func:`ringgeo.geography.split_name`
    reads Census names with it, the linking keys and the lookup read every other name.

    Parameters
    ----------
    name : str
        A municipality name.
    folded : bool, default False
        False: the name as Census writes it, white space collapsed, the descriptor
        matched case-sensitively (``"Carson City"`` keeps its ``City``). True: the name
        is folded first (:func:`fold`) and the descriptor matched in any case, for the
        names people type (``"Upper Darby Township"``); base and descriptor come folded.

    Returns
    -------
    tuple
        ``(base, descriptor)``; ``descriptor`` is None when the name has none.

    Examples
    --------
    >>> split_descriptor("Bloomfield charter township")
    ('Bloomfield', 'charter township')
    >>> split_descriptor("Carson City")
    ('Carson City', None)
    >>> split_descriptor("Upper Darby Township", folded=True)
    ('upper darby', 'township')
    >>> split_descriptor("Nashville-Davidson metropolitan government (balance)", folded=True)
    ('nashville davidson', 'metropolitan government (balance)')
    """
    if folded:
        return _strip_word(fold(name), _FOLDED_PAIRS)
    return _strip_word(" ".join(str(name).split()), _MUNI_PAIRS)


_MUNI_PAIRS = tuple((word, word) for word in MUNI_DESCRIPTORS)
_FOLDED_PAIRS = tuple((fold(word), fold(word)) for word in MUNI_DESCRIPTORS)


def parse_agency(agency) -> list[tuple[str, str | None]]:
    """Municipality readings ``(base, kind)`` of an agency name, best first.

    ``kind`` is the kind the name states (``"township"``, ``"village"``...),
    or None. An empty list means the name names no place (e.g. "Police
    Department" alone).

    Examples
    --------
    >>> parse_agency("Upper Darby Township Police Department")
    [('upper darby', 'township'), ('upper darby township', None)]
    >>> parse_agency("Village of Rye Brook Police")
    [('rye brook', 'village')]
    >>> parse_agency("Kansas City Police Department")
    [('kansas', 'city'), ('kansas city', None)]
    >>> parse_agency("St. Louis Metropolitan Police Department")
    [('saint louis', None)]
    >>> parse_agency("Manheim/Lancaster Township Police Department")
    [('manheim', 'township'), ('lancaster', 'township')]
    """
    key = " / ".join(fold(part) for part in clean(agency).split("/"))
    key = _AGENCY_SUFFIX.sub("", key).strip()
    if not key:
        return []
    prefix = _AGENCY_PREFIX.match(key)
    if prefix:
        kind = "township" if "township" in prefix.group(1) else prefix.group(1)
        return [(key[prefix.end():].strip(), kind)]
    trailing = _AGENCY_TRAILING.search(key)
    if trailing:
        kind = "township" if "township" in trailing.group(1) else trailing.group(1)
        stem = key[: trailing.start()].strip()
        if " / " in stem:  # "Manheim/Lancaster Township": each name with the kind
            return [(part.strip(), kind) for part in stem.split(" / ") if part.strip()]
        return [(stem, kind), (key, None)]
    return [(part.strip(), None) for part in key.split(" / ") if part.strip()]

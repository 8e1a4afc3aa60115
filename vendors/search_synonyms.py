"""Synonyms and spelling variants of the directory search, the same on PostgreSQL and SQLite.

The table is applied to the stored search text (``vendors.services.vendor_search_refresh``), not to the
query: when a vendor's text holds one variant of a group, the other variants are stored beside it, so a
search for any of them finds the vendor, whatever the database (PostgreSQL's English stemmer does not
join "lyophilisation" and "lyophilization"; SQLite's LIKE knows no language at all). A word ending in
-isation/-ization also gets its other spelling (serialisation/serialization, characterisation, …).

Changing the table needs a refresh of the stored text: ``vendor_search_refresh()`` (or a migration that
calls it, as 0005 does).
"""

import re

SYNONYMS: list[tuple[str, ...]] = [
    ("lyophilisation", "lyophilization", "freeze-drying", "freeze drying", "freeze-dried", "freeze dried"),
    ("fill-finish", "fill and finish", "fill & finish", "fill/finish", "fill finish", "aseptic filling"),
    ("API", "active pharmaceutical ingredient", "active pharmaceutical ingredients", "drug substance"),
    ("finished dosage forms", "finished dosage form", "drug product", "FDF"),
    ("HPAPI", "highly potent API", "high potency API", "highly potent active pharmaceutical ingredient"),
    ("prefilled syringes", "pre-filled syringes", "prefilled syringe", "pre-filled syringe", "PFS"),
    ("paediatrics", "pediatrics", "paediatric", "pediatric"),
    ("decentralised trials", "decentralized trials", "DCT", "virtual trials"),
    ("CNS", "central nervous system", "neuroscience"),
    ("pharmacovigilance", "drug safety", "PV"),
    ("biostatistics", "biostats", "statistics"),
    ("oligonucleotides", "oligos", "antisense"),
    ("EDC build", "electronic data capture"),
    ("CDISC SDTM/ADaM", "SDTM", "ADaM", "CDISC"),
    ("IND/CTA", "IND", "CTA", "investigational new drug", "clinical trial application"),
    ("NDA/BLA/MAA", "NDA", "BLA", "MAA", "marketing authorisation application"),
    ("ICH stability studies", "stability studies", "stability testing"),
    ("extractables & leachables", "extractables and leachables", "E&L"),
    ("biologics", "biopharmaceuticals", "large molecule"),
    ("small molecule", "small molecules", "chemical API"),
]

_SPELLING = re.compile(r"\b(\w+?)(is|iz)(ations?|e[sd]?|ing)\b", re.IGNORECASE)


def _pattern(variant: str) -> re.Pattern:
    # Whole words only: "API" must not be found in "rapid" or "therapies".
    return re.compile(r"(?<![\w])" + re.escape(variant.lower()) + r"(?![\w])")


_GROUPS = [(group, [_pattern(v) for v in group]) for group in SYNONYMS]


def search_variants(text: str) -> list[str]:
    """The variants ``text`` does not hold but should be found by: synonyms of what it holds, other spellings."""
    lowered = text.lower()
    found: list[str] = []
    for group, patterns in _GROUPS:
        present = [bool(p.search(lowered)) for p in patterns]
        if any(present):
            found += [variant for variant, here in zip(group, present, strict=True) if not here]
    spellings = {
        f"{stem}{'iz' if middle.lower() == 'is' else 'is'}{ending}".lower()
        for stem, middle, ending in _SPELLING.findall(text)
        if len(stem) >= 3
    }
    found += sorted(s for s in spellings if s not in lowered)
    return list(dict.fromkeys(found))


def with_variants(text: str) -> str:
    """``text`` followed by its missing variants (what the search stores)."""
    variants = search_variants(text)
    return f"{text} · {' · '.join(variants)}" if variants else text

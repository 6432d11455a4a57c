"""Names: SQL identifiers → entity, attribute and access-pattern names.

Table names are usually plural snake_case (`order_items`), sometimes singular (`film`), sometimes
PascalCase folded to lower case by PostgreSQL (`BusinessEntity` → `businessentity`). Entities are
PascalCase singular, so we need a small English inflector; it is deliberately conservative (an
unknown word is left as it is rather than mangled) and tested word by word.
"""

from __future__ import annotations

import re

# Irregular plurals (plural → singular), and words whose plural is the same as their singular.
_IRREGULAR = {
    "people": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "teeth": "tooth",
    "feet": "foot",
    "mice": "mouse",
    "geese": "goose",
    "oxen": "ox",
    "indices": "index",
    "matrices": "matrix",
    "vertices": "vertex",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "data": "data",
    "media": "media",
    "analyses": "analysis",
    "bases": "base",
    "crises": "crisis",
    "theses": "thesis",
    "statuses": "status",
    "aliases": "alias",
    "buses": "bus",
    "quizzes": "quiz",
    "leaves": "leaf",
    "lives": "life",
    "wives": "wife",
    "knives": "knife",
    "halves": "half",
    "shelves": "shelf",
    "wolves": "wolf",
    "movies": "movie",
    "cookies": "cookie",
    "pies": "pie",
    "ties": "tie",
    "caches": "cache",
    "databases": "database",
    "responses": "response",
    "licenses": "license",
    "courses": "course",
    "houses": "house",
    "warehouses": "warehouse",
    "purchases": "purchase",
    "releases": "release",
    "invoices": "invoice",
    "prices": "price",
    "devices": "device",
    "services": "service",
    "sources": "source",
    "resources": "resource",
    "phases": "phase",
    "cases": "case",
    "uses": "use",
    "clauses": "clause",
    "causes": "cause",
    "purposes": "purpose",
    "expenses": "expense",
    "lenses": "lens",
    "addresses": "address",
}
_UNCOUNTABLE = {
    "series",
    "species",
    "news",
    "information",
    "equipment",
    "fish",
    "sheep",
    "deer",
    "metadata",
    "staff",
    "inventory",
    "history",
    "info",
    "feedback",
    "software",
    "hardware",
    "audio",
    "video",
    "settings",
    "status",
    "address",
    "business",
    "analysis",
    "access",
    "process",
    "class",
    "glass",
    "pass",
    "gas",
    "bus",
    "alias",
    "canvas",
    "atlas",
    "corpus",
    "campus",
    "virus",
    "bonus",
    "census",
    "chassis",
    "focus",
}


def singularize(word: str) -> str:
    """English singular of one lower-case word; unknown shapes are returned unchanged."""
    w = word.lower()
    if not w or w in _UNCOUNTABLE:
        return word
    if w in _IRREGULAR:
        return _keep_case(word, _IRREGULAR[w])
    for suffix in sorted(_IRREGULAR, key=len, reverse=True):  # compound: `billing_addresses`
        if w.endswith(suffix) and len(w) > len(suffix):
            return word[: len(w) - len(suffix)] + _IRREGULAR[suffix]
    if w.endswith(("ss", "us", "is")) or w in ("kudos", "chaos", "cosmos", "ethos"):
        return word  # class, status, analysis: already singular (or unknowable)
    if w.endswith("ies") and len(w) > 4:
        return word[:-3] + "y"  # categories → category
    if w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]  # boxes → box, matches → match
    if w.endswith("ves") and len(w) > 4:
        return word[:-3] + "f"  # shelves handled above; generic fallback
    if w.endswith("s") and not w.endswith("ss") and len(w) > 2:
        return word[:-1]
    return word


def _keep_case(original: str, replacement: str) -> str:
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def split_words(name: str) -> list[str]:
    """`order_items` → [order, items]; `BusinessEntity` → [Business, Entity]; `HTTPLog` → [HTTP, Log]."""
    parts = re.split(r"[^A-Za-z0-9]+", name)
    words: list[str] = []
    for part in parts:
        if not part:
            continue
        words.extend(re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", part))
    return words


def pascal(name: str) -> str:
    """PascalCase of any identifier; digits are kept, everything else non-alphanumeric dropped."""
    out = "".join(w[:1].upper() + w[1:] for w in split_words(name))
    if not out:
        return "X"
    if out[0].isdigit():
        out = "T" + out
    return out


def snake(name: str) -> str:
    """snake_case of any identifier, valid as an access-pattern name (`[a-z][a-z0-9_]*`)."""
    out = "_".join(w.lower() for w in split_words(name))
    if not out:
        return "x"
    if not out[0].isalpha():
        out = "n" + out
    return out


def entity_name(table: str) -> str:
    """`order_items` → `OrderItem`, `people` → `Person`, `film` → `Film`: only the last word is
    singularised, since only it carries the plural (`news_items` → `NewsItem`)."""
    words = split_words(table)
    if not words:
        return "X"
    words[-1] = singularize(words[-1])
    return pascal("_".join(words))


def fold(ident: str, quoted: bool) -> str:
    """PostgreSQL's identifier folding: unquoted names are lower-cased, quoted ones kept."""
    return ident if quoted else ident.lower()


ATTRIBUTE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def attribute_name(column: str) -> str:
    """The attribute for a column: the column name itself when it is a plain lower-case
    identifier, else its snake_case form (the model then records `column:`)."""
    if ATTRIBUTE_NAME.match(column):
        return column
    return snake(column)

"""Names: the one rule for turning table, column, model and entity names into model and code names.

Every part of the tool that makes a name calls this module: the DDL and Workbench importers
(entity, attribute and pattern names), the spec (an entity's default SQL table, a model's default
DynamoDB table) and the code emitters (class and function names in generated Python).

* `words` splits any identifier: non-alphanumerics separate words, and so does a change of
  case (`orderItems`, `HTTPLog` → HTTP, Log); digits stay with the text around them
  (`2fa`, `address2`, `GSI1PK` → GSI1, PK).
* `pascal` (entity and class names) and `snake` (attribute, pattern and function names) join
  those words. Both always start with a letter: a name that would start with a digit gets `T` /
  `t` in front (`2fa_codes` → `T2faCodes` / `t2fa_codes`), so every caller can use the result as
  a Python identifier, an entity name or a pattern name. Words keep their case in `pascal`
  (`APIKey` stays `APIKey`, so `APIKey` and `ApiKey` stay apart).
* `keep_entity_name` is for a name someone already chose for an entity (a Workbench facet or
  entity-type value): it is kept when the DSL accepts it, else it becomes `pascal`.
* `singular` / `plural` are a small English inflector; deliberately conservative (an unknown word
  is left as it is rather than mangled) and case-preserving (`STATUSES` → `STATUS`).
  `entity_for_table` (`order_items` → `OrderItem`) and `table_for_entity` (`OrderItem` →
  `order_items`) apply them to the last word only, the one that carries the plural.
"""

from __future__ import annotations

import re

from modeling.runtime.versioning import VERSION_ATTRIBUTE

__all__ = [
    "TYPE_ATTRIBUTE",
    "entity_for_table",
    "keep_entity_name",
    "pascal",
    "plural",
    "reserved_attribute",
    "singular",
    "snake",
    "table_for_entity",
    "words",
]

TYPE_ATTRIBUTE = "_type"  # the item attribute naming an item's entity
# Item attributes the layout writes itself: the table's and the indexes' key attributes (`PK`,
# `SK`, `GSI<n>PK`, `GSI<n>SK`, `LSI<n>SK`), the entity type and the version. A model attribute
# with one of these names would be overwritten by (or overwrite) the layout's value.
_RESERVED_ATTRIBUTE = re.compile(
    rf"^(PK|SK|GSI[0-9]+(PK|SK)|LSI[0-9]+SK|{re.escape(TYPE_ATTRIBUTE)}|"
    rf"{re.escape(VERSION_ATTRIBUTE)})$"
)


def reserved_attribute(name: str) -> bool:
    """Whether `name` is an item attribute the layout writes itself (`PK`, `GSI1SK`, `_type`,
    `_version`, ...), so a model attribute may not have it."""
    return _RESERVED_ATTRIBUTE.match(name) is not None


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_CASE_CHANGE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_ENTITY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def words(name: str) -> list[str]:
    """`order_items` → [order, items]; `BusinessEntity` → [Business, Entity];
    `HTTPLog` → [HTTP, Log]; `2fa_codes` → [2fa, codes]; `GSI1PK` → [GSI1, PK]."""
    return [w for w in _CASE_CHANGE.sub("_", _NOT_ALNUM.sub("_", name)).split("_") if w]


def pascal(name: str) -> str:
    """PascalCase, valid as an entity and a Python class name: `order_item` → `OrderItem`,
    `order-service` → `OrderService`, `APIKey` → `APIKey`, `2fa_codes` → `T2faCodes`; `X` when
    nothing is left."""
    out = "".join(w[:1].upper() + w[1:] for w in words(name))
    if not out:
        return "X"
    return "T" + out if out[0].isdigit() else out


def snake(name: str) -> str:
    """snake_case, valid as an attribute, pattern and Python function name: `OrderItem` →
    `order_item`, `HTTPLog` → `http_log`, `2fa_codes` → `t2fa_codes`; `x` when nothing is left."""
    out = "_".join(w.lower() for w in words(name))
    if not out:
        return "x"
    return "t" + out if out[0].isdigit() else out


def keep_entity_name(name: str) -> str:
    """An entity name for a name someone chose (a Workbench facet or entity-type value): kept as
    written when the DSL accepts it, first letter upper-cased (`Order_line`, `hotel` → `Hotel`),
    else `pascal(name)` (`order line` → `OrderLine`, `2fa_codes` → `T2faCodes`)."""
    if _ENTITY_NAME.fullmatch(name):
        return name[0].upper() + name[1:]
    return pascal(name)


def entity_for_table(table: str) -> str:
    """The entity for a SQL table: `order_items` → `OrderItem`, `people` → `Person`, `film` →
    `Film`, `2fa_codes` → `T2faCode`. Only the last word is singularised, since only it carries
    the plural (`news_items` → `NewsItem`)."""
    parts = words(table)
    if not parts:
        return "X"
    parts[-1] = singular(parts[-1])
    return pascal("_".join(parts))


def table_for_entity(entity: str) -> str:
    """The default SQL table of an entity: `Variant` → `variants`, `Category` → `categories`,
    `APIKey` → `api_keys`, `Person` → `people`; the inverse of `entity_for_table`."""
    parts = [w.lower() for w in words(entity)] or ["x"]
    parts[-1] = plural(parts[-1])
    return "_".join(parts)


# --------------------------------------------------------------------------- the inflector

# Irregular singular → plural pairs (also the exceptions the suffix rules would get wrong).
_IRREGULAR: dict[str, str] = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "tooth": "teeth",
    "foot": "feet",
    "mouse": "mice",
    "goose": "geese",
    "ox": "oxen",
    "matrix": "matrices",
    "vertex": "vertices",
    "criterion": "criteria",
    "phenomenon": "phenomena",
    "analysis": "analyses",
    "crisis": "crises",
    "thesis": "theses",
    "diagnosis": "diagnoses",
    "hypothesis": "hypotheses",
    "synopsis": "synopses",
    "quiz": "quizzes",
    "leaf": "leaves",
    "life": "lives",
    "wife": "wives",
    "knife": "knives",
    "half": "halves",
    "shelf": "shelves",
    "wolf": "wolves",
    "calf": "calves",
    "loaf": "loaves",
    "thief": "thieves",
    "self": "selves",
    "movie": "movies",
    "cookie": "cookies",
    "pie": "pies",
    "tie": "ties",
    "menu": "menus",
    "cache": "caches",
    "base": "bases",
    "database": "databases",
    "response": "responses",
    "license": "licenses",
    "course": "courses",
    "house": "houses",
    "warehouse": "warehouses",
    "purchase": "purchases",
    "release": "releases",
    "invoice": "invoices",
    "price": "prices",
    "device": "devices",
    "service": "services",
    "source": "sources",
    "resource": "resources",
    "phase": "phases",
    "case": "cases",
    "use": "uses",
    "clause": "clauses",
    "cause": "causes",
    "purpose": "purposes",
    "expense": "expenses",
}
# Already singular although they end in `s`: their plural adds `es` (`statuses`).
_SINGULAR_S = (
    "status", "address", "business", "access", "process", "class", "glass", "pass", "gas",
    "bus", "alias", "canvas", "atlas", "corpus", "campus", "virus", "bonus", "census", "focus",
    "lens",
)  # fmt: skip
# The same word in both numbers.
_UNCOUNTABLE = frozenset(
    (
        "series", "species", "news", "information", "equipment", "fish", "sheep", "deer",
        "data", "media", "metadata", "staff", "info", "feedback", "software", "hardware",
        "settings", "chassis", "kudos", "chaos", "cosmos", "ethos",
    )
)  # fmt: skip
_PLURAL_OF = _IRREGULAR | {w: w + "es" for w in _SINGULAR_S}
# Plural → singular; `indices` is read but `index` is written `indexes` (the regular plural).
_SINGULAR_OF = {p: s for s, p in _PLURAL_OF.items()} | {"indices": "index"}
# Plurals matched as the end of a longer word (`billingaddresses`, `salespeople`): only the
# longer ones, so `abuses` is not read as `a` + `buses`.
_COMPOUND = sorted((p for p in _SINGULAR_OF if len(p) >= 6), key=len, reverse=True)


def singular(word: str) -> str:
    """English singular of one word, in the word's case: `Statuses` → `Status`, `Analyses` →
    `Analysis`, `categories` → `category`, `PEOPLE` → `PERSON`; `news`, `status`, `series`
    and unknown shapes are returned unchanged."""
    w = word.lower()
    if not w or w in _UNCOUNTABLE or w in _PLURAL_OF:
        return word
    if w in _SINGULAR_OF:
        return _in_case_of(word, _SINGULAR_OF[w])
    for suffix in _COMPOUND:
        if w.endswith(suffix) and len(w) > len(suffix):
            return _in_case_of(word, w[: len(w) - len(suffix)] + _SINGULAR_OF[suffix])
    if w.endswith(("ss", "us", "is")):
        return word  # class, radius, axis: already singular (or unknowable)
    if w.endswith("ies") and len(w) > 4:
        return _in_case_of(word, w[:-3] + "y")  # categories → category
    if w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]  # boxes → box, matches → match
    if w.endswith("s") and len(w) > 2:
        return word[:-1]  # archives → archive (the -f/-fe plurals are listed above)
    return word


def plural(word: str) -> str:
    """English plural of one word, in the word's case: `status` → `statuses`, `analysis` →
    `analyses`, `category` → `categories`, `day` → `days`, `box` → `boxes`, `person` →
    `people`; `news` and `series` are unchanged. `singular(plural(w)) == w`."""
    w = word.lower()
    if not w or w in _UNCOUNTABLE:
        return word
    if w in _PLURAL_OF:
        return _in_case_of(word, _PLURAL_OF[w])
    if w.endswith("sis"):
        return _in_case_of(word, w[:-3] + "ses")  # diagnosis → diagnoses
    if re.search(r"(s|x|z|ch|sh)$", w):
        return _in_case_of(word, w + "es")
    if re.search(r"[^aeiou]y$", w):
        return _in_case_of(word, w[:-1] + "ies")
    return _in_case_of(word, w + "s")


def _in_case_of(original: str, lowered: str) -> str:
    """`lowered` spelled in `original`'s case: all capitals stay capitals, else the letters the
    two share keep the original's case (`People` → `Person`, `iPhones` → `iPhone`)."""
    if original.isupper():
        return lowered.upper()
    shared = 0
    for a, b in zip(original.lower(), lowered, strict=False):
        if a != b:
            break
        shared += 1
    return original[:shared] + lowered[shared:]


# The name this module's PascalCase had before the rules were merged (spec/checks.py uses it).

"""Entity discovery: which entities one Workbench table holds, and which sample items are whose.

In order of evidence: facets, else an entity-type attribute (`Type`, `_type`, `__typename`,
...), else the constant prefixes of sample keys (`CUST#123` → `Cust`), else one per table.
A `ModelSchema` block adds declared attributes, key templates and item-less entities.
"""

from __future__ import annotations

import re

from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.naming import keep_entity_name, singular
from modeling.formats.workbench import Item, WbTable, attribute_kind
from modeling.importers.workbench.names import (
    UPPER_TAG,
    WORD,
    is_generic_key,
    is_type_attr,
    key_names,
    unique_name,
)
from modeling.importers.workbench.plans import Candidate
from modeling.importers.workbench.templates import (
    detect_separator,
    literal_roles,
    split_key,
)
from modeling.importers.workbench.values import SCHEMA_TYPES, scalar_text


def _find_type_attr(items: list[tuple[Item, Span | None]], skip: set[str]) -> str | None:
    """The attribute naming each item's entity type (`Type`, `_type`, ...), if items carry one."""
    counts: dict[str, int] = {}
    for it, _ in items:
        for name, av in it.items():
            if name not in skip and is_type_attr(name) and attribute_kind(av) == "S" and av["S"]:
                counts[name] = counts.get(name, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best and best[1] * 2 >= len(items) else None


def key_values(table: WbTable) -> list[str]:
    """Every string value of a key attribute in the sample items, and the facets' key aliases."""
    names = key_names(table)
    out = [
        v
        for it, _ in table.spanned_items()
        for n in names
        if (v := scalar_text(it.get(n))) is not None
    ]
    for f in table.facets:
        out += [v for it, _ in f.spanned_items() for n in names if (v := scalar_text(it.get(n)))]
        out += [a for a in (f.pk_alias, f.sk_alias) if a]
    return out


def _shape(value: str | None, sep: str, constants: set[str]) -> tuple[str, ...]:
    """A key value's literal parts, data parts as `*`: `u#123#follower` → (u, *, follower).
    A value of one part is literal when it reads as a constant (see `_constants`)."""
    if value is None:
        return ()
    parts = split_key(value, sep)
    if len(parts) == 1:
        return (value,) if value in constants else ("*",)
    return tuple(p if lit else "*" for p, lit in zip(parts, literal_roles(parts), strict=True))


def _constants(values: list[str | None], pks: list[str | None], sep: str) -> set[str]:
    """One-part key values that are constants, not data: upper-case tags (`PROFILE`), quoted
    words (`"info"`), or a word that several partitions share (`meta`, `count`)."""
    seen: dict[str, set[str | None]] = {}
    for v, pk in zip(values, pks, strict=True):
        if v is not None and sep not in v:
            seen.setdefault(v, set()).add(pk)
    out = set()
    for v, parts in seen.items():
        bare = v.strip('"')
        if not WORD.match(bare):
            continue
        if (UPPER_TAG.match(v) and len(v) > 1) or bare != v or len(parts) > 1:
            out.add(v)
    return out


def _word(shape: tuple[str, ...]) -> str | None:
    words = [p.strip('"') for p in shape if p not in ("", "*")]
    return words[-1] if words else None


def _table_entity_name(table: WbTable) -> str:
    name = keep_entity_name(table.name)
    return name[: -len("Table")] if name.endswith("Table") and len(name) > 5 else name


def discover(table: WbTable, diags: Diagnostics) -> list[Candidate]:
    """Candidate entities: facets, else entity-type values, else key prefixes, else the table."""
    sep, evidence = detect_separator(key_values(table))
    groups = _discover(table, diags, sep)
    for g in groups:
        g.sep = sep
        if sep != "#":
            g.notes.append(
                f"key separator {sep!r} read from {evidence} sample key(s) and alias(es) that "
                f"start with a tag and {sep!r}"
            )
    return groups


def _discover(table: WbTable, diags: Diagnostics, sep: str) -> list[Candidate]:
    keys = key_names(table)
    groups: list[Candidate] = []
    if table.facets:
        for f in table.facets:
            g = Candidate(
                name=unique_name(keep_entity_name(f.name), [x.name for x in groups]),
                origin=f"facet {f.name!r}",
                items=f.spanned_items(),
                declared=[a for a in f.attributes if a not in keys],
                facet=f,
                mentions=set(f.attributes),
            )
            groups.append(g)
        _assign_to_facets(table, groups, diags, sep)
        for g in groups:  # a facet's constant `Type` attribute is its entity type, not data
            t = _find_type_attr(g.items, keys)
            values = {scalar_text(it.get(t)) for it, _ in g.items} if t else set()
            if t and len(values) == 1 and None not in values:
                g.type_attr, g.type_value = t, values.pop()
        _apply_model_schema(table, groups, groups[0].type_attr or "", keys, diags, create=False)
        return groups
    items = table.spanned_items()
    type_attr = _find_type_attr(items, keys)
    rest = items
    if type_attr is not None:
        by_value: dict[str, Candidate] = {}
        rest = []
        for it, sp in items:
            av = it.get(type_attr)
            value = av.get("S") if isinstance(av, dict) else None
            if isinstance(value, str) and value:
                if value not in by_value:
                    by_value[value] = Candidate(
                        name=unique_name(
                            keep_entity_name(value), [g.name for g in by_value.values()]
                        ),
                        origin=f"attribute {type_attr!r} = {value!r}",
                        type_attr=type_attr,
                        type_value=value,
                    )
                by_value[value].items.append((it, sp))
            else:
                rest.append((it, sp))
        groups = list(by_value.values())
        _apply_model_schema(table, groups, type_attr, keys, diags)
    if rest:
        groups += _prefix_groups(table, rest, [g.name for g in groups], sep)
    if not groups:
        groups = [
            Candidate(
                name=_table_entity_name(table),
                origin=f"table {table.name!r} (no facets, no sample items)",
            )
        ]
    if len(groups) == 1 and not table.facets:
        groups[0].whole_table = True
        groups[0].declared = list(
            dict.fromkeys(a.name for a in table.attributes if a.name not in keys)
        )
    return groups


def _prefix_groups(
    table: WbTable, items: list[tuple[Item, Span | None]], taken: list[str], sep: str
) -> list[Candidate]:
    """One entity per key *shape*: the literal parts of PK and SK, data parts as `*`
    (`u#*#follower` / `u#*` is another entity than `u#*#post` / `p#*`)."""
    pk, sk = table.keys.partition.name, table.keys.sort.name if table.keys.sort else None
    # only overloaded keys (PK/SK) carry entity prefixes; `Status#Date` says what its parts are
    use_pk, use_sk = is_generic_key(pk), sk is not None and is_generic_key(sk)
    pks = [scalar_text(it.get(pk)) for it, _ in items]
    sks = [scalar_text(it.get(sk)) if sk else None for it, _ in items]
    constants = _constants(pks, [None] * len(pks), sep) | _constants(sks, pks, sep)
    shapes = [
        (
            _shape(p, sep, constants) if use_pk else (),
            _shape(s, sep, constants) if use_sk else (),
        )
        for p, s in zip(pks, sks, strict=True)
    ]
    # entity names: the last literal word of the partition key when it has several (a
    # descriptor: `u#*#follower`), else the sort key's literal, with the partition key's tag
    # when that tag is shared by several shapes (`u#*` / "info" → UInfo)
    first_words: dict[str | None, int] = {}
    for sig in dict.fromkeys(shapes):
        w = next((p for p in sig[0] if p not in ("", "*")), None)
        first_words[w] = first_words.get(w, 0) + 1
    sigs: dict[tuple[tuple[str, ...], tuple[str, ...]], Candidate] = {}
    for (it, sp), sig in zip(items, shapes, strict=True):
        if sig not in sigs:
            pk_shape, sk_shape = sig
            pk_words = [p for p in pk_shape if p not in ("", "*")]
            sk_word = _word(sk_shape)
            if len(pk_words) > 1:
                word: str | None = pk_words[-1]
            elif sk_word is not None and len(sk_shape) > 1:
                word = sk_word  # `ORDER#5` under `CUST#1`: an Order
            elif sk_word is not None and pk_words and first_words.get(pk_words[0], 0) > 1:
                word = pk_words[0] + "_" + sk_word
            else:
                word = pk_words[0] if pk_words else sk_word
            if word is None:
                name, origin = (
                    _table_entity_name(table),
                    f"table {table.name!r} (sample keys have no constant prefix)",
                )
            else:
                name = keep_entity_name(
                    "".join(w[:1].upper() + w[1:] for w in singular(word).lower().split("_"))
                )
                origin = "key shape " + " / ".join(
                    f"{k}={sep.join(s)}" for k, s in ((pk, pk_shape), (sk, sk_shape)) if s
                )
            name = unique_name(name, taken + [g.name for g in sigs.values()])
            sigs[sig] = Candidate(name=name, origin=origin)
            if use_pk:
                sigs[sig].shapes[pk] = pk_shape
            if sk is not None and use_sk:
                sigs[sig].shapes[sk] = sk_shape
        sigs[sig].items.append((it, sp))
    return list(sigs.values())


def _apply_model_schema(
    table: WbTable,
    groups: list[Candidate],
    type_attr: str,
    keys: set[str],
    diags: Diagnostics,
    create: bool = True,
) -> None:
    """Use a `ModelSchema` block (some exports carry one): per-type attributes and key templates."""
    models = (table.model_schema or {}).get("models")
    if not isinstance(models, dict):
        return
    by_value = {g.type_value: g for g in groups if g.type_value} | {
        g.facet.name: g for g in groups if g.facet is not None
    }
    for mname, attrs in models.items():
        if not isinstance(attrs, dict):
            continue
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ \-]*", mname):
            diags.info(
                "workbench-schema-placeholder",
                f"ModelSchema model {mname!r} looks like an editor placeholder; skipped",
                table.span,
                None,
                table.name,
            )
            continue
        g = by_value.get(mname)
        if g is None and not create:
            continue
        if g is None:
            g = Candidate(
                name=unique_name(keep_entity_name(mname), [x.name for x in groups]),
                origin=f"ModelSchema model {mname!r} (no sample items)",
                type_attr=type_attr,
                type_value=mname,
            )
            groups.append(g)
            by_value[mname] = g
        else:
            g.origin += " and its ModelSchema model"
        g.mentions.update(attrs)
        for a, spec in attrs.items():
            if not isinstance(spec, dict) or a == type_attr:
                continue
            if a in keys:
                if isinstance(spec.get("value"), str) and spec["value"]:
                    g.schema_values[a] = spec["value"]
                continue
            if a not in g.declared:
                g.declared.append(a)
            t = SCHEMA_TYPES.get(str(spec.get("type")))
            if t:
                g.declared_types[a] = t


def _alias_regex(alias: str | None, sep: str) -> re.Pattern[str] | None:
    """A facet alias as a matcher: upper-case parts literal, other parts any text."""
    if not alias:
        return None
    parts = alias.split(sep)
    if not any(UPPER_TAG.match(p) for p in parts):
        return None
    return re.compile(
        re.escape(sep).join(re.escape(p) if UPPER_TAG.match(p) or not p else ".+" for p in parts)
    )


def _assign_to_facets(
    table: WbTable, groups: list[Candidate], diags: Diagnostics, sep: str
) -> None:
    """Table-level sample items (format 2.0) go to the one facet whose aliases they fit."""
    pk, sk = table.keys.partition.name, table.keys.sort.name if table.keys.sort else None
    unassigned = 0
    for it, sp in table.spanned_items():
        fits = []
        for g in groups:
            assert g.facet is not None
            rx_pk = _alias_regex(g.facet.pk_alias, sep)
            rx_sk = _alias_regex(g.facet.sk_alias, sep)
            if rx_pk is None and rx_sk is None:
                continue
            ok = (rx_pk is None or rx_pk.fullmatch(scalar_text(it.get(pk)) or "") is not None) and (
                rx_sk is None
                or sk is None
                or rx_sk.fullmatch(scalar_text(it.get(sk)) or "") is not None
            )
            if ok:
                fits.append(g)
        if len(fits) == 1:
            fits[0].items.append((it, sp))
        else:
            unassigned += 1
    if unassigned:
        diags.warning(
            "workbench-unassigned-items",
            f"{unassigned} table-level sample item(s) of {table.name!r} fit no single facet; not used",
            table.span,
            "give the facets key aliases with constant parts (e.g. ORDER#OrderId), or move the items into facets",
            table.name,
        )

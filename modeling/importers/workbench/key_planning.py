"""Key planning: a key template per entity per index, read from ModelSchema values, facet
aliases (`ITEMS#ItemID`), descriptive key attribute names (`Status#Date`) or the sample keys
themselves, and checked against every sample key; then slots renamed after the item
collection's owner, and observed keys that could collide left to the compiler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modeling.compile.templates import may_coincide
from modeling.core.diagnostics import Diagnostics, Span
from modeling.core.naming import singular, snake
from modeling.formats.workbench import WbAttribute, WbKeySchema, WbTable
from modeling.importers.workbench.names import (
    UPPER_TAG,
    WORD,
    ident,
    is_generic_key,
    key_names,
    unique_name,
)
from modeling.importers.workbench.plans import Candidate, EntityPlan, KeyPlan, SlotGuess
from modeling.importers.workbench.templates import (
    SLOT_RE,
    KeyTemplate,
    Slot,
    Text,
    literal_roles,
    split_key,
)
from modeling.importers.workbench.values import same_value, scalar_text


@dataclass
class _KeyCtx:
    table: WbTable
    g: Candidate
    attr: WbAttribute
    role: str  # pk | sk
    index: str  # table | gsiN
    rows: list[int]  # indexes into g.items of the items that carry this key attribute
    diags: Diagnostics


def _has_attr(g: Candidate, name: str) -> bool:
    return name in g.slots or name in g.declared or any(name in iv for iv in g.item_values)


def _register(g: Candidate, name: str, why: str, unnamed: bool = False) -> str:
    if name not in g.slots:
        g.slots[name] = SlotGuess(name, why, existing=_has_attr(g, name), unnamed=unnamed)
    return name


def _match_attr(ctx: _KeyCtx, col: Sequence[str]) -> str | None:
    """An attribute whose value equals this key part in every sample item (slots first)."""
    g = ctx.g
    if not ctx.rows:
        return None
    names = list(g.slots) + g.declared + [n for iv in g.item_values for n in iv]
    for name in dict.fromkeys(names):
        if all(
            (v := g.item_values[i].get(name)) is not None and same_value(c, v)
            for i, c in zip(ctx.rows, col, strict=True)
        ):
            return name
    return None


def _related(tag: str, attr: str) -> bool:
    """Does a key's tag name this attribute (`ACC` → `AccountId`, `ITEMS` → `ItemID`)?"""
    t = snake(singular(tag)).replace("_", "").lower()
    a = attr.replace("_", "").lower()
    return bool(t) and (a.startswith(t) or t.startswith(a) or t in a)


def _from_data(values: list[str], ctx: _KeyCtx, hint: str | None = None) -> list[tuple[bool, str]]:
    """Literal and varying parts of sample keys (split on the design's separator); slots named
    as well as we can. A constant part is literal when it is a tag or a descriptor by the
    `TAG#value#descriptor` convention, in every sample item (one item is enough)."""
    g = ctx.g
    sep = g.sep
    segs: list[tuple[bool, str] | None] = []
    why: dict[int, str] = {}
    samples: dict[int, str] = {}
    roles: list[bool] = []
    if values:
        split = [split_key(v, sep) for v in values]
        if all(len(s) == len(split[0]) for s in split):
            cols = [list(c) for c in zip(*split, strict=True)]
            lits = [literal_roles(s) for s in split]
            roles = [all(r[i] for r in lits) for i in range(len(cols))]
            shape = g.shapes.get(ctx.attr.name, ())
            if len(shape) == len(cols):  # the entity's key shape: its literal parts
                roles = [r or shape[i] != "*" for i, r in enumerate(roles)]
        else:
            k = 0
            while (
                all(len(s) > k + 1 for s in split)
                and len({s[k] for s in split}) == 1
                and (split[0][k] == "" or UPPER_TAG.match(split[0][k]))
            ):
                k += 1
            cols = [[s[i] for s in split] for i in range(k)] + [[sep.join(s[k:]) for s in split]]
            roles = [True] * k + [False]
            g.notes.append(
                f"{ctx.attr.name} sample keys have different numbers of {sep!r} parts; the rest "
                f"after {k} constant part(s) is one slot"
            )
        for i, col in enumerate(cols):
            const = len(set(col)) == 1
            tag = segs[-1][1] if segs and segs[-1] is not None and not segs[-1][0] else ""
            m = None
            if const and (col[0] == "" or UPPER_TAG.match(col[0])):
                segs.append((False, col[0]))
                continue
            m = _match_attr(ctx, col)
            if m is not None and tag and WORD.match(tag) and not _related(tag, m):
                # `SUB#123` where AccountId is 123 too: equal by coincidence, not the same thing
                ctx.diags.warning(
                    "workbench-slot-coincidence",
                    f"{g.name}'s {ctx.attr.name} part after {tag!r} equals attribute {m!r} in "
                    f"{len(col)} sample item(s), but the tag says it is something else; read as "
                    f"a slot of its own",
                    ctx.attr.span,
                    f"if it really is {m!r}, rename the slot in the pinned key",
                    g.name,
                )
                m = None
            if m is not None:
                segs.append(
                    (True, _register(g, m, f"sample {ctx.attr.name} parts equal attribute {m!r}"))
                )
            elif const and roles and roles[i]:
                segs.append((False, col[0]))
                if len(values) < 2:
                    g.notes.append(
                        f"{ctx.attr.name} part {col[0]!r} read as literal text from one sample "
                        "key (a tag or descriptor by the TAG#value convention)"
                    )
            elif const and WORD.match(col[0]) and len(values) >= 2:
                segs.append((False, col[0]))
                g.notes.append(
                    f"{ctx.attr.name} part {col[0]!r} is constant in {len(values)} sample keys: read as literal text"
                )
            else:
                segs.append(None)
                why[i] = f"varying part of sample {ctx.attr.name} values"
                samples[i] = col[0]
    else:
        segs.append(None)
        why[0] = f"no sample {ctx.attr.name} values: the whole key is one slot"
    holes = [i for i, s in enumerate(segs) if s is None]
    if len(values) == 1 and len(segs) > 1 and any(s is None or s[0] for s in segs):
        ctx.diags.warning(
            "workbench-one-sample",
            f"{g.name}'s {ctx.attr.name} slots are inferred from one sample key "
            f"({values[0]!r}): which parts are data is a guess",
            ctx.attr.span,
            "add sample items to the design, or check the pinned key of the imported model",
            g.name,
        )
    fallback = [i for i in holes if not (i > 0 and segs[i - 1] and WORD.match(segs[i - 1][1]))]  # type: ignore[index]
    out: list[tuple[bool, str]] = []
    for i, seg in enumerate(segs):
        if seg is not None:
            out.append(seg)
            continue
        unnamed = False
        prev = segs[i - 1] if i > 0 else None
        if prev is not None and not prev[0] and WORD.match(prev[1]):
            name = f"{snake(singular(prev[1]))}_id"
        elif hint and len(fallback) == 1:
            name = hint
        elif ctx.role == "pk" and ctx.index == "table":
            name, unnamed = f"{snake(g.name)}_id", True
        else:
            name = f"{snake(g.name)}_{snake(ctx.attr.name)}"
        if len(fallback) > 1 and i in fallback:
            name = f"{name}_{fallback.index(i) + 1}"
        if name in g.slots or _has_attr(g, name):
            name = unique_name(name + "_key", list(g.slots))
        text = (
            why[i]
            + (f" (e.g. {samples[i]!r})" if i in samples else "")
            + "; named by guess, rename it"
        )
        out.append((True, _register(g, name, text, unnamed=unnamed)))
    return out


def _align(
    parts: list[str], facet: bool, values: list[str], ctx: _KeyCtx, span: Span | None
) -> list[tuple[bool, str]]:
    """Read an alias (`ITEMS#ItemID`, `Status#Date`) as a template, checked on sample keys."""
    g = ctx.g
    sep = g.sep
    source = f"{'facet alias' if facet else 'key attribute name'} {sep.join(parts)!r}"
    fits = [n for n, v in enumerate(values) if len(split_key(v, sep)) == len(parts)]
    if values and not fits:
        if facet or len(parts) > 1:
            ctx.diags.warning(
                "workbench-alias-shape",
                f"{source} of {g.name} has {len(parts)} {sep!r} part(s) but sample key "
                f"{values[0]!r} has {len(split_key(values[0], sep))}; inferred the template "
                "from the sample keys",
                span,
                "fix the alias in Workbench, or check the keys: template of the imported model",
                g.name,
            )
        return _from_data(values, ctx, hint=ident(parts[0]) if len(parts) == 1 else None)
    if len(fits) < len(values):  # align on the keys that fit; `_record` reports any that do not
        values = [values[n] for n in fits]
        ctx = _KeyCtx(
            ctx.table, g, ctx.attr, ctx.role, ctx.index, [ctx.rows[n] for n in fits], ctx.diags
        )
    cols: list[list[str] | None] = (
        [list(c) for c in zip(*[split_key(v, sep) for v in values], strict=True)]
        if values
        else [None] * len(parts)
    )
    out: list[tuple[bool, str]] = []
    for p, col in zip(parts, cols, strict=True):
        const = col is not None and len(set(col)) == 1
        if col is not None and const and col[0] == p:
            out.append((False, p))
        elif facet and (p == "" or UPPER_TAG.match(p)):
            if col is None or const:
                literal = col[0] if col else p
                if literal != p:
                    ctx.diags.warning(
                        "workbench-alias-mismatch",
                        f"{source} of {g.name} says {p!r} but its sample keys say {literal!r}; used {literal!r}",
                        span,
                        "the sample items are what the application writes; fix the alias if they are wrong",
                        g.name,
                    )
                out.append((False, literal))
            else:
                out.append(
                    (
                        True,
                        _register(
                            g, ident(p.lower()), f"{source}: part {p!r} varies in sample keys"
                        ),
                    )
                )
        else:
            name, why = ident(p), source + (f"; renamed from {p!r}" if ident(p) != p else "")
            if (
                col is not None
                and not _has_attr(g, name)
                and (m := _match_attr(ctx, col)) is not None
            ):
                name, why = m, f"{source}: part {p!r} equals attribute {m!r} in the sample items"
            out.append((True, _register(g, name, why)))
    return out


def _key_template(
    ctx: _KeyCtx, alias: str | None, alias_span: Span | None
) -> tuple[KeyTemplate, str]:
    g, attr = ctx.g, ctx.attr
    values = [scalar_text(g.items[i][0][attr.name]) or "" for i in ctx.rows]
    if attr.name in g.schema_values:
        text = g.schema_values[attr.name]
        parts: list[Text | Slot] = []
        for part in KeyTemplate.parse(text).parts:
            if isinstance(part, Text):
                parts.append(part)
            elif part.attribute == g.type_attr and g.type_value:
                parts.append(Text(g.type_value))
            else:
                why = f"slot of ModelSchema value {text!r}"
                parts.append(Slot(_register(g, ident(part.attribute), why)))
        template = KeyTemplate.parse(KeyTemplate(tuple(parts)).text)
        why = f"from ModelSchema value {text!r}"
    elif alias and SLOT_RE.search(alias):
        template = KeyTemplate(
            tuple(
                Slot(_register(g, ident(p.attribute), f"slot of facet alias {alias!r}"))
                if isinstance(p, Slot)
                else p
                for p in KeyTemplate.parse(alias).parts
            )
        )
        why = f"from facet alias {alias!r} (a template)"
    else:
        if alias:
            segs = _align(alias.split(g.sep), True, values, ctx, alias_span)
            why = f"from facet alias {alias!r}"
        elif not is_generic_key(attr.name):
            segs = _align(attr.name.split(g.sep), False, values, ctx, attr.span)
            why = f"from key attribute name {attr.name!r}"
        else:
            segs = _from_data(values, ctx)
            why = "from the sample keys' constant and varying parts"
        template = KeyTemplate.from_segments(segs, g.sep)
    template = _valid_template(template, ctx)
    if values:
        why += f", checked on {len(values)} sample key(s)"
    _record(ctx, template, values)
    return template, why


def _valid_template(template: KeyTemplate, ctx: _KeyCtx) -> KeyTemplate:
    """A template the loader accepts: not empty, each slot once (a repeat becomes a new slot)."""
    g = ctx.g
    if not template.parts:
        name = unique_name(f"{snake(g.name)}_{snake(ctx.attr.name)}", list(g.slots))
        why = f"sample {ctx.attr.name} values are empty, which DynamoDB rejects; one slot"
        return KeyTemplate((Slot(_register(g, name, why)),))
    seen: set[str] = set()
    parts: list[Text | Slot] = []
    for n, part in enumerate(template.parts):
        if isinstance(part, Slot) and n and isinstance(template.parts[n - 1], Slot):
            # `${a}${b}`: two slots side by side cannot be read back from a key
            ctx.diags.warning(
                "workbench-adjacent-slots",
                f"{g.name}'s {ctx.attr.name} template {template.text!r} puts two slots side by "
                f"side; the model separates them with {g.sep!r}, so keys differ from the design's",
                ctx.attr.span,
                "keep the separator (a key's parts must be readable back), or merge the two "
                "values into one attribute",
                g.name,
            )
            parts.append(Text(g.sep))
        if isinstance(part, Slot):
            name = part.attribute
            if name in seen:
                name = _register(
                    g, unique_name(f"{name}_2", list(g.slots)), f"a second {{{name}}} in one key"
                )
            seen.add(name)
            part = Slot(name)
        parts.append(part)
    return KeyTemplate(tuple(parts))


def _record(ctx: _KeyCtx, template: KeyTemplate, values: list[str]) -> None:
    """Match sample keys against the template: slot values for typing, disagreements reported."""
    g = ctx.g
    if template.single_slot is not None:
        g.slots[template.single_slot].kind = ctx.attr.type
    misfits: list[tuple[str, Span | None]] = []
    conflicts: dict[str, int] = {}
    for i, value in zip(ctx.rows, values, strict=True):
        got = template.match(value)
        if got is None:
            misfits.append((value, g.items[i][1]))
            continue
        for slot, sv in got.items():
            g.slot_values.setdefault(slot, []).append(sv)
            have = g.item_values[i].get(slot)
            if have is None:
                g.item_values[i][slot] = sv
            elif not same_value(sv, have):
                conflicts[slot] = conflicts.get(slot, 0) + 1
    if misfits:
        ctx.diags.warning(
            "workbench-key-misfit",
            f"{len(misfits)} sample {ctx.attr.name} value(s) of {g.name} do not fit the template "
            f"{template.text!r} (e.g. {misfits[0][0]!r})",
            misfits[0][1],
            "check the sample item, or pin a different template in the model",
            g.name,
        )
    for slot, n in conflicts.items():
        if slot in g.reported:
            continue
        g.reported.add(slot)
        ctx.diags.warning(
            "workbench-slot-conflict",
            f"slot {{{slot}}} of {g.name}'s {ctx.attr.name} template {template.text!r} differs from "
            f"attribute {slot!r} in {n} of {len(values)} sample item(s)",
            ctx.attr.span,
            f"if the key part is not {slot!r}, rename the slot (and add the attribute) in the model",
            g.name,
        )


def _in_index(g: Candidate, keys: WbKeySchema) -> tuple[bool, str]:
    """Does the entity project into an index (sparse GSIs hold only items with its keys)?"""
    names = keys.names
    if g.items:
        n = sum(all(k in it for k in names) for it, _ in g.items)
        if n == 0:
            pk_only = sum(keys.partition.name in it for it, _ in g.items)
            if pk_only and keys.sort is not None:
                # a pinned partition-only key on an index with a sort key (as a layout may
                # have): kept, and said, since DynamoDB indexes only items with both
                return True, (
                    f"{pk_only} of {len(g.items)} sample items carry {keys.partition.name} but "
                    f"none {keys.sort.name}: DynamoDB leaves such items out of this index"
                )
            return False, ""
        return True, (
            f"sparse: {n} of {len(g.items)} sample items carry {', '.join(names)}"
            if n < len(g.items)
            else ""
        )
    if g.whole_table:
        return True, ""
    return keys.partition.name in g.mentions, ""


def plan_keys(table: WbTable, g: Candidate, diags: Diagnostics) -> None:
    """A key plan per index the entity is in (the table, each GSI its items carry keys of)."""
    keynames = key_names(table)
    g.item_values = [
        {
            n: t
            for n, av in it.items()
            if n not in keynames and n != g.type_attr and (t := scalar_text(av)) is not None
        }
        for it, _ in g.items
    ]
    indexes = [("table", "", table.keys)] + [
        (f"gsi{n}", x.name, x.keys) for n, x in enumerate(table.indexes, 1)
    ]
    for index, wbname, ks in indexes:
        member, sparse = (True, "") if index == "table" else _in_index(g, ks)
        if not member:
            continue
        templates: list[KeyTemplate] = []
        whys: list[str] = []
        for role, attr in (("pk", ks.partition), ("sk", ks.sort)):
            if attr is None or (
                role == "sk" and g.items and not any(attr.name in it for it, _ in g.items)
            ):
                continue
            rows = [
                i for i, (it, _) in enumerate(g.items) if scalar_text(it.get(attr.name)) is not None
            ]
            alias: str | None = None
            span: Span | None = None
            if index == "table" and g.facet is not None:
                alias = g.facet.pk_alias if role == "pk" else g.facet.sk_alias
                span = g.facet.pk_alias_span if role == "pk" else g.facet.sk_alias_span
                if alias is not None and is_generic_key(alias) and alias == attr.name:
                    alias = None
            tmpl, why = _key_template(
                _KeyCtx(table, g, attr, role, index, rows, diags), alias, span
            )
            templates.append(tmpl)
            whys.append(f"{role} {why}")
        label = f"Workbench GSI {wbname!r}: " if wbname else ""
        note = label + "; ".join(whys) + (f"; {sparse}" if sparse else "")
        if any(a is not None and a.type != "S" for a in (ks.partition, ks.sort)):
            note += (
                "; the Workbench key is typed "
                + "/".join(a.type for a in (ks.partition, ks.sort) if a)
                + ", model keys are string templates"
            )
        g.keys.append(
            KeyPlan(index, wbname, templates[0], templates[1] if len(templates) > 1 else None, note)
        )


def rename_owned(table: WbTable, groups: list[Candidate]) -> None:
    """Items in another entity's partition take that entity's id slot (`rate` under `hotel_id`).

    An *owner* has a partition key that is one guessed slot and a constant sort key (the
    metadata item of an item collection); an entity whose partition values all occur among an
    owner's shares the owner's slot name, which says what the partition key really is.
    """

    def pk_slot(g: Candidate) -> str | None:
        kp = next((k for k in g.keys if k.index == "table"), None)
        s = kp.pk.single_slot if kp is not None else None
        return s if s is not None and g.slots[s].unnamed else None

    def is_owner(g: Candidate) -> bool:
        s = pk_slot(g)
        kp = next(k for k in g.keys if k.index == "table")
        return s is not None and (kp.sk is None or set(kp.sk.slots) <= {s})

    owners = [g for g in groups if is_owner(g)]
    for g in groups:
        s = pk_slot(g)
        if s is None or g in owners or not g.slot_values.get(s):
            continue
        for o in owners:
            os = pk_slot(o)
            assert os is not None
            if set(g.slot_values[s]) <= set(o.slot_values.get(os, [])) and os not in g.slots:
                g.keys = [
                    KeyPlan(
                        k.index,
                        k.wb_index,
                        k.pk.renamed(s, os),
                        k.sk.renamed(s, os) if k.sk else None,
                        k.note,
                    )
                    for k in g.keys
                ]
                slot = g.slots.pop(s)
                g.slots[os] = SlotGuess(
                    os,
                    slot.why
                    + f"; the same values as {o.name}.{os}: the items live in {o.name}'s partition",
                    slot.existing,
                    False,
                    slot.kind,
                )
                g.slot_values[os] = g.slot_values.pop(s)
                for iv in g.item_values:
                    if s in iv:
                        iv[os] = iv.pop(s)
                break


def _kinds(e: EntityPlan) -> dict[str, str]:
    return {a.name: a.type for a in e.attributes.values()}


def _may_equal(
    a: KeyTemplate, b: KeyTemplate, kinds_a: dict[str, str], kinds_b: dict[str, str]
) -> bool:
    """Can the two templates render the same key? The compiler's own, type-aware answer (a
    string slot never renders a bare separator, an integer slot only digits)."""
    return may_coincide(a.text, b.text, kinds_a, kinds_b)


def unpin_colliding(entities: list[EntityPlan], diags: Diagnostics, table: WbTable) -> None:
    """Drop an observed table key that can equal an earlier entity's: the compiler derives one.

    Workbench designs often tell entity types apart only by a `type` attribute (`H1`/`A` for a
    hotel, `C1`/`A` for a customer); pinned as is, two entities could write the same key, which
    the compiler rightly rejects. The first entity keeps its observed key; later ones lose the
    pin (their slots, identity and patterns stay), and the YAML says so.
    """
    kept: list[tuple[str, KeyPlan, dict[str, str]]] = []
    for e in entities:
        tk = next((k for k in e.keys if k.index == "table"), None)
        if tk is None:
            continue
        kinds = _kinds(e)
        clash = next(
            (
                name
                for name, k, kk in kept
                if _may_equal(k.pk, tk.pk, kk, kinds)
                and (k.sk is None or tk.sk is None or _may_equal(k.sk, tk.sk, kk, kinds))
            ),
            None,
        )
        if clash is None:
            kept.append((e.name, tk, kinds))
            continue
        e.keys = [k for k in e.keys if k.index != "table"]
        e.unpinned.append(tk)  # still what the patterns are suggested from
        shown = tk.pk.text + (f" / {tk.sk.text}" if tk.sk else "")
        e.notes.append(
            f"observed table key {shown} is not pinned: no literal part tells it from {clash}'s, "
            "so the compiler derives this entity's table key"
        )
        diags.warning(
            "workbench-key-unpinned",
            f"{e.name}'s observed table key {shown!r} can equal {clash}'s; left for the compiler to derive",
            table.span,
            "pin a key with a literal prefix of its own (e.g. "
            + f"{e.name.upper()}#...) if the application must keep a given layout",
            e.name,
        )

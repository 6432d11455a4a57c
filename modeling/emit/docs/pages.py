"""Every page of one model: `model_pages(model, layout)` -> {relpath: text}, and `diagrams.md`."""

from __future__ import annotations

from collections.abc import Mapping

from modeling.core.ir import Layout, Model
from modeling.emit import diagrams as dg
from modeling.emit.cost_report import cost_lines
from modeling.emit.docs.entities import entity_page
from modeling.emit.docs.indexes import indexes_page
from modeling.emit.docs.markdown import WIDE, diagram_block, header, join_parts, text
from modeling.emit.docs.overview import overview_page
from modeling.emit.docs.patterns import access_patterns_page
from modeling.emit.docs.runbook import runbook_page
from modeling.emit.docs.samples import Sample, make_sample


def diagrams_page(model: Model, svgs: Mapping[str, str] | None) -> str:
    """All three diagrams inline, each with links to its DOT source and SVG file."""
    titles = {
        "er": (
            "Entity–relationship",
            "Entities with their attributes (bold: key, `?`: optional). Dashed edges are "
            "`references` (foreign keys); bold edges with a diamond point to the `parent`.",
        ),
        "key-layout": (
            "Key layout",
            "Each box is an item collection: the items that share a partition-key template "
            "on one index, with each member's sort key. Entities on the left point to every "
            "collection they are written into.",
        ),
        "access-patterns": (
            "Access-pattern map",
            "Every access pattern and the index that serves it, labelled with the shape of "
            "its key condition.",
        ),
    }
    out = [WIDE, header(model), f"# Diagrams: {text(model.name)}\n"]
    for stem in dg.DIAGRAMS:
        title, about = titles[stem]
        out.append(f"\n## {title} {{#{stem}}}\n")
        out.append(about + "\n")
        if svgs is not None and stem in svgs:
            out.append(diagram_block(svgs[stem], stem))
        out.append(
            f"\nSources: [{stem}.dot](diagrams/{stem}.dot) · [{stem}.svg](diagrams/{stem}.svg)\n"
        )
    return "".join(join_parts(out))


def cost_page(model: Model, layout: Layout) -> str:
    """`cost.md`: capacity and monthly cost (the section layout.md has)."""
    body = "\n".join(cost_lines(model, layout, "#"))
    return header(model) + body.replace(
        "# Capacity and cost", f"# Capacity and cost: {text(model.name)}", 1
    )


def model_pages(
    model: Model, layout: Layout, *, render: bool = True, sample: Sample | None = None
) -> dict[str, str]:
    """Every page and diagram file of one model, relative to the model's folder.

    With `render=False` no SVG is produced (no `dot` binary needed): pages then link to the
    DOT sources only. Deterministic: the same model and layout give the same texts.
    """
    sample = sample if sample is not None else make_sample(model, layout)
    graphs = dg.diagrams(model, layout)
    files: dict[str, str] = {}
    svgs: dict[str, str] | None = {} if render else None
    for stem, graph in graphs.items():
        dot = dg.to_dot(graph)
        files[f"diagrams/{stem}.dot"] = dot
        if svgs is not None:
            svgs[stem] = dg.render_svg(dot)
            files[f"diagrams/{stem}.svg"] = svgs[stem]
    files["index.md"] = overview_page(model, layout, svgs.get("er") if svgs else None)
    files["diagrams.md"] = diagrams_page(model, svgs)
    files["access-patterns.md"] = access_patterns_page(model, layout, sample)
    files["indexes.md"] = indexes_page(model, layout, sample)
    files["runbook.md"] = runbook_page(model, layout)
    files["cost.md"] = cost_page(model, layout)
    for entity in model.entities:
        files[f"entities/{entity.name}.md"] = entity_page(model, layout, entity, sample)
    return dict(sorted(files.items()))

"""The built guide in a real browser: headless Chromium loads the pages from 127.0.0.1 with
every other host unresolvable, and the DOM it ends up with must hold the inline SVG diagrams
(with every entity name) and the access-pattern table rows. Screenshots are kept as test
artifacts under test-artifacts/docs/."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from docs_dom import Element, parse
from docs_support import ARTIFACTS, Browser

from modeling.core.ir import Layout, Model

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _svg_text(page: Element, diagram: str) -> str:
    holder = page.by_id(f"diagram-{diagram}")
    assert holder is not None, f"no #diagram-{diagram} on the page"
    svgs = list(holder.iter("svg"))
    assert len(svgs) == 1, f"#diagram-{diagram} holds {len(svgs)} <svg>"
    texts = [t.text() for t in svgs[0].iter("text")]
    assert texts, "the SVG has no <text>: not a rendered Graphviz diagram"
    return "\n".join(texts)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _pattern_rows(page: Element) -> dict[str, Element]:
    """Table rows whose first cell links to a pattern section, by the link's text."""
    rows = {}
    for tr in page.iter("tr"):
        cells = list(tr.iter("td"))
        if not cells:
            continue
        links = list(cells[0].iter("a"))
        if links and "access-patterns/#" in links[0].attrs.get("href", ""):
            rows[links[0].text().strip()] = tr
    return rows


@pytest.mark.parametrize("index", [0, 1, 2])
def test_model_overview_in_browser(
    index: int,
    compiled_examples: list[tuple[Model, Layout]],
    served_guide: str,
    browser: Browser,
) -> None:
    if index >= len(compiled_examples):
        pytest.skip("fewer example models")
    model, layout = compiled_examples[index]
    url = f"{served_guide}models/{model.name}/"
    page = parse(browser.dump_dom(url))
    title = next(page.iter("h1")).text()
    assert model.name in title
    er = _svg_text(page, "er")
    for entity in model.entities:
        assert entity.name in er, f"{entity.name} missing from the ER diagram"
    rows = _pattern_rows(page)
    assert set(rows) == {p.name for p in model.patterns}
    for p in model.patterns:
        plan = layout.plan(p.name)
        assert plan is not None
        cells = [td.text() for td in rows[p.name].iter("td")]
        assert plan.index in cells, f"{p.name}: index {plan.index} not in its row {cells}"
    shot = browser.screenshot(url, ARTIFACTS / f"{model.name}-overview.png")
    assert _png_size(shot) == (1400, 2000)


def test_diagrams_page_in_browser(
    compiled_examples: list[tuple[Model, Layout]], served_guide: str, browser: Browser
) -> None:
    model, layout = compiled_examples[0]
    url = f"{served_guide}models/{model.name}/diagrams/"
    page = parse(browser.dump_dom(url))
    er = _svg_text(page, "er")
    key_layout = _svg_text(page, "key-layout")
    patterns = _svg_text(page, "access-patterns")
    for entity in model.entities:
        assert entity.name in er
        assert entity.name in key_layout
    for p in model.patterns:
        assert p.name in patterns
    for index in {plan.index for plan in layout.plans}:
        assert index in patterns
    shot = browser.screenshot(url, ARTIFACTS / f"{model.name}-diagrams.png", "1400,3000")
    assert _png_size(shot) == (1400, 3000)


def test_access_pattern_matrix_in_browser(
    compiled_examples: list[tuple[Model, Layout]], served_guide: str, browser: Browser
) -> None:
    model, layout = compiled_examples[0]
    url = f"{served_guide}models/{model.name}/access-patterns/"
    page = parse(browser.dump_dom(url))
    matrix = next(page.iter("table"))
    header = [th.text().strip() for th in matrix.iter("th")]
    assert header[:3] == ["pattern", "index", "key condition"]
    body = [tr for tr in matrix.iter("tr") if list(tr.iter("td"))]
    assert len(body) == len(model.patterns)
    for tr, p in zip(body, model.patterns, strict=True):
        cells = [td.text() for td in tr.iter("td")]
        assert cells[0].startswith(p.name)
        plan = layout.plan(p.name)
        assert plan is not None and plan.index in cells[1]
    browser.screenshot(url, ARTIFACTS / f"{model.name}-access-patterns.png")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_sample_items_are_readable_in_browser(
    index: int,
    compiled_examples: list[tuple[Model, Layout]],
    served_guide: str,
    browser: Browser,
) -> None:
    """Every entity page's sample item, as the browser shows it: the values a reviewer reads
    are names, emails, amounts and recent dates, not the verifier's adversarial data."""
    if index >= len(compiled_examples):
        pytest.skip("fewer example models")
    model, _ = compiled_examples[index]
    shown = 0
    for entity in model.entities:
        url = f"{served_guide}models/{model.name}/entities/{entity.name}/"
        page = parse(browser.dump_dom(url))
        blocks = [c.text() for c in page.iter("code") if '"_type"' in c.text()]
        assert len(blocks) == 1, f"{entity.name}: {len(blocks)} sample item blocks"
        item = json.loads(blocks[0])
        assert item["_type"] == {"S": entity.name}
        for name, av in item.items():
            ((tag, value),) = av.items()
            attribute = entity.attribute(name)
            if attribute is None:  # a key attribute (PK, GSI1SK, ...): built by the codec
                continue
            where = f"{model.name}.{entity.name}.{name} = {value!r}"
            if tag == "S" and attribute.enum is None:
                assert _READABLE.match(value), where
            if tag == "N":
                assert abs(float(value)) < 10**10, where  # epoch seconds (TTL) included
            shown += 1
        if entity is model.entities[0]:
            browser.screenshot(
                url, ARTIFACTS / f"{model.name}-{entity.name}-sample.png", "1400,3600"
            )
    assert shown > 0


# what the docs' sample strings may hold: words, numbers, emails, URLs, ISO datetimes and
# UUIDs; never the verifier's separators inside values, astral characters or U+FFFF
_READABLE = re.compile(r"^[A-Za-z0-9À-ÿ .,:;@/+\-_'()]*$")

"""`key-not-identity` (issue 18, item 2): the table key must be injective on the entity's `key:`.

A pinned key without the row's identity compiled before, and `migrate run` then wrote 2 items
for 187 rows with exit 0. Now compile refuses, with a hint.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modeling.compile import compile_model

from .builder import entity, model, pattern

REPO = Path(__file__).resolve().parents[2]
CART = {"cart_id": "integer", "status": "string", "code": "string", "n": "integer"}


def _errors(keys: dict[str, dict[str, str]], key: list[str] | None = None) -> list[str]:
    m = model(
        "shop",
        [entity("Cart", key or ["cart_id"], CART, keys=keys)],
        [pattern("carts_by_status", "Cart", {"status": "="})],
    )
    _layout, bag = compile_model(m)
    return [d.message for d in bag.errors if d.code == "key-not-identity"]


def test_a_pinned_table_key_without_the_identity_is_refused() -> None:
    (message,) = _errors({"table": {"pk": "CART#{status}", "sk": "CART"}})
    assert "Cart" in message and "cart_id" in message and "replace" in message


def test_the_hint_names_the_missing_attributes() -> None:
    m = model(
        "shop",
        [entity("Cart", ["cart_id"], CART, keys={"table": {"pk": "CART#{status}", "sk": "CART"}})],
        [],
    )
    _layout, bag = compile_model(m)
    (d,) = [d for d in bag.errors if d.code == "key-not-identity"]
    assert d.hint is not None and "{cart_id}" in d.hint


def test_a_composite_key_needs_every_attribute() -> None:
    assert _errors({"table": {"pk": "CART#{cart_id}", "sk": "CART"}}, ["cart_id", "n"])
    assert not _errors({"table": {"pk": "CART#{cart_id}", "sk": "N#{n}"}}, ["cart_id", "n"])


def test_ambiguous_slot_ends_are_refused() -> None:
    # `{code}X{n}`: a string slot followed by text its encoding may hold
    assert _errors({"table": {"pk": "CART#{cart_id}", "sk": "C#{code}X{status}"}}, ["cart_id", "code", "status"])  # fmt: skip
    # `#` after a string slot, or a fixed-width slot before any text: readable
    assert not _errors({"table": {"pk": "CART#{cart_id}", "sk": "C#{code}#{status}"}}, ["cart_id", "code", "status"])  # fmt: skip
    assert not _errors({"table": {"pk": "CART#{cart_id}X{code}", "sk": "C"}}, ["cart_id", "code"])


def test_derived_keys_and_the_example_models_hold_their_identity() -> None:
    assert not _errors({})
    from modeling.api import load_model

    for path in sorted((REPO / "models").glob("*.yaml")):
        layout, bag = compile_model(load_model(path))
        assert layout is not None and not [d for d in bag.errors], path


def test_compile_cli_refuses_the_cart_model(tmp_path: Path) -> None:
    path = tmp_path / "cart.yaml"
    path.write_text(
        "model: cart\ntable: {name: Carts}\nentities:\n  Cart:\n    table: carts\n"
        "    key: [cart_id]\n    keys:\n      table: {pk: 'CART#{status}', sk: CART}\n"
        "    attributes:\n      cart_id: integer\n      status: string\n"
        "access_patterns:\n  get_cart:\n    entity: Cart\n    where: {status: '='}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "modeling.cli", "compile", str(path), "-o", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[key-not-identity]" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()

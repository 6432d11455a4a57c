"""The diagnostic-code registry (modeling/core/codes.py) is exactly the set of codes emitted.

`code_scan` reads the package source for every emission site (see its docstring); these tests
fail when a code is emitted that the registry lacks, when the registry lists a code nothing
emits, and when an emission site passes a code the scan cannot resolve to literals.
"""

from __future__ import annotations

import ast
import re
import textwrap

import pytest
from code_scan import Scan, scan

from modeling.core import codes
from modeling.core.codes import CODES, REGISTRY, Code, Group
from modeling.core.diagnostics import Diagnostic, Diagnostics, Severity
from modeling.pg.db import read_db


@pytest.fixture(scope="module")
def emitted() -> Scan:
    return scan()


def test_every_emission_site_passes_a_resolvable_code(emitted: Scan) -> None:
    assert emitted.unresolved == [], "\n".join(map(str, emitted.unresolved))


def test_every_emitted_code_is_registered(emitted: Scan) -> None:
    missing = {
        c: [str(s) for s in sites] for c, sites in emitted.codes.items() if c not in REGISTRY
    }
    assert missing == {}


def test_every_registered_code_is_emitted(emitted: Scan) -> None:
    assert set(REGISTRY) - set(emitted.codes) == set()


def test_the_scan_sees_the_known_emission_paths(emitted: Scan) -> None:
    """One code per path, so a scan that silently stopped seeing a path fails here."""
    paths = {
        "yaml-syntax": "modeling/spec/loader.py",  # diags.error("...")
        "unknown-key": "modeling/spec/structure.py",  # Problem("...") record
        "sql-or": "modeling/spec/sql_patterns.py",  # self._fail -> self.issue -> SqlIssue
        "enum-type": "modeling/spec/checks.py",  # Checker.error forwarder
        "key-collision": "modeling/compile/checks.py",  # Diagnostic("...", ...)
        "unkeyable-type": "modeling/compile/requirements.py",  # _error("...") helper
        "SEED001": "modeling/pg/ddl.py",  # self.diags.warning
        "import-exists": "modeling/commands/import_.py",
    }
    for c, file in paths.items():
        assert any(s.file == file for s in emitted.codes.get(c, [])), (c, file)
    assert "workbench-format" in emitted.codes  # a forwarder's default code


def test_registry_is_typed_and_consistent() -> None:
    assert len(REGISTRY) == len(CODES) >= 90
    for name, entry in REGISTRY.items():
        assert isinstance(entry, Code) and entry.name == name
        assert isinstance(entry.group, Group)
        assert re.fullmatch(r"[a-z][a-z0-9-]*|SEED\d{3}", name), name
        assert entry.meaning and "\n" not in entry.meaning and entry.meaning.endswith(".")
        assert CODES[name] == entry.meaning == codes.describe(name)
    grouped = codes.groups()
    assert sorted(c for g in grouped.values() for c in g) == sorted(REGISTRY)
    assert list(grouped) == [g.value for g in Group if any(c.group is g for c in REGISTRY.values())]


def test_one_code_one_meaning_an_unreadable_database_is_seed015() -> None:
    """SEED030 meant both "a foreign key names its parent's key differently" (info) and "cannot
    read the database" (error); the database error is SEED015 now."""
    _, diags = read_db("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert [(d.code, d.severity) for d in diags] == [("SEED015", Severity.ERROR)]
    assert REGISTRY["SEED015"].group is Group.SEED


def test_strict_mode_refuses_an_unregistered_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELING_STRICT_CODES", "1")
    with pytest.raises(AssertionError, match="not-a-code"):
        Diagnostics().error("not-a-code", "message")
    with pytest.raises(AssertionError):
        Diagnostic("not-a-code", Severity.WARNING, "message")
    Diagnostics().error("unknown-key", "message")  # a registered code passes


def test_without_strict_mode_an_unregistered_code_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MODELING_STRICT_CODES", raising=False)
    bag = Diagnostics()
    bag.error("not-a-code", "message")
    assert [d.code for d in bag] == ["not-a-code"]


def test_scan_fails_on_a_computed_code(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan itself: a code built at run time is unresolved; literals, conditionals,
    forwarders (with defaults) and code records resolve."""
    import code_scan

    source = textwrap.dedent(
        """
        from dataclasses import dataclass

        @dataclass
        class Issue:
            where: int
            code: str

        class R:
            def error(self, path, message, code="fwd-default"):
                self.diags.error(code, message)

        def helper(diags, code, message):
            diags.warning(code, message)

        def f(diags, r: R, name):
            diags.error("lit-a", "m")
            diags.info("lit-b" if name else "lit-c", "m")
            helper(diags, "via-helper", "m")
            r.error((), "m")
            r.error((), "m", "fwd-given")
            Issue(1, "record-code")
            kind = "local-lit"
            diags.error(kind, "m")
            diags.error(f"computed-{name}", "m")
            log.warning("%s not a code", name)
            self.logger.info("%s not a code either", name)
        """
    )
    trees = [("fake.py", ast.parse(source))]
    monkeypatch.setattr(code_scan, "_sources", lambda: trees)
    result = code_scan.scan()
    assert set(result.codes) == {
        "lit-a", "lit-b", "lit-c", "via-helper", "fwd-default", "fwd-given", "record-code",
        "local-lit",
    }  # fmt: skip
    assert [s.text.split("(")[0] for s in result.unresolved] == ["diags.error"]
    assert "computed-" in result.unresolved[0].text

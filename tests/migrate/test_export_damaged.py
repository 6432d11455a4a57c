"""A damaged export (issue 18): `export_items` / `load_export` read a manifest and part files
that an operator may have truncated, deleted, edited or copied half-way. Each damage is a
MigrationError naming the file (and line) with a hint, never a traceback, and nothing is
loaded from an export whose files do not all match the manifest."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from modeling.migrate import export as ex
from modeling.migrate.errors import MigrationError
from modeling.migrate.sink import Sink


def _export(root: Path, files: int = 3, per_file: int = 40) -> list[ex.DataFile]:
    """A small valid export: `files` parts of `per_file` items, and its manifest."""
    written: list[ex.DataFile] = []
    (root / "data").mkdir(parents=True)
    for f in range(files):
        lines = b"".join(
            ex.item_line({"PK": {"S": f"k{f}-{i}"}, "v": {"B": bytes([i])}})
            for i in range(per_file)
        )
        _put_part(root, f"data/part-{f:06d}.json.gz", lines, written, items=per_file)
    _manifest(root, written)
    return written


def _put_part(root: Path, name: str, lines: bytes, written: list[ex.DataFile], items: int) -> None:
    data = gzip.compress(lines, mtime=0)
    (root / name).write_bytes(data)
    written.append(
        ex.DataFile(name, items, len(data), len(lines), hashlib.sha256(data).hexdigest())
    )


def _manifest(root: Path, files: list[ex.DataFile]) -> None:
    report = ex.ExportReport("m", "T", 5, "0" * 64, files=files)
    (root / ex.MANIFEST).write_text(json.dumps(report.manifest()))


class _Client:
    def __init__(self) -> None:
        self.items = 0

    def batch_write_item(self, RequestItems: Any) -> Any:
        self.items += sum(len(r) for r in RequestItems.values())
        return {}


def _load(root: Path) -> tuple[_Client, ex.LoadReport | MigrationError]:
    client = _Client()
    sink = Sink(client, "T", ("PK",), lambda item: len(json.dumps(item, default=str)))
    try:
        return client, ex.load_export(root, sink, batch=7)
    except MigrationError as exc:
        return client, exc


def _refused(root: Path, *expected: str) -> MigrationError:
    client, result = _load(root)
    assert isinstance(result, MigrationError), f"loaded {result}"
    for text in expected:
        assert text in str(result), str(result)
    assert result.hint, str(result)
    assert client.items == 0, "items were loaded from a damaged export"
    return result


def test_a_whole_export_loads(tmp_path: Path) -> None:
    _export(tmp_path)
    client, report = _load(tmp_path)
    assert isinstance(report, ex.LoadReport)
    assert (report.files, report.items, client.items) == (3, 120, 120)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "not valid JSON"),
        ('{"export_version": 1, "files": [{"fi', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ("[]", "not a JSON object"),
    ],
)
def test_a_corrupt_manifest_is_named(tmp_path: Path, text: str, expected: str) -> None:
    _export(tmp_path)
    (tmp_path / ex.MANIFEST).write_text(text)
    _refused(tmp_path, str(tmp_path / ex.MANIFEST), expected)


def test_a_manifest_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    _export(tmp_path)
    (tmp_path / ex.MANIFEST).write_bytes(b"\xff\xfe{}")
    _refused(tmp_path, str(tmp_path / ex.MANIFEST), "not UTF-8")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m.pop("files"), "missing 'files'"),
        (lambda m: m.update(files={"a": 1}), "files must be a list"),
        (lambda m: m["files"][1].pop("sha256"), "missing 'sha256'"),
        (lambda m: m["files"][0].update(items=-1), "items must be a non-negative integer"),
        (lambda m: m["files"][0].update(items="40"), "items must be a non-negative integer"),
        (lambda m: m["files"][0].update(sha256="abc"), "not 64 hex digits"),
        (lambda m: m["files"][2].update(file="../../etc/passwd"), "not a plain path"),
        (lambda m: m["files"][2].update(file="/etc/passwd"), "not a plain path"),
        (lambda m: m["files"][2].update(file=None), "must be a relative path"),
        (lambda m: m["files"].append("data/part-000009.json.gz"), "not an object"),
    ],
)
def test_a_malformed_manifest_is_named(tmp_path: Path, edit: Any, expected: str) -> None:
    _export(tmp_path)
    path = tmp_path / ex.MANIFEST
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    _refused(tmp_path, str(path), "malformed export manifest", expected)


def test_a_missing_part_is_refused_before_anything_is_loaded(tmp_path: Path) -> None:
    files = _export(tmp_path)
    (tmp_path / files[2].file).unlink()  # the last one: the first two must not be loaded
    _refused(tmp_path, str(tmp_path / files[2].file), "does not exist")


def test_a_part_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    files = _export(tmp_path)
    part = tmp_path / files[1].file
    part.unlink()
    part.mkdir()
    _refused(tmp_path, str(part), "not a regular file")


def test_a_truncated_part_is_a_checksum_error_before_anything_is_loaded(tmp_path: Path) -> None:
    files = _export(tmp_path)
    part = tmp_path / files[2].file
    part.write_bytes(part.read_bytes()[:-20])
    _refused(tmp_path, str(part), "checksum does not match the manifest")


def test_a_wrong_hash_in_the_manifest_is_refused(tmp_path: Path) -> None:
    files = _export(tmp_path)
    files[1].sha256 = "f" * 64
    _manifest(tmp_path, files)
    _refused(tmp_path, str(tmp_path / files[1].file), "checksum does not match the manifest")


def _damaged_part(tmp_path: Path, data: bytes, items: int = 2) -> Path:
    """An export whose last part holds `data` (a gzip stream, possibly broken) and whose
    manifest matches those bytes: damage the writer made, not a later edit."""
    files = _export(tmp_path, files=2)
    name = "data/part-000002.json.gz"
    (tmp_path / name).write_bytes(data)
    files.append(ex.DataFile(name, items, len(data), 0, hashlib.sha256(data).hexdigest()))
    _manifest(tmp_path, files)
    return tmp_path / name


def test_a_truncated_gzip_stream_is_named(tmp_path: Path) -> None:
    whole = gzip.compress(ex.item_line({"PK": {"S": "a"}}) * 500, mtime=0)
    part = _damaged_part(tmp_path, whole[: len(whole) // 2])
    _refused(tmp_path, str(part), "gzip")


def test_a_part_that_is_not_gzip_is_named(tmp_path: Path) -> None:
    part = _damaged_part(tmp_path, b'{"Item": {"PK": {"S": "a"}}}\n')
    _refused(tmp_path, str(part), "gzip")


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        (b'{"Item": {"PK": {"S": "a"}}}\n{"Item": {"PK": {"S": "b"', ":2: "),
        (b'{"Item": {"PK": {"S": "a"}}}\n{"Item": {"PK": {"L": 5}}}\n', ":2: "),
        (b'{"Item": {"PK": {"M": [1]}}}\n', ":1: "),
        (b'{"Item": {"PK": {"B": "not base64!"}}}\n', ":1: "),
        (b"\xff\xfe\n", ":1: "),
        (b'{"Item": {"PK": ' + b'{"L": [' * 5_000 + b"\n", ":1: "),
    ],
)
def test_a_garbled_line_is_named_by_file_and_line(tmp_path: Path, lines: bytes, where: str) -> None:
    part = _damaged_part(tmp_path, gzip.compress(lines, mtime=0))
    error = _refused(tmp_path, f"{part}{where}")
    assert "re-run `model migrate export`" in str(error.hint)


def test_a_part_with_fewer_items_than_the_manifest_says_is_named(tmp_path: Path) -> None:
    lines = ex.item_line({"PK": {"S": "a"}}) + ex.item_line({"PK": {"S": "b"}})
    part = _damaged_part(tmp_path, gzip.compress(lines, mtime=0), items=3)
    _refused(tmp_path, str(part), "2 items, the manifest says 3")

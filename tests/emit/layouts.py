"""Hand-built models and layouts for the artifact emitters (no compiler needed).

`small()` is the golden-file layout; `variants()` covers every CloudFormation shape
(on-demand, provisioned + auto scaling, stream, TTL, LSI, INCLUDE and KEYS_ONLY
projections, a Number key, a table without a sort key).
"""

from __future__ import annotations

import dataclasses

from modeling.core import ir


def attr(name: str, type_: str, column: str | None = None, **kw: object) -> ir.Attribute:
    return ir.Attribute(name, ir.TypeRef.parse(type_), column=column, **kw)  # type: ignore[arg-type]


def index(
    name: str,
    kind: str,
    pk: str,
    sk: str | None = None,
    projection: str = "ALL",
    non_key: tuple[str, ...] = (),
    pk_type: str = "S",
    sk_type: str = "S",
) -> ir.Index:
    return ir.Index(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        pk=ir.KeyAttribute(pk, pk_type),  # type: ignore[arg-type]
        sk=ir.KeyAttribute(sk, sk_type) if sk else None,  # type: ignore[arg-type]
        projection=projection,  # type: ignore[arg-type]
        non_key_attributes=non_key,
        alias=name.lower(),
    )


def small_model(**table: object) -> ir.Model:
    """A shop: Customer 1:N Order; orders by status and date on a GSI, by total on an LSI."""
    customer = ir.Entity(
        name="Customer",
        table="customers",
        schema="shop",
        key=("customer_id",),
        attributes=(
            attr("customer_id", "uuid"),
            attr("email", "string"),
            attr("name", "string", column="full_name"),
            attr("joined_at", "datetime"),
        ),
    )
    order = ir.Entity(
        name="Order",
        table="orders",
        schema="shop",
        key=("customer_id", "order_no"),
        parent="Customer",
        attributes=(
            attr("customer_id", "uuid"),
            attr("order_no", "integer"),
            attr("status", "string", enum=("open", "paid", "shipped")),
            attr("placed_on", "date"),
            attr("total", "decimal"),
            attr("lines", "list<map>"),
            attr("coupon", "string", required=False),
        ),
    )
    settings = ir.TableSettings(name="Shop", tags=(("team", "orders"), ("cost-center", "42")))
    if table:
        settings = dataclasses.replace(settings, **table)  # type: ignore[arg-type]
    return ir.Model(
        name="shop",
        table=settings,
        entities=(customer, order),
        patterns=(),
        file="models/shop.yaml",
        sha256="0" * 64,
    )


def small_layout(lsi: bool = True, gsi_projection: str = "ALL") -> ir.Layout:
    indexes = [
        index("table", "table", "PK", "SK"),
        index(
            "GSI1",
            "gsi",
            "GSI1PK",
            "GSI1SK",
            projection=gsi_projection,
            non_key=("_type", "total") if gsi_projection == "INCLUDE" else (),
        ),
        index("GSI2", "gsi", "GSI2PK", "GSI2SK"),
    ]
    if lsi:
        indexes.append(index("LSI1", "lsi", "PK", "LSI1SK", projection="KEYS_ONLY"))
    order_keys = [
        ir.EntityKey("table", "CUSTOMER#{customer_id}", "ORDER#{order_no}"),
        ir.EntityKey("GSI1", "STATUS#{status}", "ORDER#{placed_on}#{order_no}"),
        ir.EntityKey("GSI2", "COUPON#{coupon}", "ORDER", sparse=True, sparse_on=("coupon",)),
    ]
    if lsi:
        order_keys.append(ir.EntityKey("LSI1", "CUSTOMER#{customer_id}", "TOTAL#{total}"))
    return ir.Layout(
        model="shop",
        table_name="Shop",
        indexes=tuple(indexes),
        entities=(
            ir.EntityLayout(
                "Customer",
                "Customer",
                (
                    ir.EntityKey("table", "CUSTOMER#{customer_id}", "CUSTOMER"),
                    ir.EntityKey("GSI2", "EMAIL#{email}", "CUSTOMER"),
                ),
            ),
            ir.EntityLayout("Order", "Order", tuple(order_keys)),
        ),
        plans=(),
    )


def hash_only_layout() -> ir.Layout:
    """A table with only a partition key (a Number) and a KEYS_ONLY GSI."""
    return ir.Layout(
        model="shop",
        table_name="Shop.hash-only",
        indexes=(
            index("table", "table", "id", pk_type="N"),
            index("by_email", "gsi", "email_key", projection="KEYS_ONLY"),
        ),
        entities=(),
        plans=(),
    )


def variants() -> dict[str, tuple[ir.Layout, ir.Model]]:
    """name → (layout, model) covering every template shape."""
    provisioned = ir.Billing("provisioned", read=5, write=3)
    return {
        "on_demand_minimal": (
            small_layout(lsi=False),
            small_model(pitr=False, deletion_protection=False, tags=()),
        ),
        "provisioned_autoscaling": (small_layout(), small_model(billing=provisioned)),
        "stream_ttl_lsi": (
            small_layout(),
            small_model(stream="new_and_old_images", ttl="expires_at"),
        ),
        "include_projection": (
            small_layout(gsi_projection="INCLUDE"),
            small_model(stream="keys_only", billing=provisioned),
        ),
        "hash_only_number_key": (hash_only_layout(), small_model(stream="new_image")),
    }

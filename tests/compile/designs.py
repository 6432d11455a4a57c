"""Classic published single-table designs, encoded as models, with their published GSI count.

- DeBrie, "The DynamoDB Book", ch. 19 (e-commerce: Customer / Order / OrderItem): 1 GSI.
- DeBrie, ch. 21 (GitHub: Repo / Issue / PullRequest / Fork / Star / User / Organization):
  the book's design uses 3 GSIs (plus a fourth for app installations, not modelled here).
- AWS "Overloading global secondary indexes" / HR example, cross-entity variant: Employee,
  Warehouse, Order, Product lookups by name/date/status, one overloaded GSI1 in the
  published table. (The published table also stores several items per employee to serve
  several lookups of one employee from one GSI; we model one item per entity, so the
  per-employee lookups beyond one are not part of this comparison.)
- Catalog (the DSL example): Product / Variant / Brand, hand-made with 2 GSIs.
"""

from __future__ import annotations

from modeling.core import ir

from .builder import entity, model, pattern


def ecommerce() -> tuple[ir.Model, int]:
    return model(
        "ecommerce",
        [
            entity(
                "Customer",
                ["username"],
                {"username": "string", "email": "string", "name": "string"},
            ),
            entity(
                "Order",
                ["order_id"],
                {
                    "order_id": "string",
                    "username": {"type": "string", "references": "Customer"},
                    "status": {"type": "string", "enum": ["placed", "shipped", "delivered"]},
                    "created_at": "datetime",
                },
                parent="Customer",
            ),
            entity(
                "OrderItem",
                ["order_id", "item_id"],
                {
                    "order_id": {"type": "string", "references": "Order"},
                    "item_id": "string",
                    "price": "decimal",
                    "quantity": "integer",
                },
                parent="Order",
            ),
        ],
        [
            pattern("get_customer", "Customer", {"username": "="}, unique=True),
            pattern(
                "customer_with_orders",
                ["Customer", "Order"],
                {"username": "="},
                order="desc",
                limit=10,
            ),
            pattern("order_with_items", ["Order", "OrderItem"], {"order_id": "="}),
            pattern("get_order", "Order", {"order_id": "="}, unique=True),
        ],
    ), 1


def github() -> tuple[ir.Model, int]:
    repo_key = {"owner": "string", "repo_name": "string"}
    return model(
        "github",
        [
            entity(
                "Account",
                ["owner"],
                {"owner": "string", "kind": {"type": "string", "enum": ["user", "org"]}},
            ),
            entity(
                "Repo",
                ["owner", "repo_name"],
                {**repo_key, "description": "string", "updated_at": "datetime"},
                parent="Account",
            ),
            entity(
                "Issue",
                ["owner", "repo_name", "number"],
                {
                    **repo_key,
                    "number": "integer",
                    "title": "string",
                    "status": {"type": "string", "enum": ["open", "closed"]},
                },
                parent="Repo",
            ),
            entity(
                "PullRequest",
                ["owner", "repo_name", "pr_number"],
                {**repo_key, "pr_number": "integer", "title": "string"},
                parent="Repo",
            ),
            entity(
                "Star",
                ["owner", "repo_name", "stargazer"],
                {**repo_key, "stargazer": "string", "starred_at": "datetime"},
                parent="Repo",
            ),
            entity(
                "Fork",
                ["owner", "repo_name", "fork_owner"],
                {**repo_key, "fork_owner": "string", "forked_at": "datetime"},
                parent="Repo",
            ),
        ],
        [
            pattern("get_account", "Account", {"owner": "="}),
            pattern("get_repo", "Repo", {"owner": "=", "repo_name": "="}),
            pattern(
                "repo_with_issues",
                ["Repo", "Issue"],
                {"owner": "=", "repo_name": "="},
                order="desc",
                limit=25,
            ),
            pattern(
                "repo_with_pull_requests",
                ["Repo", "PullRequest"],
                {"owner": "=", "repo_name": "="},
                order="desc",
                limit=25,
            ),
            pattern("repo_with_stars", ["Repo", "Star"], {"owner": "=", "repo_name": "="}),
            pattern("repo_with_forks", ["Repo", "Fork"], {"owner": "=", "repo_name": "="}),
            pattern("account_with_repos", ["Account", "Repo"], {"owner": "="}),
            pattern("get_issue", "Issue", {"owner": "=", "repo_name": "=", "number": "="}),
            pattern(
                "get_pull_request",
                "PullRequest",
                {"owner": "=", "repo_name": "=", "pr_number": "="},
            ),
            pattern("stars_of_user", "Star", {"stargazer": "=", "starred_at": ">="}, order="desc"),
        ],
    ), 3


def hr() -> tuple[ir.Model, int]:
    return model(
        "hr",
        [
            entity(
                "Employee",
                ["employee_id"],
                {
                    "employee_id": "string",
                    "name": "string",
                    "title": "string",
                    "warehouse_id": "string",
                    "hire_date": "date",
                },
            ),
            entity("Warehouse", ["warehouse_id"], {"warehouse_id": "string", "city": "string"}),
            entity(
                "Order",
                ["order_id"],
                {
                    "order_id": "string",
                    "status": "string",
                    "order_date": "date",
                    "total": "decimal",
                },
            ),
            entity("Product", ["product_id"], {"product_id": "string", "name": "string"}),
        ],
        [
            pattern("get_employee", "Employee", {"employee_id": "="}),
            pattern("employee_by_name", "Employee", {"name": "="}),
            pattern("get_warehouse", "Warehouse", {"warehouse_id": "="}),
            pattern("warehouses_in_city", "Warehouse", {"city": "="}),
            pattern("get_order", "Order", {"order_id": "="}),
            pattern("orders_by_status_since", "Order", {"status": "=", "order_date": ">="}),
            pattern("get_product", "Product", {"product_id": "="}),
            pattern("product_by_name", "Product", {"name": "="}),
        ],
    ), 1


def catalog() -> tuple[ir.Model, int]:
    return model(
        "catalog",
        [
            entity(
                "Brand",
                ["brand_id"],
                {
                    "brand_id": "string",
                    "name": "string",
                    "country": {"type": "string", "required": False},
                },
            ),
            entity(
                "Product",
                ["product_id"],
                {
                    "product_id": "string",
                    "brand_id": {"type": "string", "references": "Brand"},
                    "title": "string",
                    "price": "decimal",
                    "status": {"type": "string", "enum": ["draft", "active", "archived"]},
                    "created_at": "datetime",
                },
            ),
            entity(
                "Variant",
                ["product_id", "sku"],
                {
                    "product_id": {"type": "string", "references": "Product"},
                    "sku": "string",
                    "size": "string",
                    "stock": "integer",
                },
                parent="Product",
            ),
        ],
        [
            pattern("get_product", "Product", {"product_id": "="}),
            pattern("product_with_variants", ["Product", "Variant"], {"product_id": "="}),
            pattern(
                "products_of_brand_newest_first",
                "Product",
                {"brand_id": "=", "created_at": "between"},
                order="desc",
            ),
            pattern("active_products_since", "Product", {"status": "=", "created_at": ">="}),
            pattern("variant_by_sku", "Variant", {"sku": "="}, unique=True),
        ],
    ), 2


DESIGNS = {"ecommerce": ecommerce, "github": github, "hr": hr, "catalog": catalog}

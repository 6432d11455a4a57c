"""File formats read and written by the tool (NoSQL Workbench); each depends only on core."""

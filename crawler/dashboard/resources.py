"""The dashboard's fixed names and files: the database's name in URLs, metadata.yaml with the canned queries'
SQL (queries/*.sql), the templates and the static files."""

from __future__ import annotations

from pathlib import Path

import yaml

DATABASE = "govwatch"  # the database's name in every dashboard URL, whatever the file is called
HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yaml"
QUERIES = HERE / "queries"
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_MOUNT = "-/govwatch-static"


def load_metadata() -> dict:
    """metadata.yaml with each canned query's SQL read from queries/<name>.sql."""
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    for name, query in metadata["databases"][DATABASE]["queries"].items():
        query["sql"] = (QUERIES / f"{name}.sql").read_text(encoding="utf-8")
    return metadata

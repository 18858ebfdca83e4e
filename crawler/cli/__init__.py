"""The `govwatch` command line: a thin layer over the Python API, one module per area.

Each command has a Python function of the same name that does the work (sqlite-utils style); the click
command parses options, calls it and prints.

The top of the import direction: may import every stage (`crawler.crawl`, `crawler.corpus`,
`crawler.monitor`) and the base; nothing imports it.
"""

from __future__ import annotations

import importlib

import click

from crawler import __version__

# Modules that add commands to `main`; each defines `register(main)`.
_COMMAND_MODULES = ("extract", "crawl", "demo", "corpus", "monitor", "portals", "archive", "serve", "scrapyd")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govwatch")
def main() -> None:
    """govwatch: watch government portals for 法治政府建设 annual reports."""


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"crawler.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command module still being written must not break the others
        if exc.name != f"crawler.cli.{_name}":
            raise
        continue
    _module.register(main)

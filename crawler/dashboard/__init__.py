"""The dashboard: Datasette over the one database, read-only, with govwatch's own pages and feeds.

`dashboard(db_path)` builds the Datasette instance (tests drive it in-process); `serve(db_path, host, port)`
runs it (`govwatch serve`). The Datasette plugin is `plugin.py` (one pluggy hook per concern); what every
connection gets (search functions, the read-only and secret-hiding authorizer) is `connection.py`; the
pages are `pages.py` with `coverage_view.py` (the coverage picture) and `feeds.py` (JSON Feed); the texts of
tables, columns and canned queries, in Chinese and English, are `metadata.yaml`, the canned queries' SQL
`queries/*.sql`, the pages' HTML `templates/` (`resources.py` finds them).

The top of the import direction beside `crawler.cli`: may import every stage (`crawler.crawl`,
`crawler.corpus`, `crawler.monitor`) and the base; only `crawler.cli` imports it.
"""

from crawler.dashboard.app import DashboardError, dashboard, requires_password, serve
from crawler.dashboard.resources import DATABASE

__all__ = ["DATABASE", "DashboardError", "dashboard", "requires_password", "serve"]

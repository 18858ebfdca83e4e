"""govwatch: watches Chinese government portals for their 法治政府建设 annual reports.

Folders follow a page's path: `crawl/` (running crawls) → `corpus/` (storing, dedupe, search, exports) →
`monitor/` (alerts, coverage), over the base `extract/` (pure extraction), `storage` (the database),
`config`, `urls` and `minhash`; `cli/` and `demo/` sit on top. Scrapy's `settings`, `middlewares` and
`pipelines` stay here where Scrapy looks for them. docs/ARCHITECTURE.md has the table.
"""

from crawler.extract import ExtractError, Record, extract

__version__ = "0.1.0"
__all__ = ["extract", "Record", "ExtractError", "__version__"]

"""Stage 2 of crawl → store → alert: the corpus (storing a document, dedupe, search, the reports
query, exports).

May import `crawler.monitor` (the alert outbox is written in a document's own transaction) and the base
(`crawler.extract`, `storage`, `crawler.config`, `crawler.urls`, `crawler.minhash`); never the crawl stage.
"""

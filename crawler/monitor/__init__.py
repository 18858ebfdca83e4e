"""Stage 3 of crawl → store → alert: alerts (the outbox, message text, channels) and coverage of regions
× years with its deadlines.

May import only the base (`crawler.extract`, `storage`, `crawler.config`, `crawler.urls`,
`crawler.minhash`); never the crawl or corpus stages.
"""

"""Stage 1 of crawl → store → alert: running crawls (the crawl process and its runner, the run bookkeeping,
processes that die with their parent, the daemon and its lock, the writer, fetch state, attachments, column
discovery, portal status).

May import `crawler.corpus`, `crawler.monitor`, `spiders` and the base (`crawler.extract`, `storage`,
`crawler.config`, `crawler.urls`, `crawler.minhash`); never `crawler.cli`.
"""

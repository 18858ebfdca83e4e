"""Crawls on scrapyd nodes: this machine (the controller) dispatches batches of portals to scrapyd nodes on
other machines and stores what they hand back through the one store path, so dedupe, coverage and alerts
stay exactly-once.

    jobs.py        the job's payload (portals, [crawl] settings, their fetch state) and the hand-back format
    node.py        the node side: a job's scratch directory, the HandBack extension, starting a node
    client.py      scrapyd's HTTP API as the controller uses it (errors name the node, never a secret)
    controller.py  placement (sticky, by load), dispatch, following, timeouts, re-dispatch, cancel
    ingest.py      a job's hand-back into the database, once (the job is marked in the same transaction)

Nodes share nothing with the controller: no file system, no database. A job carries what the crawl needs
to be incremental; its hand-back carries documents with the WARC records they point at, fetch state and
each portal's run; only the controller writes the database and the archive the documents point into.

Part of the crawl stage: may import `crawler.corpus`, `crawler.monitor`, `spiders` and the base; never
`crawler.cli`.
"""

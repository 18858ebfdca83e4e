"""govwatch spiders: one generic column spider (`spiders.column.ColumnSpider`, name `column`; `spiders.discovering`
and `spiders.outcomes` hold its discovery callbacks and per-portal counts), its per-CMS list
adapters (`spiders.adapters`), a portal's sites (`spiders.scope`) and column discovery's ranking
(`spiders.discovery`). Part of the crawl stage: may import `crawler.crawl`, `crawler.corpus`, `crawler.monitor`
and the base, never `crawler.cli`."""

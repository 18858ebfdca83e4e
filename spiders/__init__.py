"""govwatch spiders: one generic column spider (`spiders.column.ColumnSpider`, name `column`), its per-CMS list
adapters (`spiders.adapters`), a portal's sites (`spiders.scope`) and column discovery's ranking
(`spiders.discovery`). Part of the crawl stage: may import `crawler.crawl`, `crawler.corpus`, `crawler.monitor`
and the base, never `crawler.cli`."""

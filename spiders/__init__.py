"""govwatch spiders: one generic column spider (`spiders.column.ColumnSpider`, name `column`) plus small
per-CMS list adapters in `spiders.adapters`."""

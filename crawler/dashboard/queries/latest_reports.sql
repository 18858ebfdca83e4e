-- The canonical annual reports, newest published first (the order of `govwatch reports`).
select
  d.region as region,
  d.report_year as year,
  d.title as title,
  substr(d.published_at, 1, 10) as published,
  d.url as url,
  d.id as document,
  d.portal_id as portal,
  d.first_seen_at as found_at
from documents d
where d.doc_type = 'annual_report' and d.duplicate_of is null
  and (:year = '' or d.report_year = cast(:year as integer))
  and (:region = '' or d.region like '%' || :region || '%' or d.adcode = :region)
order by d.published_at is null, d.published_at desc, d.report_year desc, d.id desc
limit 500

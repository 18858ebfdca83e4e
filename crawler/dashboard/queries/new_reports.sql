-- The feed of new reports: canonical annual reports, the most recently found first. The atom_* columns are
-- what an Atom feed needs (datasette-atom's names); the JSON Feed uses them and the rest.
select
  d.url as atom_id,
  d.title as atom_title,
  d.first_seen_at as atom_updated,
  d.url as atom_link,
  coalesce(d.region, '') || ' · ' || coalesce(d.report_year || '年度', '') || ' · '
    || coalesce(substr(d.published_at, 1, 10), '') || char(10) || substr(d.text, 1, 300) as atom_content,
  d.id as document,
  d.region as region,
  d.adcode as adcode,
  d.report_year as year,
  substr(d.published_at, 1, 10) as published
from documents d
where d.doc_type = 'annual_report' and d.duplicate_of is null
  and (:province = '' or substr(d.adcode, 1, 2) = govwatch_province(:province))
  and (:region = '' or d.region like '%' || :region || '%' or d.adcode = :region)
order by d.first_seen_at desc, d.id desc
limit 50

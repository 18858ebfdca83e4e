-- Chinese full-text search as `govwatch search` does it: the query segmented into FTS5 phrases
-- (govwatch_fts), bm25 with the title weighted 10x the body, phrase matches first, then a long term's words
-- found a few tokens apart where the text holds the term (govwatch_holds); canonical documents only.
-- The best 100 are chosen before their snippets are cut (a snippet for every match cost 7x the query).
with phrase as (
  select rowid as id, bm25(documents_fts, 10.0, 1.0) as score, 0 as near from documents_fts
  where govwatch_fts(:q) is not null and documents_fts match govwatch_fts(:q)
),
near as (
  select rowid as id, bm25(documents_fts, 10.0, 1.0) as score, 1 as near from documents_fts
  where govwatch_fts(:q, 'near') is not null and govwatch_fts(:q, 'near') != govwatch_fts(:q)
    and documents_fts match govwatch_fts(:q, 'near') and rowid not in (select id from phrase)
),
hits as (select * from phrase union all select * from near),
best as (
  select hits.id, hits.score, hits.near from hits join documents d on d.id = hits.id
  where d.duplicate_of is null
    and (hits.near = 0 or govwatch_holds(:q, d.title, d.text))
    and (:doc_type = '' or d.doc_type = :doc_type)
    and (:region = '' or d.region like '%' || :region || '%' or d.adcode = :region)
    and (:year = '' or d.report_year = cast(:year as integer))
  order by hits.near, hits.score, d.id
  limit 100
)
select
  d.title as title,
  govwatch_snippet(:q, d.title, d.text) as snippet,
  d.region as region,
  d.report_year as year,
  d.doc_type as doc_type,
  substr(d.published_at, 1, 10) as published,
  d.url as url,
  d.id as document,
  round(best.score, 3) as score
from best join documents d on d.id = best.id
order by best.near, best.score, d.id

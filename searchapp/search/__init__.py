"""The search service: a query as a reader types it → ranked, highlighted
articles, facet counts and views over the result set, from any engine.

querylang parses the query language; query plans it (expansions, weights);
request checks the parameters; service runs a search and shapes its answer;
highlight marks the words; spelling suggests corrections; insights are the
views over a whole result set (timeline, co-occurrence, similar, export);
compare, profiles, significant and feeds are the research views (queries
compared, actor pages, Kata khas, Atom feeds).
"""

from searchapp.search.highlight import mark
from searchapp.search.service import get_article, search, stats

__all__ = ["get_article", "mark", "search", "stats"]

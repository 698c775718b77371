"""`make bench`'s search runs (loadtest/bench.py, wrk/search.lua): the queries it sends find
what they should in the demo catalog, and the report says the search's p95. (The bench itself
is never part of the suite.)"""

import re
from urllib.parse import unquote_plus

import pytest
from django.core.management import call_command

from catalog import search
from loadtest import report
from loadtest.bench import search_queries


def test_the_queries_are_url_safe_as_wrk_sends_them():
    queries = search_queries()
    assert len(queries) >= 20 and len(set(queries)) == len(queries)
    assert all(re.fullmatch(r"[A-Za-z0-9+-]+", query) for query in queries)
    assert "|" not in "".join(queries)  # the separator of search.lua's argument


@pytest.mark.django_db
def test_each_query_finds_products_of_the_demo_catalog_but_the_one_meant_to_find_nothing():
    call_command("seed_catalog", "--no-pictures", verbosity=0)
    found = {query: search.products(search.Filters(q=unquote_plus(query))).count() for query in search_queries()}
    assert found.pop("anchorage") == 0  # the no-results page is measured too
    assert all(found.values()), found


def test_the_report_says_the_searchs_p95():
    run = {"rps": 412.0, "p95_ms": 23.44}
    line = report.search_line({"search": run, "search_api": {"rps": 900.0, "p95_ms": 9.1}})
    assert "results page p95 23.4 ms at 412 req/s" in line and "?search= p95 9.1 ms at 900 req/s" in line

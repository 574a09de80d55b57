"""The search service serving its statement without the access join: the HTTP baseline, bench only.

`bench/search_latency.py --permissions` starts it (`python -m unfiltered_search` with bench/ on
PYTHONPATH) to time the same requests with nothing filtered. The service itself has no such
switch; identity is still required, only the join is gone.
"""

import runpy

from filtered_search import unfiltered

from search.adapters import index

served = index.search_sql
index.search_sql = lambda dimensions: unfiltered(served(dimensions))
runpy.run_module("search", run_name="__main__", alter_sys=True)

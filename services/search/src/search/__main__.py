"""Run the search service: `python -m search`."""

from shared.web import serve

from search.app import create_app
from search.settings import SearchSettings

serve(SearchSettings, create_app)

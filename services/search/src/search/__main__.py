"""Run the search service: `python -m search`."""

from search.app import create_app
from search.settings import SearchSettings
from shared.web import serve

serve(SearchSettings, create_app)

"""Run the fetcher: `python -m fetcher`."""

from shared.web import serve

from fetcher.app import create_app
from fetcher.settings import FetcherSettings

serve(FetcherSettings, create_app)

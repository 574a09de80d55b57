"""Run the fetcher: `python -m fetcher`."""

from fetcher.app import create_app
from fetcher.settings import FetcherSettings
from shared.web import serve

serve(FetcherSettings, create_app)

"""Run the embedder: `python -m embedder`."""

from embedder.app import create_app
from embedder.settings import EmbedderSettings
from shared.web import serve

serve(EmbedderSettings, create_app)

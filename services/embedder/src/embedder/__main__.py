"""Run the embedder: `python -m embedder`."""

from shared.web import serve

from embedder.app import create_app
from embedder.settings import EmbedderSettings

serve(EmbedderSettings, create_app)

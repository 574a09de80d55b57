"""Run the webhook gateway: `python -m webhook_gateway`."""

from shared.web import serve
from webhook_gateway.app import create_app
from webhook_gateway.settings import GatewaySettings

serve(GatewaySettings, create_app)

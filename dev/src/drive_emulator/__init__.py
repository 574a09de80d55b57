"""A local Google Drive v3 emulator for tests and `make dev`, driven by the real Google client.

Start it in a test with `EmulatorServer` (a thread on port 0) and change its files, users, groups
and shared drives with `EmulatorControl`; run it alone with `python -m drive_emulator --port 9000
--seed`. A request without a token sees everything; one with a token from a service-account key
whose `token_uri` is the emulator's /token acts as the key's subject (`auth.service_account_key`,
`sample_domain` for a ready-made domain).
"""

from drive_emulator.app import create_app
from drive_emulator.client import EmulatorControl
from drive_emulator.server import EmulatorServer

__all__ = ["EmulatorControl", "EmulatorServer", "create_app"]

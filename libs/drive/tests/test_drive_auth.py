"""GOOGLE_APPLICATION_CREDENTIALS and GOOGLE_SUBJECT: the service-account path, end to end.

The key file's token_uri points at the emulator, so google-auth signs a real JWT assertion,
trades it for a token and sends it as a bearer header, as it would with Google.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from drive.client import DriveClient, DriveSettings, DriveUnauthorized
from drive_emulator import EmulatorControl, EmulatorServer


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


def key_file(directory: Path, token_uri: str) -> Path:
    """Write a service-account key file with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "drive-index-test",
                "private_key_id": "test-key",
                "private_key": pem.decode(),
                "client_email": "indexer@drive-index-test.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": token_uri,
            }
        )
    )
    return path


async def test_service_account_with_subject_gets_a_token_and_uses_it(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    settings = DriveSettings(
        drive_api_endpoint=emulator.api_endpoint,
        google_application_credentials=str(key_file(tmp_path, f"{emulator.url}/token")),
        google_subject="admin@example.com",
    )

    async with DriveClient.from_settings(settings) as client:
        token = await client.get_start_page_token()
        page = await client.list_changes(token)

    assert page.new_start_page_token == token
    grants = EmulatorControl(emulator.url).tokens()
    assert len(grants) == 1  # the token is cached and reused by every pooled connection
    assert grants[0]["issuer"] == "indexer@drive-index-test.iam.gserviceaccount.com"
    assert grants[0]["subject"] == "admin@example.com"
    assert grants[0]["scope"] == "https://www.googleapis.com/auth/drive.readonly"


async def test_without_credentials_the_call_is_refused(emulator: EmulatorServer) -> None:
    settings = DriveSettings(drive_api_endpoint=emulator.api_endpoint)

    async with DriveClient.from_settings(settings) as client:
        with pytest.raises(DriveUnauthorized) as raised:
            await client.get_start_page_token()

    assert (raised.value.status, raised.value.reason) == (401, "authError")
    # Not the file's fault: the work pauses and is retried (slowly, by the consume loop), never skipped.
    assert raised.value.retriable

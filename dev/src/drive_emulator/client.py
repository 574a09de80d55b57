"""`EmulatorControl`: change the emulated Drive from tests and scripts (synchronous, stdlib only)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from shared.mime import DOCUMENT, FOLDER, PRESENTATION, SHORTCUT, SPREADSHEET

TIMEOUT_SECONDS = 10.0


class ControlError(RuntimeError):
    """The control API refused a request."""


class EmulatorControl:
    """A small client for the emulator's /control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def create_file(
        self,
        name: str,
        mime_type: str,
        content: Any = None,
        *,
        parents: list[str] | None = None,
        permissions: list[dict[str, Any]] | None = None,
        file_id: str | None = None,
        drive_id: str | None = None,
        target_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a file; `content` is bytes for binary types, Markdown for Docs, tabs, or slides."""
        body: dict[str, Any] = {"name": name, "mimeType": mime_type, "parents": parents or []}
        body.update(_content(content))
        optional = {"permissions": permissions, "id": file_id, "driveId": drive_id, "targetId": target_id}
        body.update({key: value for key, value in optional.items() if value is not None})
        return dict(self._request("POST", "/control/files", body))

    def create_folder(self, name: str, parents: list[str] | None = None) -> dict[str, Any]:
        return self.create_file(name, FOLDER, parents=parents)

    def create_doc(self, name: str, markdown: str, **options: Any) -> dict[str, Any]:
        return self.create_file(name, DOCUMENT, markdown, **options)

    def create_sheet(self, name: str, tabs: dict[str, list[list[Any]]], **options: Any) -> dict[str, Any]:
        return self.create_file(name, SPREADSHEET, tabs, **options)

    def create_slides(self, name: str, slides: list[str], **options: Any) -> dict[str, Any]:
        return self.create_file(name, PRESENTATION, slides, **options)

    def upload(self, name: str, mime_type: str, data: bytes, **options: Any) -> dict[str, Any]:
        return self.create_file(name, mime_type, data, **options)

    def create_shortcut(self, name: str, target_id: str, **options: Any) -> dict[str, Any]:
        return self.create_file(name, SHORTCUT, target_id=target_id, **options)

    def update_file(self, file_id: str, **changes: Any) -> dict[str, Any]:
        """Change any of content, name, parents, permissions in one Drive change."""
        body = {key: value for key, value in changes.items() if key != "content"}
        if "content" in changes:
            body.update(_content(changes["content"]))
        return dict(self._request("PATCH", f"/control/files/{file_id}", body))

    def share(self, file_id: str, permissions: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a file's own grants: a sharing-only change (new version, same modifiedTime)."""
        return self.update_file(file_id, permissions=permissions)

    def create_drive(
        self, name: str, members: list[dict[str, Any]] | None = None, *, drive_id: str | None = None
    ) -> dict[str, Any]:
        """Create a shared drive; members are grants with a shared-drive role (organizer … reader)."""
        body: dict[str, Any] = {"name": name, "members": members or []}
        if drive_id is not None:
            body["id"] = drive_id
        return dict(self._request("POST", "/control/drives", body))

    def set_drive_members(self, drive_id: str, members: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a shared drive's members; changes.list then reports a drive change."""
        return dict(self._request("PATCH", f"/control/drives/{drive_id}", {"members": members}))

    def drives(self) -> list[dict[str, Any]]:
        """Every shared drive, with its members."""
        return list(self._request("GET", "/control/drives"))

    def create_group(
        self, email: str, members: list[dict[str, Any]] | None = None, *, name: str | None = None
    ) -> dict[str, Any]:
        """Create a Directory group; members are {email, type: USER|GROUP|CUSTOMER}."""
        body: dict[str, Any] = {"email": email, "members": members or []}
        if name is not None:
            body["name"] = name
        return dict(self._request("POST", "/control/groups", body))

    def set_group_members(self, email: str, members: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a Directory group's members."""
        path = f"/control/groups/{urllib.parse.quote(email, safe='')}"
        return dict(self._request("PATCH", path, {"members": members}))

    def groups(self) -> list[dict[str, Any]]:
        """Every Directory group, with its members."""
        return list(self._request("GET", "/control/groups"))

    def create_user(
        self,
        email: str,
        name: str | None = None,
        *,
        suspended: bool = False,
        archived: bool = False,
        admin: bool = False,
    ) -> dict[str, Any]:
        """Add a user to the domain (as users.list shows them); impersonating them works from now on."""
        body: dict[str, Any] = {"email": email, "suspended": suspended, "archived": archived, "admin": admin}
        if name is not None:
            body["name"] = name
        return dict(self._request("POST", "/control/users", body))

    def update_user(self, email: str, **changes: Any) -> dict[str, Any]:
        """Change any of a user's name, suspended, archived, admin; the suspended cannot be impersonated."""
        return dict(self._request("PATCH", f"/control/users/{urllib.parse.quote(email, safe='')}", changes))

    def delete_user(self, email: str) -> None:
        """Remove a user from the domain; their files and the grants naming them stay as they are."""
        self._request("DELETE", f"/control/users/{urllib.parse.quote(email, safe='')}")

    def users(self) -> list[dict[str, Any]]:
        """Every user of the domain, suspended and archived ones included."""
        return list(self._request("GET", "/control/users"))

    def trash(self, file_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/control/files/{file_id}/trash"))

    def untrash(self, file_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/control/files/{file_id}/untrash"))

    def delete(self, file_id: str) -> None:
        self._request("DELETE", f"/control/files/{file_id}")

    def files(self) -> list[dict[str, Any]]:
        """Every file, trashed ones included."""
        return list(self._request("GET", "/control/files"))

    def fault(self, status: int, count: int = 1, path_prefix: str = "/drive/v3/", **options: Any) -> None:
        """Make the next `count` API requests under `path_prefix` fail with `status`.

        Drive's by default; `path_prefix="/admin/directory/v1/"` fails Directory requests.

        Status 0 closes the connection without an answer; a 2xx status with `delay_seconds` only
        slows requests down. Options: method, reason, message, delay_seconds.
        """
        self._request(
            "POST",
            "/control/faults",
            {"status": status, "count": count, "path_prefix": path_prefix, **options},
        )

    def faults(self) -> list[dict[str, Any]]:
        """Faults that still have requests left to fail."""
        return list(self._request("GET", "/control/faults"))

    def clear_faults(self) -> None:
        self._request("DELETE", "/control/faults")

    def channels(self) -> list[dict[str, Any]]:
        """Open channels with their address, expiration and delivery counts."""
        return list(self._request("GET", "/control/channels"))

    def tokens(self) -> list[dict[str, Any]]:
        """Access tokens issued by /token, with the issuer, subject and scope they were asked for."""
        return list(self._request("GET", "/control/tokens"))

    def seed(self) -> list[dict[str, Any]]:
        """Add the sample documents (once)."""
        return list(self._request("POST", "/control/seed"))

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}") from exc
        return json.loads(payload) if payload else None


def _content(content: Any) -> dict[str, Any]:
    """Put content in the request field its type travels in."""
    if content is None:
        return {}
    if isinstance(content, bytes):
        return {"content_base64": base64.b64encode(content).decode()}
    return {"content": content}

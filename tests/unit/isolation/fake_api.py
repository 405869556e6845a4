"""A tiny in-memory multi-tenant API for the isolation harness's self-test: notes per workspace.

Correct by default; `leak=` picks one way to get tenant isolation wrong, so that the tests can
prove the harness notices. Its OpenAPI document is built from pydantic models, like the real
systems' documents are.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema

PROBLEM = "https://problems.example/"
NOTE_ID = r"^[0-9a-f]{32}$"


class Note(BaseModel):
    id: str
    workspace_id: str
    title: str
    pinned: bool = False
    color: Literal["red", "blue"] | None = None


class NotePage(BaseModel):
    items: list[Note]
    next_cursor: str | None = None


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=50)]
    tags: list[Annotated[str, Field(pattern=r"^[a-z]{2,8}$")]] = []


class UpdateNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    pinned: bool | None = None
    color: Literal["red", "blue"] | None = None


class Workspace(BaseModel):
    id: str
    name: str


class RenameWorkspace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)]


def _operation(response: str | None, *, body: str | None = None, params: list[Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": {"description": "OK"}}}
    if response:
        schema = {"$ref": f"#/components/schemas/{response}"}
        operation["responses"]["200"]["content"] = {"application/json": {"schema": schema}}
    if body:
        schema = {"$ref": f"#/components/schemas/{body}"}
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if params:
        operation["parameters"] = params
    return operation


def document() -> dict[str, Any]:
    """The fake's OpenAPI 3.1 document, shaped like scripts/openapi.py's merged one."""
    _, schemas = models_json_schema(
        [(m, "validation") for m in (Note, NotePage, NewNote, UpdateNote, Workspace, RenameWorkspace)],
        ref_template="#/components/schemas/{model}",
    )
    note_id = {"in": "path", "name": "note_id", "required": True, "schema": {"type": "string", "pattern": NOTE_ID}}
    paging = [
        {"in": "query", "name": "limit", "required": False, "schema": {"type": "integer", "minimum": 1}},
        {"in": "query", "name": "cursor", "required": False, "schema": {"type": "string"}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Notes", "version": "1"},
        "security": [{"bearer": []}],
        "components": {"schemas": schemas["$defs"], "securitySchemes": {"bearer": {"type": "http"}}},
        "paths": {
            "/api/v1/health": {"get": {**_operation(None), "security": []}},
            "/api/v1/workspace": {
                "get": _operation("Workspace"),
                "patch": _operation("Workspace", body="RenameWorkspace"),
            },
            "/api/v1/notes": {
                "get": _operation("NotePage", params=paging),
                "post": _operation("Note", body="NewNote"),
            },
            "/api/v1/notes/{note_id}": {
                "parameters": [note_id],
                "get": _operation("Note"),
                "patch": _operation("Note", body="UpdateNote"),
                "delete": _operation(None),
            },
        },
    }


class Leak(StrEnum):
    READ = "another tenant's note is readable"
    FORBIDDEN = "another tenant's note answers 403"
    TELLTALE = "the 404 for another tenant's note says why"
    PLAIN_404 = "the 404 for another tenant's note is not a problem"
    WRITE_THROUGH = "a PATCH of another tenant's note applies, then answers 404"
    DELETE_THROUGH = "a DELETE of another tenant's note applies, then answers 404"
    LISTING = "the listing shows every tenant's notes"
    CURSOR = "a cursor from another tenant continues that tenant's listing"
    SINGLETON = "the workspace names its neighbours"
    RENAME_ALL = "renaming a workspace renames every workspace"
    CREATE_ELSEWHERE = "a new note lands in another workspace"


@dataclass
class FakeReply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def _reply(status: int, body: Any, content_type: str = "application/json") -> FakeReply:
    return FakeReply(status, {"Content-Type": content_type}, json.dumps(body) if body is not None else "")


def _problem(status: int, title: str, detail: str, instance: str) -> FakeReply:
    body = {"type": PROBLEM + title.lower().replace(" ", "-"), "title": title, "status": status, "detail": detail}
    return _reply(status, {**body, "instance": instance}, "application/problem+json")


@dataclass
class FakeClient:
    api: FakeNotesApi
    tenant_id: str

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FakeReply:
        return self.api.handle(self.tenant_id, method, path, json_body)


@dataclass
class FakeTenant:
    tenant_id: str
    user_id: str
    api: FakeClient


@dataclass
class FakeNotesApi:
    leak: Leak | None = None
    count_reads: bool = False  # the workspace shows how often it was read: volatile by design
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: list[tuple[str, str, str, int]] = field(default_factory=list)  # caller, method, url, status

    def sign_up(self, name: str, user_id: str) -> FakeTenant:
        tenant_id = "ws_" + uuid.uuid4().hex[:20]
        self.workspaces[tenant_id] = {"id": tenant_id, "name": name}
        return FakeTenant(tenant_id, user_id, FakeClient(self, tenant_id))

    def add_note(self, tenant_id: str, title: str) -> str:
        note_id = uuid.uuid4().hex
        self.notes[note_id] = Note(id=note_id, workspace_id=tenant_id, title=title).model_dump()
        return note_id

    def handle(self, caller: str, method: str, url: str, body: Any) -> FakeReply:
        reply = self._route(caller, method, url, body)
        self.answered.append((caller, method, url, reply.status))
        return reply

    def _route(self, caller: str, method: str, url: str, body: Any) -> FakeReply:
        parts = urlsplit(url)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path == "/api/v1/health" and method == "GET":
            return _reply(200, {"ok": True})
        if path == "/api/v1/workspace":
            return self._workspace(caller, method, body)
        if path == "/api/v1/notes":
            return self._notes(caller, method, body, query) if method in {"GET", "POST"} else self._no_route(path)
        match = re.fullmatch(r"/api/v1/notes/([^/]+)", path)
        if match:
            return self._note(caller, method, match.group(1), body, path)
        return self._no_route(path)

    def _no_route(self, path: str) -> FakeReply:
        return _problem(404, "Not found", "No such route.", path)

    def _workspace(self, caller: str, method: str, body: Any) -> FakeReply:
        workspace = self.workspaces[caller]
        if method == "PATCH":
            try:
                name = RenameWorkspace.model_validate(body).name
            except ValidationError:
                return _problem(422, "Invalid", "The body did not validate.", "/api/v1/workspace")
            for renamed in self.workspaces.values() if self.leak is Leak.RENAME_ALL else [workspace]:
                renamed["name"] = name
        if self.count_reads:
            workspace["reads"] = workspace.get("reads", 0) + 1
        shown = dict(workspace)
        if self.leak is Leak.SINGLETON:
            shown["neighbours"] = sorted(self.workspaces)
        return _reply(200, shown)

    def _notes(self, caller: str, method: str, body: Any, query: dict[str, str]) -> FakeReply:
        if method == "POST":
            try:
                new = NewNote.model_validate(body)
            except ValidationError:
                return _problem(422, "Invalid", "The body did not validate.", "/api/v1/notes")
            owner = caller
            if self.leak is Leak.CREATE_ELSEWHERE:
                owner = next(t for t in self.workspaces if t != caller)
            note_id = self.add_note(owner, new.title)
            return _reply(201, self.notes[note_id])
        owner = caller
        after = ""
        if "cursor" in query:
            position = json.loads(base64.urlsafe_b64decode(query["cursor"] + "=" * (-len(query["cursor"]) % 4)))
            if position.get("owner") != caller and self.leak is not Leak.CURSOR:
                return _problem(400, "Bad request", "The pagination cursor is not valid.", "/api/v1/notes")
            owner, after = position["owner"], position["after"]
        visible = sorted(
            (n for n in self.notes.values() if self.leak is Leak.LISTING or n["workspace_id"] == owner),
            key=lambda n: n["id"],
        )
        visible = [n for n in visible if n["id"] > after]
        limit = int(query.get("limit", 50))
        page, rest = visible[:limit], visible[limit:]
        cursor = None
        if rest:
            position = json.dumps({"owner": owner, "after": page[-1]["id"]}).encode()
            cursor = base64.urlsafe_b64encode(position).decode().rstrip("=")
        return _reply(200, {"items": page, "next_cursor": cursor})

    def _note(self, caller: str, method: str, note_id: str, body: Any, path: str) -> FakeReply:
        if not re.fullmatch(NOTE_ID, note_id):
            return _problem(422, "Invalid", "note_id is malformed.", path)
        update: UpdateNote | None = None
        if method == "PATCH":
            try:
                update = UpdateNote.model_validate(body)
            except ValidationError:
                return _problem(422, "Invalid", "The body did not validate.", path)
        note = self.notes.get(note_id)
        if note is not None and note["workspace_id"] != caller:
            leaked = self._foreign(method, note, update, path)
            if leaked is not None:
                return leaked
            note = None
        if note is None:
            return _problem(404, "Not found", "No such note.", path)
        if method == "DELETE":
            del self.notes[note_id]
            return _reply(204, None)
        if update is not None:
            note.update(update.model_dump(exclude_none=True))
        return _reply(200, note)

    def _foreign(self, method: str, note: dict[str, Any], update: UpdateNote | None, path: str) -> FakeReply | None:
        """What a leaky implementation does with another tenant's note; None: answer like a missing one."""
        if self.leak is Leak.READ and method == "GET":
            return _reply(200, note)
        if self.leak is Leak.FORBIDDEN:
            return _problem(403, "Forbidden", "This note is not yours.", path)
        if self.leak is Leak.TELLTALE:
            return _problem(404, "Not found", "This note belongs to another workspace.", path)
        if self.leak is Leak.PLAIN_404:
            return _reply(404, {"message": "Not Found"})
        if self.leak is Leak.WRITE_THROUGH and update is not None:
            note.update(update.model_dump(exclude_none=True))
        if self.leak is Leak.DELETE_THROUGH and method == "DELETE":
            del self.notes[note["id"]]
        return None

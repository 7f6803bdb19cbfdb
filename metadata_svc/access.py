"""Who may do what: the one place metadata_svc (and, through CheckAccess, data_svc) decides.

Global admins may do everything. Within a project `owner ⊇ editor ⊇ viewer`: viewers read,
editors also write (ingest, dashboards), owners also manage (members, deletion, visibility).
A public project is readable by every signed-in user and, in public mode, by anonymous
callers — and writable only by its members.
"""

from __future__ import annotations

from dataclasses import dataclass

from depictio.errors import NotFound, PermissionDenied, Unauthenticated
from depictio.tokens import Identity
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb
from metadata_svc.project_documents import Doc
from metadata_svc.store import ProjectStore

READ = pb.ACTION_READ
WRITE = pb.ACTION_WRITE
MANAGE = pb.ACTION_MANAGE
VIEWER = common_pb2.ROLE_VIEWER
EDITOR = common_pb2.ROLE_EDITOR
OWNER = common_pb2.ROLE_OWNER
NO_ROLE = common_pb2.ROLE_UNSPECIFIED

# The least role each action needs.
REQUIRED_ROLE: dict[int, int] = {READ: VIEWER, WRITE: EDITOR, MANAGE: OWNER}
ACTION_WORDS: dict[int, str] = {READ: "read", WRITE: "change", MANAGE: "manage"}
ROLE_WORDS: dict[int, str] = {VIEWER: "viewer", EDITOR: "editor", OWNER: "owner"}


@dataclass(frozen=True)
class Decision:
    """The answer to "may this caller do this action on this project?"."""

    allowed: bool
    role: int
    reason: str
    project_id: str


def decide(identity: Identity, project: Doc, role: int, action: int) -> Decision:
    """The decision for a caller holding `role` (NO_ROLE if not a member) in `project`."""
    project_id = str(project["_id"])
    if action not in REQUIRED_ROLE:
        return Decision(False, role, "action: must be read, write or manage", project_id)
    if identity.is_admin and not identity.anonymous:
        return Decision(True, role, "admin", project_id)
    needed = REQUIRED_ROLE[action]
    if role >= needed:
        return Decision(True, role, f"{ROLE_WORDS[role]} of the project", project_id)
    if action == READ and project.get("is_public"):
        return Decision(True, role, "the project is public", project_id)
    who = "anonymous callers" if identity.anonymous else "you"
    held = f" (your role: {ROLE_WORDS[role]})" if role else ""
    # A private project's name is for its members: others are told its id.
    readable = role >= VIEWER or bool(project.get("is_public"))
    named = project["name"] if readable else project_id
    return Decision(
        False,
        role,
        f"{who} may not {ACTION_WORDS[action]} project '{named}': "
        f"{ROLE_WORDS[needed]} role required{held}",
        project_id,
    )


def decide_dashboard(
    identity: Identity, project: Doc, role: int, dashboard: Doc, action: int
) -> Decision:
    """Dashboards follow their project, except that non-members of a public project read only
    the dashboards marked public."""
    decision = decide(identity, project, role, action)
    if action != READ or not decision.allowed or role >= VIEWER or identity.is_admin:
        return decision
    if dashboard.get("is_public"):
        return Decision(True, role, "the project and the dashboard are public", decision.project_id)
    return Decision(
        False,
        role,
        f"dashboard '{dashboard['_id']}' is not public: viewer role in its project required",
        decision.project_id,
    )


MEMBERS_FOR_MEMBERS = "a project's members (their e-mails) are listed to its members only"


def lists_members(identity: Identity, decision: Decision) -> bool:
    """Whether the caller sees a project's members: its members and admins do; a non-member
    reading a public project does not."""
    return decision.role >= VIEWER or (identity.is_admin and not identity.anonymous)


def refusal(identity: Identity, decision: Decision) -> Exception:
    """The error for a refused decision: sign-in first for anonymous callers, else 403."""
    if identity.anonymous:
        return Unauthenticated(f"sign-in required: {decision.reason}")
    return PermissionDenied(decision.reason)


class Authorizer:
    """Looks up projects and memberships, decides, and raises on refusal."""

    def __init__(self, store: ProjectStore) -> None:
        self.store = store

    async def role_of(self, identity: Identity, project_id: str) -> int:
        """The caller's role in a project (NO_ROLE for non-members and anonymous callers)."""
        membership = await self.store.membership(project_id, identity.user_id)
        return int(membership["role"]) if membership else NO_ROLE

    async def project(self, project_id: str) -> Doc:
        """A project; NOT_FOUND when there is none."""
        project = await self.store.project(project_id) if project_id else None
        if project is None:
            raise NotFound(f"project_id: no project '{project_id}'")
        return project

    async def check(self, identity: Identity, project: Doc, action: int) -> Decision:
        """The decision for the caller on a project they name."""
        return decide(identity, project, await self.role_of(identity, str(project["_id"])), action)

    async def require(
        self, identity: Identity, project_id: str, action: int
    ) -> tuple[Doc, Decision]:
        """The project and the allowing decision; raises NotFound, Unauthenticated or
        PermissionDenied."""
        project = await self.project(project_id)
        decision = await self.check(identity, project, action)
        if not decision.allowed:
            raise refusal(identity, decision)
        return project, decision

    async def require_dashboard(
        self, identity: Identity, dashboard: Doc | None, dashboard_id: str, action: int
    ) -> tuple[Doc, Decision]:
        """The dashboard's project and the allowing decision; raises like `require`."""
        if dashboard is None:
            raise NotFound(f"dashboard_id: no dashboard '{dashboard_id}'")
        project = await self.project(str(dashboard["project_id"]))
        role = await self.role_of(identity, str(project["_id"]))
        decision = decide_dashboard(identity, project, role, dashboard, action)
        if not decision.allowed:
            raise refusal(identity, decision)
        return project, decision

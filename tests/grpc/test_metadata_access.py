"""CheckAccess, memberships and RecordTableSchema over gRPC, against a real metadata_svc."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from conftest import MakeStack
from grpc import aio
from metadata_support import admin_token, metadata, new_user, run, unique_config

from depictio.clients.auth import AuthClient

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def public_stack(make_stack: MakeStack) -> Iterator[Any]:
    with make_stack(DEPICTIO_AUTH_MODE="public") as running:
        yield running


@pytest.fixture(scope="module")
def people(public_stack: Any) -> dict[str, tuple[str, str, str]]:
    names = ("owner", "editor", "viewer", "outsider")
    return {name: new_user(public_stack, name) for name in names}


@pytest.fixture(scope="module")
def private_project(public_stack: Any, people: dict[str, tuple[str, str, str]]) -> Any:
    owner_token = people["owner"][2]

    async def create() -> Any:
        client = metadata(public_stack, owner_token)
        project = await client.create_project(unique_config("basic_single_csv.yaml"))
        for role in ("editor", "viewer"):
            user_id, email, _ = people[role]
            await client.set_member(project.id, user_id, role, email)
        return project

    return run(create)


def decision(stack: Any, token: str, action: str, **target: str) -> tuple[bool, int, str]:
    async def check() -> tuple[bool, int, str]:
        answer = await metadata(stack, token).check_access(action, **target)
        return answer.allowed, answer.role, answer.project_id

    return run(check)


EXPECTED = {
    # caller: (read, write, manage) on a private project
    "owner": (True, True, True),
    "editor": (True, True, False),
    "viewer": (True, False, False),
    "outsider": (False, False, False),
}


@pytest.mark.parametrize("caller", sorted(EXPECTED))
def test_check_access_follows_the_role_hierarchy(
    public_stack: Any, people: dict[str, tuple[str, str, str]], private_project: Any, caller: str
) -> None:
    token = people[caller][2]
    dc_id = private_project.data_collections[0].id
    for action, allowed in zip(("read", "write", "manage"), EXPECTED[caller], strict=True):
        by_project = decision(public_stack, token, action, project_id=private_project.id)
        by_dc = decision(public_stack, token, action, data_collection_id=dc_id)
        assert by_project[0] is allowed and by_dc[0] is allowed, (caller, action)
        assert by_project[2] == by_dc[2] == private_project.id


def test_admin_may_do_everything_and_anonymous_only_reads_public(
    public_stack: Any, people: dict[str, tuple[str, str, str]], private_project: Any
) -> None:
    admin = admin_token(public_stack)
    for action in ("read", "write", "manage"):
        assert decision(public_stack, admin, action, project_id=private_project.id)[0]
        assert not decision(public_stack, "", action, project_id=private_project.id)[0]

    async def make_public() -> None:
        await metadata(public_stack, people["owner"][2]).update_project(
            private_project.id, is_public=True
        )

    run(make_public)
    try:
        assert decision(public_stack, "", "read", project_id=private_project.id)[0]
        assert not decision(public_stack, "", "write", project_id=private_project.id)[0]
        outsider = people["outsider"][2]
        assert decision(public_stack, outsider, "read", project_id=private_project.id)[0]
        assert not decision(public_stack, outsider, "write", project_id=private_project.id)[0]
    finally:

        async def make_private() -> None:
            await metadata(public_stack, people["owner"][2]).update_project(
                private_project.id, is_public=False
            )

        run(make_private)


def test_unknown_targets_are_not_found(public_stack: Any, people: dict[str, Any]) -> None:
    token = people["owner"][2]
    for target in ({"project_id": "nope"}, {"data_collection_id": "nope"}):
        with pytest.raises(aio.AioRpcError) as caught:
            decision(public_stack, token, "read", **target)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_last_owner_cannot_be_removed_or_demoted(
    public_stack: Any, people: dict[str, tuple[str, str, str]], private_project: Any
) -> None:
    owner_id, _, owner_token = people["owner"]
    client_calls = {
        "remove": lambda c: c.remove_member(private_project.id, owner_id),
        "demote": lambda c: c.set_member(private_project.id, owner_id, "editor"),
    }
    for name, call in client_calls.items():
        with pytest.raises(aio.AioRpcError) as caught:
            run(lambda call=call: call(metadata(public_stack, owner_token)))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION, name
        assert "last owner" in (caught.value.details() or "")


def test_record_table_schema_keeps_the_newest_version(
    public_stack: Any, people: dict[str, tuple[str, str, str]], private_project: Any
) -> None:
    dc_id = private_project.data_collections[0].id
    editor, viewer = people["editor"][2], people["viewer"][2]

    async def record() -> list[tuple[int, bool]]:
        client = metadata(public_stack, editor)
        answers = []
        for columns, version in (
            ([("plant.id", "string"), ("height.cm", "double")], 3),
            ([("stale", "string")], 2),
        ):
            answer = await client.record_table_schema(dc_id, columns, version)
            answers.append((answer.version, answer.recorded))
        return answers

    assert run(record) == [(3, True), (3, False)]

    async def observed() -> list[tuple[str, str]]:
        project = await metadata(public_stack, viewer).get_project(private_project.id)
        return [(c.name, c.type) for c in project.data_collections[0].observed_columns]

    assert run(observed) == [("plant.id", "string"), ("height.cm", "double")]
    with pytest.raises(aio.AioRpcError) as caught:
        run(lambda: metadata(public_stack, viewer).record_table_schema(dc_id, [("a", "b")], 9))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_sync_needs_editor_and_a_visibility_change_needs_owner(
    public_stack: Any, people: dict[str, tuple[str, str, str]]
) -> None:
    owner, editor, viewer = (people[name][2] for name in ("owner", "editor", "viewer"))
    text = unique_config("basic_single_csv.yaml")

    async def scenario() -> None:
        project = await metadata(public_stack, owner).create_project(text)
        for role in ("editor", "viewer"):
            await metadata(public_stack, owner).set_member(project.id, people[role][0], role)
        edited = text.replace("Number of fruits", "Fruits per plant")
        assert (await metadata(public_stack, editor).sync_project(edited)).changed
        for token, config in (
            (viewer, edited),
            (editor, edited.replace("is_public: false", "is_public: true")),
        ):
            with pytest.raises(aio.AioRpcError) as caught:
                await metadata(public_stack, token).sync_project(config)
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(aio.AioRpcError) as caught:
            await metadata(public_stack, owner).create_project(edited)
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS

    run(scenario)


def test_lookup_user_finds_accounts_by_email_for_owners_and_admins_only(
    public_stack: Any, people: dict[str, tuple[str, str, str]], private_project: Any
) -> None:
    user_id, email, _ = people["viewer"]

    def lookup(token: str, address: str, project_id: str = "") -> Any:
        return run(
            lambda: AuthClient(public_stack.auth_addr, token).lookup_user(address, project_id)
        )

    owner = people["owner"][2]
    found = lookup(owner, email.upper(), private_project.id)
    assert (found.user_id, found.email) == (user_id, email)
    with pytest.raises(aio.AioRpcError) as unknown:
        lookup(owner, "no@example.org", private_project.id)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    admin = lookup(admin_token(public_stack), email)
    assert admin.user_id == user_id

    # Anyone else learns nothing: the same refusal for an account and for no account.
    for caller, project_id in (
        ("editor", private_project.id),
        ("viewer", private_project.id),
        ("outsider", private_project.id),
        ("outsider", ""),
    ):
        answers = []
        for address in (email, "no@example.org"):
            with pytest.raises(aio.AioRpcError) as refused:
                lookup(people[caller][2], address, project_id)
            answers.append((refused.value.code(), refused.value.details()))
        assert answers[0] == answers[1], caller
        assert answers[0][0] == grpc.StatusCode.PERMISSION_DENIED, (caller, answers[0])

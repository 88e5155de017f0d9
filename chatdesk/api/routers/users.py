"""/users and /me/presence: the desk's people, and each one's own presence."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from chatdesk.accounts import access, queries, services
from chatdesk.accounts.models import DEFAULT_CAPACITY, MAX_CAPACITY, MIN_CAPACITY, User
from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import errors
from chatdesk.flows import people, presence

router = Router(tags=["users"])

ZONE_HELP = "The zone the user's pages show times in; empty: the desk's."
RoleName = Literal["agent", "supervisor", "admin"]
PresenceName = Literal["available", "away", "offline"]


class UserIn(Schema):
    username: str
    password: str = Field(description="Checked by the desk's password rules.")
    role: RoleName = "agent"
    department_ids: list[int] = Field(default_factory=list)
    capacity: int = Field(
        DEFAULT_CAPACITY,
        ge=MIN_CAPACITY,
        le=MAX_CAPACITY,
        description="How many open chats the agent may hold at once.",
    )
    display_name: str = ""
    time_zone: str = Field("", description=ZONE_HELP)


class UserPatch(Schema):
    """Only what is sent changes."""

    username: str | None = None
    password: str | None = None
    role: RoleName | None = None
    department_ids: list[int] | None = None
    capacity: int | None = Field(None, ge=MIN_CAPACITY, le=MAX_CAPACITY)
    display_name: str | None = None
    is_active: bool | None = None
    time_zone: str | None = None


class UserOut(Schema):
    id: int
    username: str
    role: RoleName
    department_ids: list[int]
    capacity: int
    presence: PresenceName
    online: bool = Field(description="At least one live browser connection.")
    display_name: str
    is_active: bool
    time_zone: str = Field(description=ZONE_HELP)

    @staticmethod
    def resolve_department_ids(obj: User) -> list[int]:
        return sorted(department.pk for department in obj.departments.all())

    @staticmethod
    def resolve_online(obj: User) -> bool:
        return bool(getattr(obj, "is_online", False))


class PresenceIn(Schema):
    status: PresenceName


class PresenceOut(Schema):
    status: PresenceName
    online: bool


@router.get("/users", response={200: list[UserOut], **errors(401)})
def list_users(request: HttpRequest) -> list[User]:
    return list(queries.users_for_listing())


@router.post("/users", response={201: UserOut, **errors(400, 401, 403, 409)})
def create_user(request: HttpRequest, payload: UserIn) -> Status[User]:
    by = acting_user(request)
    user = people.create_user(
        username=payload.username,
        password=payload.password,
        role=payload.role,
        display_name=payload.display_name,
        capacity=payload.capacity,
        department_ids=payload.department_ids,
        time_zone=payload.time_zone,
        by=by,
    )
    return Status(201, access.user_for(by, user.pk))


@router.get("/users/{user_id}", response={200: UserOut, **errors(400, 401, 404)})
def get_user(request: HttpRequest, user_id: int) -> User:
    return access.user_for(acting_user(request), user_id)


@router.patch("/users/{user_id}", response={200: UserOut, **errors(400, 401, 403, 404, 409)})
def update_user(request: HttpRequest, user_id: int, payload: UserPatch) -> User:
    by = acting_user(request)
    user = people.update_user(
        user=access.user_for(by, user_id),
        changes=services.UserChanges(
            username=payload.username,
            password=payload.password,
            role=payload.role,
            display_name=payload.display_name,
            capacity=payload.capacity,
            department_ids=payload.department_ids,
            is_active=payload.is_active,
            time_zone=payload.time_zone,
        ),
        by=by,
    )
    return access.user_for(by, user.pk)


@router.get("/me/presence", response={200: PresenceOut, **errors(401)})
def get_presence(request: HttpRequest) -> dict[str, object]:
    user = acting_user(request)
    return {"status": user.presence, "online": queries.is_online(user)}


@router.put("/me/presence", response={200: PresenceOut, **errors(400, 401)})
def set_presence(request: HttpRequest, payload: PresenceIn) -> dict[str, object]:
    user = presence.set_presence(user=acting_user(request), status=payload.status)
    return {"status": user.presence, "online": queries.is_online(user)}

"""/users"""

from ninja import Router

router = Router(tags=["users"])

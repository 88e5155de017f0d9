"""/business_hours"""

from ninja import Router

router = Router(tags=["business_hours"])

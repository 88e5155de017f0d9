"""Users, roles, agent profiles, presence and API tokens."""

"""Departments, business hours, and routing's decisions: where a new chat goes (``rules``,
``placement``), who can take a chat now (``queries``), who a transfer may go to."""

"""Pages and fragments for agents, supervisors, admins and the customer simulator."""

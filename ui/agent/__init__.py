"""The station agent's workbench (代办员工作台): `agent_window` builds it; `ui.agent.tour.agent_tour` visits it."""

from ui.agent.window import AGENT_PAGES, agent_window

__all__ = ["AGENT_PAGES", "agent_window"]

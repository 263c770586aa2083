"""Tests of station operators; `make_staff` gives other tests a real technician and agent to act as."""

from __future__ import annotations

from kiosk_app.accounts import Operator, create_user, ensure_bootstrap_technician, log_in
from local_db.database import Database

TECH_PIN = "258369"
AGENT_PIN = "741852"


def make_staff(db: Database, agent: str = "wangli") -> tuple[Operator, Operator]:
    """(technician, agent), both logged in through the real accounts service."""
    ensure_bootstrap_technician(db, TECH_PIN)
    technician = log_in(db, "admin", TECH_PIN)
    create_user(db, agent, "王丽", "agent", AGENT_PIN, actor=technician)
    return technician, log_in(db, agent, AGENT_PIN)

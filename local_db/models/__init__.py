"""All tables of the station database. Import from here; Alembic's env reads `Base.metadata`."""

from local_db.models.applications import (
    Applicant,
    Application,
    ApplicationMaterial,
    AuditEvent,
    Blob,
    Evaluation,
    OutboxEntry,
    StatusEvent,
    TrackingSequence,
)
from local_db.models.appointments import Appointment
from local_db.models.base import Base, UTCDateTime, utcnow
from local_db.models.catalog import CatalogMeta, ItemAlias, ItemFormField, ItemMaterial, ServiceItem
from local_db.models.handover import Handover
from local_db.models.printing import PrintJob
from local_db.models.sync import DepartmentProgress, DeviceEnrolment, SyncMeta
from local_db.models.system import Role, Setting, UserAccount

__all__ = [
    "Applicant",
    "Application",
    "ApplicationMaterial",
    "Appointment",
    "AuditEvent",
    "Base",
    "Blob",
    "CatalogMeta",
    "DepartmentProgress",
    "DeviceEnrolment",
    "Evaluation",
    "Handover",
    "ItemAlias",
    "ItemFormField",
    "ItemMaterial",
    "OutboxEntry",
    "PrintJob",
    "Role",
    "ServiceItem",
    "Setting",
    "StatusEvent",
    "SyncMeta",
    "TrackingSequence",
    "UTCDateTime",
    "UserAccount",
    "utcnow",
]

"""Printable A4 documents (申请表, 委托书, 材料清单) as plain content models; `ui.documents` renders them with Qt."""

from kiosk_app.documents.content import (
    A4Document,
    Section,
    SignatureLine,
    StationInfo,
    Table,
    application_form,
    authorisation_letter,
    material_checklist,
)

__all__ = [
    "A4Document",
    "Section",
    "SignatureLine",
    "StationInfo",
    "Table",
    "application_form",
    "authorisation_letter",
    "material_checklist",
]

"""One villager's self-service session at the kiosk, without Qt: who, which service, what was filled in and
scanned, what they consented to, and what was filed. The screens hold one of these and nothing else personal,
so wiping it (idle timeout, 返回首页) forgets everything the person showed the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from kiosk_app.errors import InvalidInput

MISSING = "还缺少材料："

if TYPE_CHECKING:  # filing and forms load with the first form, not with the home screen
    from sqlalchemy.orm import Session

    from kiosk_app.applications.filing import Filed, MaterialFile
    from kiosk_app.catalog.library import ItemView, MaterialView
    from kiosk_app.identity import Identity
    from kiosk_app.station import Station
    from local_db.models import Application


@dataclass
class CapturedPage:
    material_code: str
    material_name: str
    jpeg: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)


@dataclass
class SelfServiceSession:
    identity: Identity | None = None
    item: ItemView | None = None
    form_values: dict[str, Any] = field(default_factory=dict)
    captured: dict[str, CapturedPage] = field(default_factory=dict)
    consent_personal_data: bool = False
    consent_data_sharing: bool = False  # separate consent: the platform may fetch e-licences in the person's name
    filed: Filed | None = None

    # ---- steps ---------------------------------------------------------------------------------------------

    def start(self, identity: Identity) -> None:
        self.wipe()
        self.identity = identity

    def choose(self, item: ItemView) -> None:
        from kiosk_app.applications.forms import prefilled

        self.item = item
        self.form_values = prefilled(item.form_fields, self.identity)
        self.captured.clear()
        self.consent_personal_data = self.consent_data_sharing = False
        self.filed = None

    def paper_materials(self) -> list[MaterialView]:
        """Materials the person hands over on paper (e-licences are fetched by the platform instead)."""
        assert self.item is not None
        return [m for m in self.item.materials if not m.elicence_type]

    def elicence_materials(self) -> list[MaterialView]:
        assert self.item is not None
        return [m for m in self.item.materials if m.elicence_type and m.required]

    def missing_scans(self) -> list[MaterialView]:
        return [m for m in self.paper_materials() if m.required and m.code not in self.captured]

    def check_form(self) -> dict[str, Any]:
        """Raise FormInvalid with every problem, or return the cleaned values."""
        from kiosk_app.applications.forms import validate_form

        assert self.item is not None
        return validate_form(self.item.form_fields, self.form_values, self.identity)

    def needs_data_sharing_consent(self) -> bool:
        return bool(self.item and self.elicence_materials())

    def blockers(self) -> list[str]:
        problems = [f"{MISSING}{m.name}" for m in self.missing_scans()]
        if not self.consent_personal_data:
            problems.append("请阅读并同意个人信息使用说明")
        if self.needs_data_sharing_consent() and not self.consent_data_sharing:
            problems.append("请同意由平台调取您的电子证照")
        return problems

    def submit(self, station: Station, *, channel: str = "kiosk", actor: str = "kiosk",
               agent_user_id: int | None = None, allow_missing: bool = False,
               today: date | None = None, extra_files: Sequence[MaterialFile] = (),
               also: Callable[[Session, Application], None] | None = None) -> Filed:
        """File what the session holds. `extra_files` are materials supplied other than by the camera (the
        applicant's signature standing in for the form) and `also` commits with the application (see
        `submit_application`). Missing consents stop it here; missing papers are the filing's to judge: it names
        them, or defers them when an agent accepts that (容缺, `allow_missing`)."""
        from kiosk_app.applications.filing import MaterialFile, submit_application

        if self.identity is None or self.item is None:
            raise InvalidInput("请先刷身份证并选择要办理的事项。")
        blockers = [b for b in self.blockers() if not b.startswith(MISSING)]
        if blockers:
            raise InvalidInput("；".join(blockers) + "。")
        files = [MaterialFile(page.material_code, page.jpeg, "image/jpeg") for page in self.captured.values()]
        self.filed = submit_application(
            station.db, station.catalog,
            station.filing_context(channel=channel, actor=actor, agent_user_id=agent_user_id),
            item_code=self.item.code, identity=self.identity, form_values=self.form_values,
            files=[*files, *extra_files], allow_missing=allow_missing, today=today, also=also)
        return self.filed

    def wipe(self) -> None:
        """Forget the person: identity, form, scans, consents, the filing's numbers."""
        self.identity = None
        self.item = None
        self.form_values = {}
        self.captured = {}
        self.consent_personal_data = self.consent_data_sharing = False
        self.filed = None

    @property
    def empty(self) -> bool:
        return (self.identity is None and self.item is None and not self.form_values and not self.captured
                and self.filed is None)

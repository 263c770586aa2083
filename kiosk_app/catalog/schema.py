"""The catalogue document format (version 1), validated with pydantic.

This is the wire and file format for the service-item library: what `kiosk catalog import` reads and what the
platform will serve by delta later. `docs/catalog-format.md` documents it for people; this module is the truth.
Every string has a length cap so a hostile or broken document (a 10 MB "name") is refused before it reaches the
database. Structural checks live here; cross-field rules from the province's checker live in `consistency.py`
so they can be reported all at once with the item code and field name.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

FORMAT_NAME = "kiosk-catalog"
FORMAT_VERSION = 1

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z._-]{1,64}$")]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+() -]{3,32}$")]


class ItemType(StrEnum):
    """Power-list item types (DOMAIN.md). Names are stored; vendor code schemes map onto these."""

    LICENSING = "行政许可"
    PENALTY = "行政处罚"
    ENFORCEMENT = "行政强制"
    LEVY = "行政征收"
    BENEFIT = "行政给付"
    INSPECTION = "行政检查"
    CONFIRMATION = "行政确认"
    REWARD = "行政奖励"
    ADJUDICATION = "行政裁决"
    OTHER_POWER = "其他行政权力"
    PUBLIC_SERVICE = "公共服务"


class ServiceObject(StrEnum):
    PERSON = "自然人"
    LEGAL_PERSON = "法人"


class CaseType(StrEnum):
    INSTANT = "即办件"
    PROMISED = "承诺件"


class ReviewType(StrEnum):
    INSTANT = "即审即办"
    PRE_REVIEW = "前审后批"


class OnlineDepth(StrEnum):
    """网上办理深度: Ⅰ 事项公开, Ⅱ 在线预审, Ⅲ 在线申办, Ⅳ 全程网办."""

    I = "Ⅰ"  # noqa: E741 - the Roman numeral is the official label
    II = "Ⅱ"
    III = "Ⅲ"
    IV = "Ⅳ"


class Delivery(StrEnum):
    WINDOW = "窗口领取"
    POSTAL = "快递送达"
    ELECTRONIC = "电子送达"
    VILLAGE = "村代办点领取"


class MaterialForm(StrEnum):
    ORIGINAL = "原件"
    COPY = "复印件"
    ORIGINAL_AND_COPY = "原件和复印件"
    ELECTRONIC = "电子件"


class Credibility(StrEnum):
    """国办函〔2016〕108号 credibility classes of a material."""

    A = "A"  # issued by an agency
    B = "B"  # verified by an officer against the original
    C = "C"  # uploaded by the applicant, original checked at the window
    D = "D"  # made by the applicant under pledge


class Level(StrEnum):
    TOWNSHIP = "township"
    VILLAGE = "village"


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    BOOLEAN = "boolean"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"
    BANK_ACCOUNT = "bank_account"


class Prefill(StrEnum):
    """Identity attributes a form field may be pre-filled from (keys of the Identity JSON)."""

    NAME = "name"
    SEX = "sex"
    NATION = "nation"
    BIRTH_DATE = "birth_date"
    ADDRESS = "address"
    ID_NUMBER = "id_number"
    PHONE = "phone"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class Material(_Strict):
    code: Code
    name: ShortText
    form: MaterialForm = MaterialForm.ORIGINAL
    copies: int = Field(default=1, ge=0, le=20)
    required: bool = True
    credibility: Credibility = Credibility.C
    elicence_type: ShortText | None = None  # e-licence that can replace the paper, e.g. "居民户口簿"
    note: LongText = ""


class FormField(_Strict):
    key: FieldKey
    label: ShortText
    type: FieldType = FieldType.TEXT
    required: bool = True
    min_length: int | None = Field(default=None, ge=0, le=4000)
    max_length: int | None = Field(default=None, ge=1, le=4000)
    pattern: Annotated[str, StringConstraints(max_length=200)] | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[ShortText] = Field(default_factory=list, max_length=100)
    prefill: Prefill | None = None
    help: LongText = ""

    @model_validator(mode="after")
    def _choices_match_type(self) -> FormField:
        if self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not self.choices:
            raise ValueError("选择类字段必须给出 choices")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError("min_length 大于 max_length")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum 大于 maximum")
        return self


class Fee(_Strict):
    charged: bool = False
    basis: LongText = ""
    standard: LongText = ""  # e.g. "工本费20元"
    online_payment: bool = False


class ProcessStep(_Strict):
    name: ShortText
    days: int = Field(default=0, ge=0, le=3650)


class Result(_Strict):
    type: ShortText = "其他"  # 证照 / 批文 / 其他
    name: ShortText | None = None


class ServiceItem(_Strict):
    code: Code
    name: ShortText
    aliases: list[ShortText] = Field(default_factory=list, max_length=20)
    item_type: ItemType
    department: ShortText
    service_object: list[ServiceObject] = Field(min_length=1, max_length=2)
    conditions: list[LongText] = Field(default_factory=list, max_length=50)
    materials: list[Material] = Field(default_factory=list, max_length=100)
    form_fields: list[FormField] = Field(default_factory=list, max_length=100)
    statutory_limit_days: int = Field(ge=0, le=3650)
    promised_limit_days: int = Field(ge=0, le=3650)
    case_type: CaseType
    review_type: ReviewType
    fee: Fee = Field(default_factory=Fee)
    visits: int = Field(ge=0, le=1)
    visit_reason: LongText = ""
    online_depth: OnlineDepth
    online: bool
    delivery: list[Delivery] = Field(min_length=1, max_length=4)
    result: Result = Field(default_factory=Result)
    process_steps: list[ProcessStep] = Field(default_factory=list, max_length=30)
    life_events: list[ShortText] = Field(default_factory=list, max_length=20)
    levels: list[Level] = Field(min_length=1, max_length=2)
    consult_phone: Phone | None = None
    complaint_phone: Phone | None = None
    address: LongText = ""
    hours: LongText = ""

    @field_validator("aliases", "life_events", "service_object", "delivery", "levels", mode="before")
    @classmethod
    def _unique_strings(cls, values: Any) -> Any:
        # Checked on the raw strings, before enum conversion: hashing enum members is Python-level and made
        # this check a tenth of a 100,000-item import. Non-lists fall through to the type error.
        if isinstance(values, list) and all(isinstance(v, str) for v in values) and len(set(values)) != len(values):
            raise ValueError("列表中有重复项")
        return values


class CatalogDocument(_Strict):
    format: Literal["kiosk-catalog"]
    format_version: Literal[1]
    catalog_version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z._-]{1,40}$")]
    region: ShortText
    items: list[ServiceItem] = Field(max_length=500_000)

"""Large synthetic catalogues and query mixes for benchmarks and load tests.

Real catalogues have a few hundred items per township; the search and the store must still behave with
100,000. `generate_catalog` builds a `CatalogDocument`-shaped dict whose items read like real ones
("城乡居民基本医疗保险参保登记（新市镇）"), pass pydantic validation and every rule in `consistency.py`, and
are the same for the same seed. `query_mix` turns such a catalogue into the queries people actually type.

Sub-objects that cannot differ between items (a material, a form field, a fee) are shared between items to
keep a 100,000-item document in memory cheaply: treat the document as read-only, or deep-copy before editing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from kiosk_app.catalog.pinyin_keys import normalize, pinyin_keys
from kiosk_app.catalog.schema import FORMAT_NAME, FORMAT_VERSION, ItemType
from kiosk_app.catalog.search import SearchEntry

__all__ = ["generate_catalog", "iter_items", "query_mix"]

REGION = "浙江省湖州市德清县"

_PERSONS = (
    "城乡居民", "城镇职工", "灵活就业人员", "残疾人", "退役军人", "老年人", "高龄老人", "困难群众",
    "特困人员", "低保家庭", "孤儿", "留守儿童", "新生儿", "独生子女家庭", "计划生育家庭", "流动人口",
    "农村村民", "渔民", "林农", "被征地农民", "失业人员", "高校毕业生", "外来务工人员",
    "退休人员", "优抚对象", "烈士遗属",
)  # fmt: skip
_ORGANISATIONS = ("个体工商户", "农民专业合作社", "小微企业", "村集体经济组织", "家庭农场")

# topic, department, its code abbreviation (docs/catalog-format.md), alias (or ""), item type, life event
_TOPICS: tuple[tuple[str, str, str, str, ItemType, str], ...] = (
    ("基本医疗保险参保", "县医疗保障局", "YB", "医保", ItemType.PUBLIC_SERVICE, "医疗卫生"),
    ("基本养老保险参保", "县人力资源和社会保障局", "RS", "养老保险", ItemType.PUBLIC_SERVICE, "社会保障"),
    ("养老金", "县人力资源和社会保障局", "RS", "退休金", ItemType.BENEFIT, "社会保障"),
    ("最低生活保障", "县民政局", "MZ", "低保", ItemType.BENEFIT, "社会救助"),
    ("社会保障卡", "县人力资源和社会保障局", "RS", "社保卡", ItemType.PUBLIC_SERVICE, "社会保障"),
    ("临时救助", "县民政局", "MZ", "", ItemType.BENEFIT, "社会救助"),
    ("医疗救助", "县医疗保障局", "YB", "", ItemType.BENEFIT, "社会救助"),
    ("生活补贴", "县民政局", "MZ", "", ItemType.BENEFIT, "社会救助"),
    ("护理补贴", "县民政局", "MZ", "", ItemType.BENEFIT, "残疾人服务"),
    ("高龄津贴", "县民政局", "MZ", "高龄补贴", ItemType.BENEFIT, "养老服务"),
    ("优待证", "县退役军人事务局", "TY", "", ItemType.CONFIRMATION, "退役军人"),
    ("就业创业证", "县人力资源和社会保障局", "RS", "就业证", ItemType.PUBLIC_SERVICE, "就业创业"),
    ("失业保险金", "县人力资源和社会保障局", "RS", "失业金", ItemType.BENEFIT, "就业创业"),
    ("居住证", "县公安局", "GA", "", ItemType.PUBLIC_SERVICE, "户籍办理"),
    ("营业执照", "县市场监督管理局", "SJ", "执照", ItemType.LICENSING, "市场主体"),
    ("食品经营许可证", "县市场监督管理局", "SJ", "食品许可证", ItemType.LICENSING, "市场主体"),
    ("宅基地使用", "县农业农村局", "NY", "", ItemType.LICENSING, "住房建房"),
    ("农村村民住宅建设", "县自然资源和规划局", "ZR", "农房审批", ItemType.LICENSING, "住房建房"),
    ("林木采伐许可证", "县林业局", "LY", "采伐证", ItemType.LICENSING, "农业农村"),
    ("取水许可证", "县水利局", "SL", "", ItemType.LICENSING, "农业农村"),
    ("生育服务", "县卫生健康局", "WJ", "生育登记", ItemType.PUBLIC_SERVICE, "生育收养"),
    ("独生子女父母光荣证", "县卫生健康局", "WJ", "光荣证", ItemType.CONFIRMATION, "生育收养"),
    ("残疾人证", "县残疾人联合会", "CL", "残疾证", ItemType.CONFIRMATION, "残疾人服务"),
    ("殡葬补助", "县民政局", "MZ", "丧葬补助", ItemType.BENEFIT, "身后事"),
    ("耕地地力保护补贴", "县农业农村局", "NY", "种粮补贴", ItemType.BENEFIT, "农业农村"),
    ("住房公积金", "县住房公积金管理中心", "GJ", "公积金", ItemType.PUBLIC_SERVICE, "住房建房"),
    ("户籍证明", "县公安局", "GA", "户口证明", ItemType.CONFIRMATION, "户籍办理"),
    ("困难学生资助", "县教育局", "JY", "助学金", ItemType.BENEFIT, "教育培训"),
    ("城乡居民医疗费用零星报销", "县医疗保障局", "YB", "医保报销", ItemType.BENEFIT, "医疗卫生"),
    ("两项补贴", "县民政局", "MZ", "残补", ItemType.BENEFIT, "残疾人服务"),
    ("奖励扶助金", "县卫生健康局", "WJ", "奖扶", ItemType.REWARD, "生育收养"),
    ("农机购置补贴", "县农业农村局", "NY", "农机补贴", ItemType.BENEFIT, "农业农村"),
)

_ACTIONS = (
    "登记", "申领", "变更", "注销", "认定", "备案", "审批", "申请", "补办", "换领", "核准", "查询",
    "转移接续", "暂停", "恢复", "延续", "发放", "核查",
)  # fmt: skip

_PLACES = (
    "新市镇", "钟管镇", "洛舍镇", "乾元镇", "禹越镇", "新安镇", "雷甸镇", "莫干山镇", "阜溪街道", "舞阳街道",
    "下渚湖街道", "康乾街道", "武康街道", "递铺街道", "孝丰镇", "天子湖镇", "鄣吴镇", "杭垓镇", "梅溪镇",
    "和平镇", "雉城街道", "泗安镇", "洪桥镇", "煤山镇",
)  # fmt: skip

# name, e-licence that can replace it (or ""), credibility class
_MATERIALS = (
    ("居民身份证", "居民身份证", "A"), ("居民户口簿", "居民户口簿", "A"), ("结婚证", "结婚证", "A"),
    ("残疾人证", "残疾人证", "A"), ("营业执照", "营业执照", "A"), ("退役证明", "", "A"),
    ("申请表", "", "D"), ("个人承诺书", "", "D"), ("银行卡或存折", "", "C"), ("近期一寸免冠照片", "", "C"),
    ("医疗费用票据", "", "A"), ("出院小结", "", "A"), ("收入证明", "", "B"), ("劳动合同", "", "C"),
    ("农村土地承包经营权证", "农村土地承包经营权证", "A"), ("不动产权证书", "不动产权证书", "A"),
    ("村民委员会证明", "", "A"), ("授权委托书", "", "D"), ("出生医学证明", "出生医学证明", "A"),
    ("居民死亡医学证明", "居民死亡医学证明", "A"),
)  # fmt: skip
_MATERIAL_FORMS = ("原件", "复印件", "原件和复印件", "电子件")

_FIELDS: tuple[dict[str, Any], ...] = (
    {"key": "id_number", "label": "公民身份号码", "type": "id_number", "prefill": "id_number"},
    {"key": "address", "label": "家庭住址", "type": "text", "prefill": "address", "max_length": 200},
    {"key": "bank_account", "label": "银行账号", "type": "bank_account"},
    {"key": "household_size", "label": "家庭人口数", "type": "integer", "minimum": 1, "maximum": 30},
    {"key": "apply_reason", "label": "申请事由", "type": "textarea", "max_length": 500},
    {"key": "start_date", "label": "起始日期", "type": "date"},
    {"key": "category", "label": "申请类别", "type": "choice", "choices": ["首次申请", "变更", "补办"]},
    {"key": "pledge", "label": "本人承诺所填信息真实有效", "type": "boolean"},
    {"key": "monthly_income", "label": "家庭月收入（元）", "type": "decimal", "minimum": 0},
    {"key": "sex", "label": "性别", "type": "choice", "choices": ["男", "女"], "prefill": "sex"},
    {"key": "birth_date", "label": "出生日期", "type": "date", "prefill": "birth_date"},
    {"key": "credit_code", "label": "统一社会信用代码", "type": "credit_code", "required": False},
)
# Every item asks for the applicant's name and a phone number (a convention of the sample catalogue).
_FIRST_FIELDS: tuple[dict[str, Any], ...] = (
    {"key": "applicant_name", "label": "申请人姓名", "type": "text", "prefill": "name", "max_length": 50},
    {"key": "phone", "label": "联系电话", "type": "phone", "prefill": "phone"},
)

_CONDITIONS = (
    "具有本县户籍", "在本县连续居住满六个月", "符合国家和省规定的条件",
    "家庭人均收入低于当地最低生活保障标准",
    "本人或其监护人提出申请", "已依法办理相关登记手续",
)  # fmt: skip
_VISIT_REASONS = (
    "需现场核验身份证件原件",
    "需现场采集人像和指纹",
    "需工作人员实地查看",
    "需本人现场签字确认",
)
_DELIVERIES = ("窗口领取", "快递送达", "电子送达", "村代办点领取")
_HOURS = "周一至周五 8:30-12:00，13:30-17:00（法定节假日除外）"
_FEE_FREE: dict[str, Any] = {"charged": False}
_FEES_CHARGED: tuple[dict[str, Any], ...] = tuple(
    {"charged": True, "basis": "浙价费〔2019〕号文件", "standard": standard, "online_payment": online}
    for standard in ("工本费20元", "工本费10元", "每证5元")
    for online in (True, False)
)
_MISSES = ("火星签证", "qqzx", "xzqw", "宇宙飞船牌照", "zzzzz", "kqxw", "量子", "woshixiaoming")


def _material_pool() -> list[list[dict[str, Any]]]:
    pool: list[list[dict[str, Any]]] = []
    for index, (name, elicence, credibility) in enumerate(_MATERIALS):
        variants = []
        for form in _MATERIAL_FORMS:
            for required in (True, False):
                material: dict[str, Any] = {
                    "code": f"M{index + 1:02d}",
                    "name": name,
                    "form": form,
                    "copies": 0 if form == "电子件" else 1,
                    "required": required,
                    "credibility": credibility,
                }
                if elicence:
                    material["elicence_type"] = elicence
                variants.append(material)
        pool.append(variants)
    return pool


def _unique_name(rng: random.Random, used: set[str]) -> tuple[str, str, int, bool]:
    """A fresh item name, its subject, the topic index, and whether the subject is an organisation."""
    while True:
        organisation = rng.random() < 0.15
        subject = rng.choice(_ORGANISATIONS if organisation else _PERSONS)
        topic_index = rng.randrange(len(_TOPICS))
        action = rng.choice(_ACTIONS)
        base = f"{subject}{_TOPICS[topic_index][0]}{action}"
        roll = rng.random()
        if roll < 0.15:
            name = base
        elif roll < 0.8:
            name = f"{base}（{rng.choice(_PLACES)}）"
        else:
            name = f"{base}（{rng.randint(2015, 2025)}年度）"
        if name in used:
            # Numbered batches keep names distinct once the combinations run out (large catalogues).
            name = f"{name}第{rng.randint(1, 999)}批"
        if name not in used:
            used.add(name)
            return name, subject, topic_index, organisation


def _steps(rng: random.Random, promised: int, instant: bool) -> list[dict[str, Any]]:
    if instant:
        return [{"name": "受理", "days": 0}, {"name": "办结", "days": 0}]
    names = ("受理", "审查", "决定", "办结")
    # The steps must fit in the promise (a consistency rule for licences; realistic for every item).
    budget = rng.randint(0, promised)
    days = [0, 0, 0, 0]
    for _ in range(budget):
        days[rng.randrange(1, 3)] += 1
    return [{"name": name, "days": day} for name, day in zip(names, days, strict=True)]


def iter_items(n_items: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield `n_items` item dicts one by one, for streaming into an importer without the whole document."""
    rng = random.Random(seed)
    materials = _material_pool()
    used: set[str] = set()
    for number in range(n_items):
        name, subject, topic_index, organisation = _unique_name(rng, used)
        topic, department, abbreviation, topic_alias, item_type, life_event = _TOPICS[topic_index]
        aliases: list[str] = []
        if topic_alias and rng.random() < 0.6:
            aliases.append(topic_alias)
        if topic_alias and rng.random() < 0.25:
            aliases.append(f"{subject}{topic_alias}")
        instant = rng.random() < 0.45
        if instant:
            promised = 0
            statutory = rng.choice((0, 0, 5, 10, 20))
        else:
            promised = rng.randint(1, 20)
            statutory = rng.choice((0, rng.randint(promised, 60)))
        depth = rng.choices(("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"), weights=(5, 15, 40, 40))[0]
        online = depth in ("Ⅲ", "Ⅳ")
        visits = 0 if depth == "Ⅳ" else rng.choice((0, 1, 1))
        delivery = rng.sample(_DELIVERIES, rng.randint(1, 3))
        if visits == 0 and not online and "快递送达" not in delivery:
            delivery.append("快递送达")
        place = rng.choice(_PLACES)
        township_office = rng.random() < 0.3
        levels = rng.choice((["township"], ["township"], ["township", "village"], ["village"]))
        if "村代办点领取" in delivery and "village" not in levels:
            levels = ["township", "village"]  # the sample's convention: village pick-up only on village items
        item: dict[str, Any] = {
            "code": f"330521-{'ZF' if township_office else abbreviation}-{number + 1:07d}",
            "name": name,
            "aliases": aliases,
            "item_type": item_type.value,
            "department": f"{place}人民政府" if township_office else department,
            "service_object": ["法人"] if organisation else ["自然人"],
            "conditions": rng.sample(_CONDITIONS, rng.randint(1, 2)),
            "materials": [
                rng.choice(materials[i]) for i in sorted(rng.sample(range(len(materials)), rng.randint(1, 6)))
            ],
            "form_fields": [*_FIRST_FIELDS, *rng.sample(_FIELDS, rng.randint(0, 6))],
            "statutory_limit_days": statutory,
            "promised_limit_days": promised,
            "case_type": "即办件" if instant else "承诺件",
            "review_type": "即审即办" if instant else "前审后批",
            "fee": rng.choice(_FEES_CHARGED) if rng.random() < 0.1 else _FEE_FREE,
            "visits": visits,
            "visit_reason": rng.choice(_VISIT_REASONS) if visits else "",
            "online_depth": depth,
            "online": online,
            "delivery": delivery,
            "result": {"type": "证照", "name": topic} if topic.endswith("证") else {"type": "其他"},
            "process_steps": _steps(rng, promised, instant),
            "life_events": [life_event],
            "levels": levels,
            "consult_phone": f"0572-{rng.randint(8000000, 8999999)}",
            "complaint_phone": "12345",
            "address": f"{REGION}{place}便民服务中心",
            "hours": _HOURS,
        }
        yield item


def generate_catalog(n_items: int, seed: int = 0) -> dict[str, Any]:
    """A whole `CatalogDocument`-shaped dict of `n_items` synthetic items; the same for the same seed."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "catalog_version": f"synthetic-{seed}-{n_items}",
        "region": f"{REGION}（合成数据）",
        "items": list(iter_items(n_items, seed)),
    }


def _han_slice(rng: random.Random, text: str, low: int, high: int) -> str:
    """A random slice of 2-4 characters of the normalised `text` (the whole text if it is short)."""
    size = min(len(text), rng.randint(low, high))
    start = rng.randint(0, len(text) - size)
    return text[start : start + size]


def query_mix(entries: Sequence[SearchEntry] | Sequence[str], n: int, seed: int = 0) -> list[str]:
    """`n` queries in the proportions seen at a counter and a kiosk, drawn from `entries` (or plain names).

    About a quarter Chinese fragments, a fifth full-pinyin fragments, a quarter initials (mostly prefixes,
    some typed in capitals with spaces), a tenth aliases in Chinese, pinyin or initials, a few whole names,
    and a few queries that match nothing.
    """
    rng = random.Random(seed)
    if not entries:
        return [rng.choice(_MISSES) for _ in range(n)]
    queries: list[str] = []
    for _ in range(n):
        picked: SearchEntry | str = entries[rng.randrange(len(entries))]
        entry = SearchEntry.from_text("q", picked) if isinstance(picked, str) else picked
        text = normalize(entry.name)
        roll = rng.random()
        if roll < 0.25 and text:
            queries.append(_han_slice(rng, text, 2, 4))
        elif roll < 0.45 and text:
            queries.append(pinyin_keys(_han_slice(rng, text, 2, 3))[0])
        elif roll < 0.70 and entry.name_initials:
            initials = entry.name_initials
            size = min(len(initials), rng.randint(2, 6))
            start = 0 if rng.random() < 0.6 else rng.randint(0, len(initials) - size)
            fragment = initials[start : start + size]
            if rng.random() < 0.15:
                fragment = " ".join(fragment[i : i + 2] for i in range(0, len(fragment), 2)).upper()
            queries.append(fragment)
        elif roll < 0.80 and entry.aliases:
            index = rng.randrange(len(entry.aliases))
            queries.append(
                rng.choice((entry.aliases[index], entry.alias_pinyin[index], entry.alias_initials[index]))
            )
        elif roll < 0.88:
            queries.append(entry.name)
        else:
            queries.append(rng.choice(_MISSES))
    return queries

"""The demo dispatch programme: a deterministic plan of synthetic experts, requests, assignments
and sessions for FY2026 (`dxlink seed --demo` writes it, seeds/demo_loader.py).

Reference data stays real: the municipalities are the seeded 30 of Wakayama, the theme menu is
the one the prefecture's programme report names (seeds/data/README.md of the shared data:
DX推進計画, 生成AI, 情報システム標準化), and the programme has the pilot's default shape
(2026-06-01 to 2027-02-28, four sessions a month aimed at, six at most, the first on site,
reports confirmed by the municipality). Everything invented is named so that nobody mistakes
it for a person or a company: experts are 「デモ ...」, affiliations carry デモ, contacts are at
example.jp.

The plan follows the rules the mutations enforce (service/dispatch/*.py): themes covered,
periods inside the programme, capacity across assignments (`first_month_over`), no two sessions
of an expert at once (here: at most one a day), the programme's monthly maximum, the first
session of an assignment on site. The loader writes it through those same services, so a plan
that broke one would fail loudly. Which sessions are held and which planned depends on ``now``:
the plan is the same for the same ``now`` (a fixed random seed), and sessions that ended before
it are held with a report.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.dispatch.repository import first_month_over, month_starts, next_month
from service.models.dispatch import VisitMode, VisitStatus

JST = ZoneInfo("Asia/Tokyo")
SEED = 20260601
FISCAL_YEAR = 2026
PROGRAMME_NAME = "【デモ】令和8年度 デジタル専門人材派遣"
STARTS_ON, ENDS_ON = date(2026, 6, 1), date(2027, 2, 28)
THEMES = ("DX推進計画", "生成AI", "情報システム標準化")
TARGET, MAXIMUM = 4, 6
REQUESTS = 20

# National holidays in the programme's period, and the offices' year-end closure.
_CLOSED = """
    2026-07-20 2026-08-11 2026-09-21 2026-09-22 2026-09-23 2026-10-12 2026-11-03 2026-11-23
    2026-12-29 2026-12-30 2026-12-31 2027-01-01 2027-01-02 2027-01-03 2027-01-11 2027-02-11
    2027-02-23
"""
HOLIDAYS = frozenset(date.fromisoformat(day) for day in _CLOSED.split())


@dataclass(frozen=True)
class Window:
    starts_on: date
    ends_on: date
    note: str | None = None


@dataclass(frozen=True)
class DemoExpert:
    name: str
    affiliation: str
    main_job: str
    themes: tuple[str, ...]
    skills: tuple[str, ...]
    adviser_registrations: tuple[str, ...]
    contact: str
    monthly_capacity: int
    availability: tuple[Window, ...]

    def available(self, day: date) -> bool:
        return any(w.starts_on <= day <= w.ends_on for w in self.availability)


_ALL = Window(STARTS_ON, ENDS_ON, "平日の日中")
_OBON = (
    Window(STARTS_ON, date(2026, 8, 9), "平日の日中"),
    Window(date(2026, 8, 17), ENDS_ON, "お盆期間を除く"),
)
_WINTER = (
    Window(STARTS_ON, date(2026, 12, 18), "平日の日中"),
    Window(date(2027, 1, 12), ENDS_ON, "年末年始は本業の繁忙期"),
)
ADVISER = "地域情報化アドバイザー（総務省）"
MANAGER = "デジタル人材確保支援（デモ登録）"

EXPERTS = (
    DemoExpert("デモ 青木 一郎", "株式会社デモDXパートナーズ", "ITコンサルタント",
               ("DX推進計画", "生成AI"), ("業務改革", "計画策定"), (ADVISER,),
               "demo-aoki@example.jp", 8, (_ALL,)),
    DemoExpert("デモ 石田 花子", "デモ大学 情報学部", "准教授",
               ("生成AI",), ("自然言語処理", "職員研修"), (),
               "demo-ishida@example.jp", 4, _OBON),
    DemoExpert("デモ 上野 健", "デモシステムズ株式会社", "システムエンジニア",
               ("情報システム標準化",), ("基幹業務システム", "ガバメントクラウド"), (MANAGER,),
               "demo-ueno@example.jp", 8, (_ALL,)),
    DemoExpert("デモ 江口 美咲", "デモ江口データ事務所", "データアナリスト",
               ("DX推進計画",), ("データ分析", "EBPM"), (),
               "demo-eguchi@example.jp", 4, (_ALL,)),
    DemoExpert("デモ 大西 翔", "株式会社デモクラウド", "クラウドアーキテクト",
               ("情報システム標準化", "生成AI"), ("クラウド移行", "セキュリティ"), (ADVISER,),
               "demo-onishi@example.jp", 8, _WINTER),
    DemoExpert("デモ 加藤 由紀", "一般社団法人デモ地域DX協会", "理事",
               ("DX推進計画",), ("推進体制づくり", "住民参加"), (ADVISER, MANAGER),
               "demo-kato@example.jp", 8, (_ALL,)),
    DemoExpert("デモ 木村 大輔", "デモ総研株式会社", "主任研究員",
               ("DX推進計画", "情報システム標準化"), ("調達支援", "業務分析"), (),
               "demo-kimura@example.jp", 4, (_ALL,)),
    DemoExpert("デモ 小林 彩", "株式会社デモAIラボ", "AIエンジニア",
               ("生成AI",), ("プロンプト設計", "RAG"), (),
               "demo-kobayashi@example.jp", 8, _OBON),
    DemoExpert("デモ 佐藤 誠", "デモ市 元情報政策課長", "自治体DXアドバイザー",
               ("情報システム標準化", "DX推進計画"), ("庁内調整", "ベンダー調整"), (ADVISER,),
               "demo-sato@example.jp", 4, (_ALL,)),
    DemoExpert("デモ 鈴木 真理", "デモデザイン合同会社", "サービスデザイナー",
               ("DX推進計画", "生成AI"), ("サービスデザイン", "書かない窓口"), (),
               "demo-suzuki@example.jp", 4, _WINTER),
    DemoExpert("デモ 田中 拓也", "デモセキュリティ株式会社", "情報セキュリティコンサルタント",
               ("情報システム標準化",), ("情報セキュリティポリシー", "ネットワーク"), (),
               "demo-tanaka@example.jp", 4, (_ALL,)),
    DemoExpert("デモ 中村 さくら", "デモ大学 地域連携センター", "特任講師",
               ("生成AI", "DX推進計画"), ("人材育成", "ワークショップ"), (MANAGER,),
               "demo-nakamura@example.jp", 8, (_ALL,)),
)  # fmt: skip

GOALS = {
    "DX推進計画": (
        ("DX推進計画の策定と庁内推進体制の構築", "自治体の計画策定を支援した経験"),
        ("既存のDX推進計画の改定と KPI の設定", "KPI 設計と進捗管理の知見"),
    ),
    "生成AI": (
        ("生成AIの利用ガイドライン策定と職員研修", "生成AIの業務活用と情報セキュリティの知見"),
        ("議事録・文書作成業務への生成AI導入", "自治体業務への AI 導入の実績"),
    ),
    "情報システム標準化": (
        ("標準準拠システムへの移行計画とベンダー調整", "基幹業務システム標準化の経験"),
        ("ガバメントクラウド移行後の運用経費の見直し", "クラウドの費用最適化の知見"),
    ),
}
TOPICS = {
    "DX推進計画": ("現状のヒアリング", "課題の整理と優先順位付け", "計画骨子の検討",
                   "KPI の設定", "庁内説明資料の作成", "推進体制の検討", "進捗の振り返り"),
    "生成AI": ("利用状況のヒアリング", "利用ガイドライン案の検討", "職員向け研修",
               "議事録作成の試行", "プロンプト事例の共有", "効果測定", "展開計画の検討"),
    "情報システム標準化": ("移行対象システムの棚卸し", "移行スケジュールの確認",
                           "ベンダー打合せ", "Fit&Gap の確認", "運用経費の試算",
                           "移行リスクの整理", "進捗の振り返り"),
}  # fmt: skip
CANCEL_REASONS = (
    "台風接近のため延期",
    "議会対応のため日程変更",
    "専門家の体調不良のため延期",
    "庁内の災害対応のため延期",
)
# (hour, minute, minutes) in Japan: on site half a day, online shorter.
ON_SITE_SLOTS = ((10, 0, 120), (13, 30, 120))
ONLINE_SLOTS = ((10, 0, 60), (14, 0, 90), (16, 0, 60))


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    kind: str  # CITY, TOWN, VILLAGE

    @property
    def office(self) -> str:
        return f"{self.name}役所" if self.kind == "CITY" else f"{self.name}役場"


@dataclass(frozen=True)
class DemoRequest:
    code: str
    theme: str
    goals: str
    required_profile: str
    withdrawn: bool = False


@dataclass
class DemoAssignment:
    request: DemoRequest
    expert: int  # index into EXPERTS
    starts_on: date
    ends_on: date
    ended_on: date | None = None  # ended early (endAssignment)
    ended_reason: str | None = None


@dataclass
class DemoSession:
    assignment: int  # index into DemoPlan.assignments
    starts_at: datetime
    ends_at: datetime
    mode: VisitMode
    place: str | None
    topic: str
    status: VisitStatus
    report: str | None = None
    next_steps: str | None = None
    confirmed: bool = False
    cancelled_reason: str | None = None

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass
class DemoPlan:
    requests: list[DemoRequest] = field(default_factory=list)
    assignments: list[DemoAssignment] = field(default_factory=list)
    sessions: list[DemoSession] = field(default_factory=list)
    experts: tuple[DemoExpert, ...] = EXPERTS


def build_plan(municipalities: list[Municipality], now: datetime) -> DemoPlan:
    """The demo for ``municipalities`` (the seeded ones), with sessions before ``now`` held."""
    rng = random.Random(SEED)
    plan = DemoPlan()
    chosen = sorted(rng.sample(sorted(municipalities, key=lambda m: m.code), REQUESTS),
                    key=lambda m: m.code)  # fmt: skip
    by_code = {m.code: m for m in municipalities}
    bookings: dict[int, list[tuple[date, date, int]]] = {i: [] for i in range(len(EXPERTS))}
    for n, municipality in enumerate(chosen):
        theme = THEMES[n % len(THEMES)] if n % 4 else rng.choice(THEMES)
        goals, profile = rng.choice(GOALS[theme])
        request = DemoRequest(municipality.code, theme, goals, profile, withdrawn=n == 7)
        plan.requests.append(request)
        if request.withdrawn or n == 13:  # one withdrawn, one still waiting for an expert
            continue
        # About six months, starting between June and October.
        start = month_starts(STARTS_ON, date(2026, 10, 1))[rng.choice((0, 0, 0, 1, 1, 2, 3, 4))]
        end = min(ENDS_ON, _add_months(start, 6) - timedelta(days=1))
        expert = _pick_expert(rng, theme, start, end, bookings)
        if expert is None:  # nobody free: the request stays open
            continue
        bookings[expert].append((start, end, TARGET))
        plan.assignments.append(DemoAssignment(request, expert, start, end))
    # One assignment ends early, at the end of its fourth month.
    early = next(a for a in plan.assignments if a.ends_on >= _add_months(a.starts_on, 5))
    early.ended_on = _add_months(early.starts_on, 4) - timedelta(days=1)
    early.ended_reason = "庁内体制の見直しにより早期終了"
    busy: dict[int, set[date]] = {i: set() for i in range(len(EXPERTS))}
    for index, assignment in enumerate(plan.assignments):
        _schedule(rng, plan, index, by_code[assignment.request.code], busy, now)
    plan.sessions.sort(key=lambda s: (s.starts_at, s.assignment))
    return plan


def _pick_expert(
    rng: random.Random,
    theme: str,
    start: date,
    end: date,
    bookings: dict[int, list[tuple[date, date, int]]],
) -> int | None:
    """An expert covering ``theme`` whose capacity holds another assignment; the least booked
    first (ties at random)."""
    fitting = [
        i
        for i, expert in enumerate(EXPERTS)
        if theme in expert.themes
        and first_month_over([*bookings[i], (start, end, TARGET)], expert.monthly_capacity) is None
    ]
    if not fitting:
        return None
    rng.shuffle(fitting)
    return min(fitting, key=lambda i: len(bookings[i]) * TARGET / EXPERTS[i].monthly_capacity)


def _schedule(
    rng: random.Random,
    plan: DemoPlan,
    index: int,
    municipality: Municipality,
    busy: dict[int, set[date]],
    now: datetime,
) -> None:
    """Four sessions a month (one a week), on working days the expert is available and free."""
    assignment = plan.assignments[index]
    expert = EXPERTS[assignment.expert]
    last_day = assignment.ended_on or assignment.ends_on
    topics = TOPICS[assignment.request.theme]
    first = True
    for n, month in enumerate(month_starts(assignment.starts_on, last_day)):
        topic = topics[min(n, len(topics) - 1)]  # the work moves on month by month
        weeks = [(month + timedelta(days=7 * w), 7) for w in range(3)]
        weeks.append((month + timedelta(days=21), (next_month(month) - month).days - 21))
        for week_start, length in weeks:
            days = [
                day
                for day in (week_start + timedelta(days=d) for d in range(length))
                if assignment.starts_on <= day <= last_day
                and day.weekday() < 5
                and day not in HOLIDAYS
                and expert.available(day)
                and day not in busy[assignment.expert]
            ]
            if not days:
                continue
            day = rng.choice(days)
            busy[assignment.expert].add(day)
            on_site = first or rng.random() < 0.25
            session = _session(rng, index, day, on_site, municipality, topic, now)
            # The first session is never the cancelled one: it opens the assignment on site.
            if not first and rng.random() < 0.05:
                session.status = VisitStatus.CANCELLED
                session.cancelled_reason = rng.choice(CANCEL_REASONS)
                later = [d for d in days if d > day]
                if later:  # made up later in the same week
                    again = rng.choice(later)
                    busy[assignment.expert].add(again)
                    plan.sessions.append(
                        _session(rng, index, again, on_site, municipality, topic, now)
                    )
            plan.sessions.append(session)
            first = False


def _session(
    rng: random.Random,
    index: int,
    day: date,
    on_site: bool,
    municipality: Municipality,
    topic: str,
    now: datetime,
) -> DemoSession:
    hour, minute, minutes = rng.choice(ON_SITE_SLOTS if on_site else ONLINE_SLOTS)
    starts_at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)
    ends_at = starts_at + timedelta(minutes=minutes)
    session = DemoSession(
        index,
        starts_at,
        ends_at,
        VisitMode.ON_SITE if on_site else VisitMode.ONLINE,
        f"{municipality.office} 会議室" if on_site else None,
        topic,
        VisitStatus.PLANNED,
    )
    if ends_at <= now:
        # A generator of the session's own, so that the calendar does not depend on ``now``.
        own = random.Random(f"{SEED}-{index}-{day.isoformat()}")
        session.status = VisitStatus.HELD
        session.report = (
            f"【デモ】{topic}について担当課と協議した。"
            f"論点を{own.randint(2, 5)}点に整理し、資料を共有した。"
        )
        session.next_steps = "【デモ】次回までに担当課で論点への対応案をまとめる。"
        # Older reports are mostly confirmed by the municipality; recent ones often not yet.
        recent = now - ends_at < timedelta(days=14)
        session.confirmed = own.random() < (0.3 if recent else 0.9)
    return session


def _add_months(day: date, months: int) -> date:
    for _ in range(months):
        day = next_month(day)
    return day

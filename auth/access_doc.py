"""Generate docs/ACCESS.md from the policy table: `python -m auth.access_doc`."""

from __future__ import annotations

import sys
from pathlib import Path

from auth.policy import COMPOSITE_WRITES, POLICY, PUBLIC_TYPES, Rows
from auth.principal import SCOPE_CLAIMS, Role

DOC = Path(__file__).resolve().parent.parent / "docs" / "ACCESS.md"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def render() -> str:
    roles = list(Role)
    lines = [
        "# Who reads what",
        "",
        "Generated from `auth/policy.py` by `python -m auth.access_doc`; a test fails when this",
        "file is stale. The same table drives the query-layer filters and the tests; the",
        "row-level-security policies in PostgreSQL implement the same rules (see",
        'ARCHITECTURE.md, "Access control").',
        "",
        "Rows a role may not read are absent: lists omit them, `node(id:)` and lookups return",
        "null, exactly as for a row that does not exist. Hidden fields resolve to null.",
        'Writes are mutations; each is an operation of the types it changes (below, "Who',
        'writes what"). A refused write is a `userError` `FORBIDDEN`, or `NOT_FOUND` where the',
        "row is not readable either.",
        "",
        "## Roles",
        "",
        "| role | token scope claim |",
        "|---|---|",
    ]
    for role in roles:
        claim = SCOPE_CLAIMS.get(role)
        scope = f"`{claim}`" if claim else ("(no token)" if role is Role.public else "none")
        lines.append(f"| `{role.value}` | {scope} |")
    lines += [
        "",
        "## Reference data",
        "",
        "Every role, `public` included, reads all rows and fields of: "
        + ", ".join(f"`{name}`" for name in PUBLIC_TYPES)
        + ".",
        "",
        "## Scoped data: rows",
        "",
        "| type | " + " | ".join(f"`{r.value}`" for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    legend: dict[Rows, str] = {}
    short = {
        Rows.ALL: "all",
        Rows.NONE: "—",
        Rows.OWN_MUNICIPALITY: "own municipality",
        Rows.REGION: "own region",
        Rows.ASSIGNED_NOW: "assigned now",
        Rows.OWN_EXPERT: "own",
        Rows.ASSIGNED_TO_OWN_MUNICIPALITY: "assigned to own municipality",
        Rows.ASSIGNED_IN_REGION: "assigned in own region",
        Rows.PUBLISHED: "published",
        Rows.PUBLISHED_OR_OWN: "published + own drafts",
        Rows.OWN_DATASET: "own datasets",
        Rows.OWN_PRODUCER: "own",
        Rows.WG_VISIBLE: "visible groups",
        Rows.WG_PARTICIPANT: "groups taken part in",
        Rows.WG_PUBLISHED: "published + groups taken part in",
        Rows.WG_ACTIVE_OR_OWN: "active + own + led groups",
        Rows.WG_MEMBER: "groups a member of",
        Rows.WG_LEAD: "groups led",
    }
    for name, entity in POLICY.items():
        if name in PUBLIC_TYPES:
            continue
        cells = []
        for role in roles:
            rule = entity.read.get(role, Rows.NONE)
            legend[rule] = rule.value
            cells.append(short[rule])
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "| cell | meaning |", "|---|---|"]
    lines += [f"| {short[rule]} | {text} |" for rule, text in legend.items()]
    lines += [
        "",
        "## Scoped data: hidden fields",
        "",
        "| type | field | hidden from |",
        "|---|---|---|",
    ]
    for name, entity in POLICY.items():
        fields = sorted(set().union(*entity.hidden.values())) if entity.hidden else []
        for field_name in fields:
            hidden_from = [r.value for r, names in entity.hidden.items() if field_name in names]
            lines.append(
                f"| `{name}` | `{_camel(field_name)}` | "
                + ", ".join(f"`{r}`" for r in hidden_from)
                + " |"
            )
    lines += [
        "",
        "## Who writes what",
        "",
        "Each mutation is an operation; a row of the table says, for each type it changes, what",
        "it does there and which rows each role may change (judged on the row's municipality",
        "and expert). An update changes the listed fields only.",
        "",
        "| operation | type | does | " + " | ".join(f"`{r.value}`" for r in roles) + " | fields |",
        "|---|---|---|" + "---|" * len(roles) + "---|",
    ]
    writes = sorted(
        (operation, name, rule)
        for name, entity in POLICY.items()
        for operation, rule in entity.writes.items()
    )
    for operation, name, rule in writes:
        actions = ", ".join(sorted(a.value for a in rule.actions))
        cells = [short[rule.rows.get(role, Rows.NONE)] for role in roles]
        changed = ", ".join(f"`{_camel(c)}`" for c in sorted(rule.columns)) or "—"
        lines.append(
            f"| `{operation}` | `{name}` | {actions} | " + " | ".join(cells) + f" | {changed} |"
        )
    lines += [
        "",
        "Mutations made of the operations above (each row they write is judged by its "
        "operation's rule, and only the roles named may call them):",
        "",
    ]
    lines += [
        f"- `{name}` ({', '.join(f'`{r.value}`' for r in sorted(c.roles, key=lambda r: r.value))}"
        f"): {c.description}; through " + ", ".join(f"`{o}`" for o in c.operations)
        for name, c in sorted(COMPOSITE_WRITES.items())
    ]
    lines += ["", "## What each type is", ""]
    lines += [
        f"- `{name}`: {entity.description}"
        for name, entity in POLICY.items()
        if name not in PUBLIC_TYPES
    ]
    lines += [
        "",
        "## Aggregates",
        "",
        "`tierDistribution`, `tierTransitions`, `kpiProgress`, `assessmentAnswerCounts` and "
        "`assessmentAggregate` count every "
        "municipality whatever the viewer may read row by row (database functions do the "
        "counting); every viewer may ask for them, and suppression decides what they show. "
        "For viewers outside the prefecture's staff (`prefecture_admin`, `dispatch_coordinator`, "
        "`regional_office`), the counts are withheld (null, `suppressed: true`) when a "
        "non-empty group holds fewer municipalities than `DXLINK_AGGREGATE_THRESHOLD` "
        "(default 3). `kpiProgress` withholds the prefecture-wide figures on their own, and "
        "the regions' figures all together when any region's group is small (one region "
        "withheld alone would follow from the others and the total). `publishedStatistics` "
        "are the figures the prefecture already published: public facts, never withheld.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

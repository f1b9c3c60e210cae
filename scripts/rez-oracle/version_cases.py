#!/usr/bin/env python3
"""Record what real Rez answers about versions, ranges and requirements.

Run with Rez importable (Rez is not available in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/version_cases.py > test/data/rez-version-cases.json

The inputs are hand-picked tricky cases (docs/research rez.md sections 2 and 3.7)
plus deterministic pseudo-random ones; every answer comes from Rez itself.
src/rez/version/rez-identity.test.ts replays them against the TypeScript model.
"""

import json
import random
import sys

import rez
from rez.utils.formatting import PackageRequest
from rez.version import Requirement, RequirementList, Version, VersionedObject, VersionRange

# The committed data uses this seed; pass another as the first argument to fuzz further.
SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 20240611
rng = random.Random(SEED)

ERROR = "!error"


def attempt(fn):
    """The answer of fn(), or ERROR when Rez raises."""
    try:
        return fn()
    except Exception:
        return ERROR


def s_or_none(x):
    return None if x is None else str(x)


def dedup(items):
    seen = set()
    out = []
    for x in items:
        key = json.dumps(x, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


# ---------------------------------------------------------------- generators

NUMERIC = ["0", "1", "2", "3", "9", "10", "11", "01", "00", "001", "02", "010", "100", "0010", "000",
           "12345678901234567890", "012345678901234567890"]
ALPHA = ["a", "b", "z", "A", "B", "Z", "_", "__", "rc", "beta", "alpha", "dev", "RC", "_a", "a_", "Beta", "aB", "Ab"]
MIXED = ["1a", "a1", "rc1", "rc2", "rc10", "1_", "_1", "1A", "01a", "2b3", "1b", "beta3", "3beta", "a01", "1a1",
         "10a", "A1", "_0", "0a", "00a", "a0", "a00", "1_1", "1__", "b2_"]


def rand_token():
    r = rng.random()
    if r < 0.6:
        return rng.choice(NUMERIC[:15])
    if r < 0.75:
        return rng.choice(ALPHA)
    return rng.choice(MIXED)


def rand_version(max_tokens=4):
    n = rng.randint(1, max_tokens)
    out = rand_token()
    for _ in range(n - 1):
        out += ("." if rng.random() < 0.85 else "-") + rand_token()
    return out


def neighbours(v):
    """Versions close to v in Rez order: the interesting ones for comparisons and containment."""
    out = [v, v + ".0", v + ".00", v + ".a", v + ".A", v + "._", v + "a", v + "A", v + "_", v + "0", v + ".1"]
    ver = Version(v)
    out.append(str(ver.next()))
    if len(ver) > 1:
        out.append(str(ver.trim(len(ver) - 1)))
        out.append(v.replace(".", "-"))
    toks = [str(t) for t in ver.tokens]
    last = toks[-1]
    for repl in ("0" + last, last + "0", last.upper(), last.lower(), last[:-1] or "0"):
        out.append(v[: len(v) - len(last)] + repl)
    return out


# ------------------------------------------------------------------ versions

TRICKY_VERSIONS = [
    "", "0", "00", "000", "01", "001", "1", "1.0", "1.00", "1-0", "1.0.0", "1.0.0.beta", "1.0.0.0", "1.2",
    "1.2.a", "1.2.3", "1.2.10", "1.20", "1.3", "1.2_", "1a", "1A", "1Z", "1_", "1.A", "1.Z", "1._", "10",
    "rc1", "beta3", "3beta", "_5", "2", "2.0", "2.1", "a", "A", "_", "Z", "z", "1-2-3", "1.2-3",
    "gamma33", "33gamma", "alpha", "alpha3", "alpha4", "2.3.07b", "1.2a", "1.2a_", "0.0", "0.00",
    "2016.1", "2016.1.0", "3.9.16", "3.10.1", "3.11", "1.2.3.4.5.6.7.8.9", "12345678901234567890",
    "012345678901234567890", "12345678901234567891", "1.1_", "1.1__", "1.1a", "1.1A",
]
INVALID_VERSIONS = [
    " 1", "1 ", "1\n", "\n", ".1", "1.", "-1", "1-", "1..2", "1.-2", "1--2", "*", "1.*", "é", "1.é", "!",
    "1.2.", "..", "1,2", "1+", ">1", "a b c d", "1\t2", "1.2\t",
]
ODD_BUT_VALID_VERSIONS = ["1+2", "1 2", "1é2", "1,2", "1/2", "a~b", "1\t2", "1\u00a02"]


def version_record(s):
    v = attempt(lambda: Version(s))
    if v == ERROR:
        return {"s": s, "ok": False}
    return {
        "s": s,
        "ok": True,
        "str": str(v),
        "tokens": [str(t) for t in v.tokens],
        "next": str(v.next()),
        "trim1": str(v.trim(1)),
        "len": len(v),
    }


def compare(a, b):
    va, vb = Version(a), Version(b)
    return -1 if va < vb else (0 if va == vb else 1)


def build_versions():
    vs = list(TRICKY_VERSIONS) + INVALID_VERSIONS + ODD_BUT_VALID_VERSIONS
    for _ in range(120):
        vs.append(rand_version())
    for base in ["1.2", "1", "2.0", "1a", "01.1", "rc1"]:
        vs += neighbours(base)
    return dedup(vs)


def build_compares(valid):
    pairs = []
    # every pair of a tricky core, both orders
    core = ["", "0", "00", "01", "001", "1", "1.0", "1.00", "1-0", "1.0.0", "1.0.0.beta", "1.2", "1.2.a", "1.2.3",
            "1.2.10", "1.20", "1a", "1A", "1_", "1.A", "10", "rc1", "beta3", "3beta", "_5", "2", "a", "A", "_", "z",
            "alpha", "alpha3", "1.2_", "12345678901234567890"]
    for a in core:
        for b in core:
            if a < b or rng.random() < 0.15:
                pairs.append((a, b))
    for _ in range(400):
        a = rand_version()
        b = rng.choice(neighbours(a)) if rng.random() < 0.6 else rand_version()
        pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    for _ in range(150):
        pairs.append((rng.choice(valid), rng.choice(valid)))
    out = []
    for a, b in dedup(pairs):
        out.append({"a": a, "b": b, "cmp": compare(a, b)})
    return out


def build_sorts(valid):
    lists = [
        ["1.10", "1.2", "1.2.0", "1.2.a", "1.2.3", "1.20", "1", "1.0", "1.00", "01", "1a", "1A", "1_", "10"],
        ["_", "A", "Z", "a", "z", "0", "00", "01", "1", "alpha", "Alpha", "_alpha", "alpha1", "1alpha"],
        ["1.A", "1", "1a", "1_", "10", "1.Z", "1.0", "1Z", "1A"],
    ]
    for _ in range(30):
        lists.append([rng.choice(valid) for _ in range(rng.randint(3, 12))])
    return [{"versions": lst, "sorted": [str(v) for v in sorted(Version(x) for x in lst)]} for lst in lists]


# -------------------------------------------------------------------- ranges

RANGE_VERSIONS = ["1", "1.0", "1.2", "1.2.3", "1.2.10", "1.20", "1.3", "2", "2.0", "2.5", "3", "3.0", "4", "5",
                  "1-2", "1.2-3", "1a", "1A", "1.A", "1_", "10", "0", "01", "rc1", "a", "_", "1.0.0"]

TEMPLATES = [
    "{a}", "=={a}", "{a}+", ">={a}", ">{a}", "<{b}", "<={b}", "{a}+<{b}", ">={a}<{b}", ">={a},<{b}",
    "<{b},>={a}", "<={b},>{a}", "<{b},>{a}", ">{a}<={b}", ">{a}<{b}", "{a}..{b}", "{a},<{b}", "{a}+,<={b}",
    "{b}+,>{a}", "{b},>{a}", "<={b},<{a}", "..{b}", "{a}<{b}", "><{b}", "+<{b}", "{a}+<={b}", ">{a},<{b}",
    "<{b},>{a}", "{a}..", "==", ">", ">=", "+", "<=",
]

TRICKY_RANGES = [
    "", "1.2", "==1.2", "1.2+", ">=1.2", ">1", "<2", "<=2", "1+<2", ">=1<2", ">=1,<2", "<2,>=1", "1..2",
    "1.2+<1.3", "1|3", ">1<5", ">1<=5", "1+<=5", "3+<6|4+<8", "1|1.2", "<=4,>2", "<4,>2", "<4,>=2", "2|6+",
    "4|6+", "1<2", "4+,>2", "4,>2", "<=4,<2", ">=", ">", "+", "==", "<=", "..", "..2", "1.0|1-0", "1-0|1.0",
    "==1.0|==1-0", "1.0+|1-0+", "1+<3|2+<5", "1..1", "==1|==1", "1..5|>5", "<1|1_+", "<2|2_+", "1|2|3|4|5|6",
    "1|3|5|7|9|11", "==1|==2|==3|==4|==5|==6", "1+<2|3+<4|5+<6|7+<8|9+<10", "<1|>1", "<=1|>1", "<1|>=1",
    "<1|1+", "1|1", "1+|1", "1.2\n", "1\n|2", "\n", "1|\n", "|3+<2", "1|", "|1", "|", "||", "1||2", "><2",
    ">=<2", "+<2", "1,<2", "1+,<2", "3|1", "5+<6|1+<2|3+<4", ">1|<1", "==1.2|1.2", "1.2|==1.2", "1.2.3|1.2",
    "2.0", "<=2.0", "==2.0", "1.2.a", "1.2.a+", "1A+<1a", "1.0+<1.00", "0+<00", "00+<0", "_+<a", "A+<_",
    "10|9", "1.10|1.9", "rc1+<1", "1+<1_", "1_|1", ">1_", "1+<1.0", "==", "==|1", "<=|>", ">|<=",
    # Rez's union checks the previous interval's upper end, not the merged one
    "1..5|2+<3|>5", "1+<5|2..3|>5", "1..5|2+<3|>5|7", "1..5|2+<3|>5<7|7+", "<=5|2+<3|>5", "1+<5|2..3|>5<6",
]

INVALID_RANGES = [
    "3+<2", "2..", "1..", "*", "1+2", "1...2", "<", "<>2", ",<2", "1,,<2", "1.", ".1", "-1", "1--2", "1..2..3",
    ">>1", "=1", "===1", "!1", "~1", "1 ", " 1", "1|<", "a b", "1+<=", "1.2.", "<=2,>=3", ">=3<2", "\t1",
    "<2,", "1+,", ",", "1,2", "2..1", "==1.0+", "1+<1", ">1<1", ">1<=1", "1..0", "<=1,>1", "<1,>1", "2+<1.9",
    "1+<2|3+<2", "3+<2|", "1|3+<2", ">=2,<1", "<1,>=2", "1.2+<1.2", "1.2..1.1", ">1.2<1.2.0", "<=1,<2",
    "1\n\n", "1\n|\n2", "1.2.3+<1.2.3", "1a..1", "01..1..2",
]


def bound_list(r):
    return [[str(b.lower.version), b.lower.inclusive, str(b.upper.version), b.upper.inclusive] for b in r.bounds]


def range_record(s):
    r = attempt(lambda: VersionRange(s))
    if r == ERROR:
        return {"s": s, "ok": False}
    inv = attempt(lambda: r.inverse())
    return {
        "s": s,
        "ok": True,
        "str": str(r),
        "bounds": bound_list(r),
        "isAny": r.is_any(),
        "lowerBounded": r.lower_bounded(),
        "upperBounded": r.upper_bounded(),
        "inverse": inv if inv == ERROR else s_or_none(inv),
        "span": str(r.span()),
        "toVersions": None if r.to_versions() is None else [str(v) for v in r.to_versions()],
    }


def rand_range_part():
    a, b = rng.choice(RANGE_VERSIONS), rng.choice(RANGE_VERSIONS)
    if rng.random() < 0.3:
        a, b = rand_version(3), rand_version(3)
    if rng.random() < 0.9 and Version(b) < Version(a):
        a, b = b, a
    return rng.choice(TEMPLATES).format(a=a, b=b)


def rand_range():
    n = 1 if rng.random() < 0.6 else rng.randint(2, 4)
    parts = [rand_range_part() for _ in range(n)]
    if rng.random() < 0.03:
        parts.insert(rng.randint(0, n), "")
    return "|".join(parts)


SYNTAX_PIECES = ["1", "2", "10", "a", "_", ".", "-", "+", "<", ">", "=", ",", "|", "..", "==", "<=", ">="]


def rand_range_syntax():
    """Character soup from range syntax: exercises the parser's accept/reject edges."""
    return "".join(rng.choice(SYNTAX_PIECES) for _ in range(rng.randint(1, 7)))


def build_ranges(syntax_fuzz=300):
    rs = list(TRICKY_RANGES) + INVALID_RANGES
    for _ in range(450):
        rs.append(rand_range())
    for _ in range(syntax_fuzz):
        rs.append(rand_range_syntax())
    return dedup(rs)


def versions_near(r):
    """Versions at and around every bound of range r, plus a few random ones."""
    out = []
    for b in r.bounds:
        for v in (b.lower.version, b.upper.version):
            if v != Version.inf:
                out += neighbours(str(v)) if str(v) else ["", "0", "_", "A"]
    out += [rand_version(3) for _ in range(3)]
    return dedup(out)


def build_contains(valid_ranges):
    rows = [
        ("1.2", "1.2"), ("1.2", "1.2.3"), ("1.2", "1.2.a"), ("1.2", "1.2.0.0"), ("1.2", "1.20"), ("1.2", "1.3"),
        ("1.2", "1.2_"), ("1", "1A"), ("1", "1Z"), ("1", "1.A"), ("1", "1a"), ("1", "1_"), ("1", "10"),
        ("==1.2", "1.2.3"), ("==1.2", "1.2"), ("==1.2", "1-2"), ("1.2+", "1.2"), (">=1.2", "1.1.9"), (">1", "1.0"),
        (">1", "1"), ("<2", "2.0"), ("<2", "1.99"), ("<2", "2"), ("<=2", "2"), ("<=2", "2.0"), ("<=2", "2.1"),
        ("==2", "2.0"), ("1..2", "2"), ("1..2", "2.5"), ("1..2", "1"), ("1.2+<1.3", "1.3.0"), ("1.2+<1.3", "1.2.99"),
        ("1|3", "3.1"), ("1|3", "2"), ("1|3", "1.5"), ("", ""), ("", "1"), (">", ""), (">", "0"), ("==", ""),
        ("==", "0"), ("<=", ""), ("1+<2|3+<4|5+<6|7+<8|9+<10", "9.5"), ("1+<2|3+<4|5+<6|7+<8|9+<10", "8"),
        ("1+<2|3+<4|5+<6|7+<8|9+<10", "5"), ("1+<2|3+<4|5+<6|7+<8|9+<10", "0"), ("1+<2|3+<4|5+<6|7+<8|9+<10", "10"),
        ("1|2|3|4|5|6", "6.1"), ("1|2|3|4|5|6", "7"), ("==1|==2|==3|==4|==5|==6", "3"),
        ("==1|==2|==3|==4|==5|==6", "3.0"), ("<1|1_+", "1"), ("<1|1_+", "1.5"), ("<1|1_+", "1a"), ("<1|1_+", "0.9"),
    ]
    for r in valid_ranges:
        rr = VersionRange(r)
        near = versions_near(rr)
        for v in rng.sample(near, min(len(near), 4)):
            rows.append((r, v))
    out = []
    for r, v in dedup(rows):
        out.append({"range": r, "version": v, "contains": VersionRange(r).contains_version(Version(v))})
    return out


def op_str(fn):
    x = attempt(fn)
    return x if x == ERROR else s_or_none(x)


def build_range_ops(valid_ranges):
    pairs = [
        ("1", "1.2"), ("3+<6", "4+<8"), ("1+<2", "2+"), ("1+<2", ">2"), ("<2", "2+"), ("<=2", ">2"),
        ("<2", ">2"), ("1|3", "2"), ("1|3", "1+<4"), ("", "1"), ("1", ""), ("", ""), ("1", "1"), ("==1", "1"),
        ("1", "==1"), ("1.0", "1-0"), ("1-0", "1.0"), ("1.0+", "1-0+<2"), ("<1.0", "1-0+"), ("==1.0", "==1-0"),
        ("1..5", ">5"), ("1+<5", ">5"), ("1+<5", "5+"), ("1..5", "5+"), ("1..5|7", ">5<7"), ("2|6+", "4"),
        ("2|6+", "5+"), ("<1|1_+", "<2|2_+"), ("<1|1_+", "1"), ("1+<2|3+<4|5+<6|7+<8|9+<10", "1.5+<9.5"),
        ("1+<2|3+<4|5+<6|7+<8|9+<10", "2+<3|4+<5|6+<7|8+<9|10+"), ("==1|==2|==3|==4|==5|==6", "2+<5"),
        (">", "=="), ("==", ""), ("<=", ">"), ("1|2|3|4|5|6", "3"), ("1|2|3|4|5|6", "1|2|3|4|5|6"),
        ("1..5|2+<3", ">5"), ("1+<5|2..3", ">5"), ("1..5|2+<3|>5", "5"), ("1..5|2+<3|>5", "4+<6"),
        ("1..5|2+<3|>5|7", "1|2|3|4|5|6|7"), ("1+<5|2..3|>5", "==5"),
    ]
    for _ in range(520):
        pairs.append((rng.choice(valid_ranges), rng.choice(valid_ranges)))
    out = []
    for a, b in dedup(pairs):
        ra, rb = VersionRange(a), VersionRange(b)
        inter = attempt(lambda: ra & rb)
        union = attempt(lambda: ra | rb)
        out.append({
            "a": a,
            "b": b,
            "intersection": inter if inter == ERROR else s_or_none(inter),
            "intersectionBounds": None if inter in (ERROR, None) else bound_list(inter),
            "union": op_str(lambda: union),
            "subtract": op_str(lambda: ra - rb),
            "inverseOfIntersection": op_str(lambda: None if inter in (ERROR, None) else inter.inverse()),
            "unionMinusA": op_str(lambda: union - ra),
            "intersects": ra.intersects(rb),
            "issuperset": ra.issuperset(rb),
            "issubset": ra.issubset(rb),
            "equals": ra == rb,
            "intersectionContains": None if inter in (ERROR, None) else [
                [v, inter.contains_version(Version(v))] for v in rng.sample(versions_near(inter), 3)],
        })
    return out


def build_from_versions(valid_versions):
    lists = [["1", "2"], ["2", "1", "1.0", "1-0", "2"], [], ["1"], ["", "1"]]
    for _ in range(20):
        lists.append([rng.choice(valid_versions) for _ in range(rng.randint(1, 7))])
    out = []
    for lst in lists:
        r = VersionRange.from_versions([Version(x) for x in lst])
        out.append({"versions": lst, "str": str(r), "bounds": bound_list(r)})
    return out


# -------------------------------------------------------------- requirements

NAMES = ["foo", "bar", ".eph", "foo_bar", "Foo", "foo.bar", "python", "_x", "x1"]
BAD_NAMES = ["foo.", "foo..bar", "__pycache__", "foo bar", "", ".", "..foo", "foo!", "foo~", "f+o", "f*o", "é"]

TRICKY_REQUIREMENTS = [
    "foo", "foo-1.2", "foo==1.2", "foo<2", "foo>=1", "foo>1", "foo<=2", "foo-<2", "foo-==1", "foo-1+<2",
    "foo-1..2", "foo-1|3", "~foo-1", "~foo", "~foo-", "!foo", "!foo-1", "!foo-", ".foo-1", ".foo", "!.foo",
    "~.foo-1", "foo@1", "foo#1", "foo#1+", "foo@<2", "foo--1", "foo-*", "foo-3+<2", "foo-2..", "~foo==",
    "~foo==1", "~foo>1", "~foo<1", "~foo-1|3", "!foo-1|3", "foo bar", "", "!", "~", "!~foo", "~!foo",
    "foo-1.2.3-4", "foo-1-2", "python-3.9", "~python-3.9", "platform-linux", "~platform==linux",
    "foo-bar-1", "foo.bar-1", "foo_bar-1", "foo-1.0|1-0", "foo-", "foo@", "foo#", "foo=1", "foo===1",
    "foo>>1", "foo<>1", "foo-1,<2", "foo-<2,>=1", "foo-1\n", "foo-1+2", "foo-", "~foo-1+<1_", "~foo-",
    "~diam==linux", "!foo-==", "foo-==", "~foo-<=", "~foo->", "foo->", "~foo+", "foo+", "!foo+", "-foo",
    "@1", "#1", "=1", "<1", ">1", "~<1", "!>1", "foo-1@2", "foo-1#2", "foo@-1",
]


def requirement_record(s):
    q = attempt(lambda: Requirement(s))
    if q == ERROR:
        return {"s": s, "ok": False}
    pr = attempt(lambda: PackageRequest(s))
    return {
        "s": s,
        "ok": True,
        "str": str(q),
        "name": q.name,
        "range": s_or_none(q.range),
        "conflict": q.conflict,
        "weak": q.weak,
        "packageRequestOk": pr != ERROR,
    }


def rand_requirement(names=None):
    name = rng.choice(names or NAMES)
    pre = rng.choice(["", "", "", "!", "~"])
    if rng.random() < 0.1:
        return pre + name
    r = rand_range()
    if r and r[0] in "=<>" and rng.random() < 0.5:
        sep = ""
    else:
        sep = rng.choice(["-", "-", "-", "-", "@", "#"])
    return pre + name + sep + r


def build_requirements():
    rs = list(TRICKY_REQUIREMENTS)
    for bad in BAD_NAMES:
        rs += [bad, bad + "-1", "!" + bad, "~" + bad + "-1"]
    for _ in range(250):
        rs.append(rand_requirement())
    return dedup(rs)


def merged_record(a, b):
    qa, qb = Requirement(a), Requirement(b)
    m = attempt(lambda: qa.merged(qb))
    rec = {"a": a, "b": b, "conflictsWith": qa.conflicts_with(qb), "equals": qa == qb}
    if m == ERROR:
        rec["merged"] = ERROR
    elif m is None:
        rec["merged"] = None
    else:
        rec["merged"] = str(m)
        rec["mergedRange"] = s_or_none(m.range)
        rec["mergedConflict"] = m.conflict
        rec["mergedWeak"] = m.weak
    return rec


def build_requirement_pairs(valid_reqs):
    pairs = [
        ("foo-1", "foo-1.2"), ("foo-3+", "!foo-5+"), ("!foo-2", "!foo-5"), ("~foo-1", "foo"), ("~foo-1", "foo-2"),
        ("~foo-1", "~foo-2"), ("~foo", "foo-2"), ("foo-2", "~foo"), ("foo-4", "foo-6"), ("foo", "!foo"),
        ("!foo", "foo"), ("foo-1", "!foo"), ("~foo-1", "!foo"), ("!foo", "~foo-1"), ("~foo-1", "~foo-1.2"),
        ("~foo-1", "~foo-1|2"), ("~foo", "~foo-1"), ("~foo-1", "~foo"), ("~foo", "~foo"), ("!foo-1", "!foo-1"),
        ("foo-1", "bar-1"), ("foo-1", "foo@1"), ("foo@1", "foo-1.2"), ("foo#1", "!foo-1.2"), ("!foo@1", "foo-1+"),
        ("~foo-1", "foo-1.5"), ("~foo-1", "foo-0.9"), ("~foo-1+<2", "foo-1.5"), ("~foo-1+<2", "~foo-1.5+"),
        ("foo-1.0", "foo-1-0"), ("foo<2", "foo>=1"), ("foo<=2", "foo-2.0"), ("foo==2", "foo-2.0"),
        (".eph-1", ".eph-1.2"), (".eph-1", ".eph-2"), ("!.eph", ".eph-1"), ("~.eph-1", ".eph-2"),
        ("foo-1|3", "!foo-1"), ("foo-1|3", "!foo-3"), ("foo-1|3", "!foo-1|3"), ("~foo-1|3", "foo-2"),
        ("~foo==", "foo-1"), ("~foo==", "foo"), ("foo-==", "foo"), ("~foo->", "foo"), ("!foo-1", "~foo-2"),
        ("~platform==linux", "platform-linux"), ("~platform==linux", "platform-osx"), ("~diam==linux", "~diam==linux"),
    ]
    by_name = {}
    for r in valid_reqs:
        by_name.setdefault(Requirement(r).name, []).append(r)
    groups = [g for g in by_name.values() if len(g) > 3]
    for _ in range(420):
        g = rng.choice(groups)
        pairs.append((rng.choice(g), rng.choice(g)))
    return [merged_record(a, b) for a, b in dedup(pairs)]


def build_requirement_contains(valid_reqs):
    rows = [("foo-1.2", "1.2.3"), ("foo-1.2", "1.20"), ("foo-1.2", "1.2"), ("!foo-1", "1.5"), ("!foo-1", "2"),
            ("~foo-1", "1.5"), ("~foo-1", "2"), ("~foo", "2"), ("!foo", "1"), ("!foo", ""), ("foo", ""),
            ("foo<=2", "2.0"), ("foo==2", "2.0"), ("foo==2", "2"), ("foo-1", "1A"), ("foo-1", "1a")]
    for r in rng.sample(valid_reqs, min(len(valid_reqs), 200)):
        q = Requirement(r)
        near = versions_near(q.range) if q.range is not None else ["1", "2.0", ""]
        for v in rng.sample(near, min(len(near), 2)):
            rows.append((r, v))
    out = []
    for r, v in dedup(rows):
        q = Requirement(r)
        obj = VersionedObject.construct(q.name, Version(v))
        out.append({"requirement": r, "version": v, "contains": not q.conflicts_with(obj)})
    return out


def build_requirement_lists():
    lists = [
        ["foo-1", "bar", "foo-1.2"], ["~foo-1", "~foo-2"], ["~foo-1", "foo-2"], ["foo", "~foo-1"],
        ["foo-3+", "!foo-5+", "bar"], ["!foo-2", "!foo-5"], ["foo-4", "foo-6", "bar"], ["bar", "foo", "baz", "foo-1"],
        ["~platform==linux", "~arch==x86_64", "python-3", "platform-linux"], [], ["foo"], ["~foo", "foo-1"],
        ["foo-1", "bar-2", "foo-3", "baz"], [".eph-1", "foo", ".eph-1.2"],
    ]
    pool = ["foo", "bar", "baz"]
    for _ in range(80):
        lists.append([rand_requirement(pool) for _ in range(rng.randint(2, 6))])
    out = []
    for lst in lists:
        reqs = [attempt(lambda x=x: Requirement(x)) for x in lst]
        if ERROR in reqs:
            continue
        rl = RequirementList(reqs)
        out.append({
            "requirements": lst,
            "str": str(rl),
            "merged": [str(r) for r in rl.requirements],
            "conflict": None if rl.conflict is None else [str(rl.conflict[0]), str(rl.conflict[1])],
            "names": sorted(rl.names),
            "conflictNames": sorted(rl.conflict_names),
            "get": {n: s_or_none(rl.get(n)) for n in sorted(set(Requirement(x).name for x in lst))},
        })
    return out


# ----------------------------------------------------------------------- main

def dump(doc):
    """One case per line: readable diffs when Rez or the generator changes."""
    out = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        value = doc[key]
        end = "," if i < len(keys) - 1 else ""
        if isinstance(value, list):
            out.append("  %s: [" % json.dumps(key))
            for j, item in enumerate(value):
                out.append("    %s%s" % (json.dumps(item, ensure_ascii=False), "," if j < len(value) - 1 else ""))
            out.append("  ]%s" % end)
        else:
            out.append("  %s: %s%s" % (json.dumps(key), json.dumps(value, ensure_ascii=False), end))
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    versions = [version_record(s) for s in build_versions()]
    valid_versions = [v["s"] for v in versions if v["ok"]]
    ranges = [range_record(s) for s in build_ranges()]
    valid_ranges = [r["s"] for r in ranges if r["ok"]]
    requirements = [requirement_record(s) for s in build_requirements()]
    valid_reqs = [r["s"] for r in requirements if r["ok"]]
    doc = {
        "rez": rez.__version__,
        "seed": SEED,
        "generator": "scripts/rez-oracle/version_cases.py",
        "versions": versions,
        "compares": build_compares(valid_versions),
        "sorts": build_sorts(valid_versions),
        "ranges": ranges,
        "contains": build_contains(valid_ranges),
        "rangeOps": build_range_ops(valid_ranges),
        "fromVersions": build_from_versions(valid_versions),
        "requirements": requirements,
        "requirementPairs": build_requirement_pairs(valid_reqs),
        "requirementContains": build_requirement_contains(valid_reqs),
        "requirementLists": build_requirement_lists(),
    }
    sys.stdout.write(dump(doc))
    counts = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    sys.stderr.write("cases: %s total=%d\n" % (json.dumps(counts), sum(counts.values())))


if __name__ == "__main__":
    main()

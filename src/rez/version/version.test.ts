import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../errors.js";
import {
  compareVersions,
  isValidPackageName,
  parsePackageRequest,
  Requirement,
  RequirementError,
  RequirementList,
  Version,
  VersionError,
  VersionRange,
} from "./index.js";

const v = (s: string) => Version.parse(s);
const r = (s: string) => VersionRange.parse(s);
const q = (s: string) => Requirement.parse(s);
const sorted = (...xs: string[]): string[] => xs.map(v).sort(compareVersions).map(String);

test("01 sorts before 1, and 001 before 01, but 0 sorts before 00", () => {
  assert.ok(v("01").lt(v("1")));
  assert.ok(v("001").lt(v("01")));
  assert.ok(v("0").lt(v("00")));
  assert.ok(!v("01").equals(v("1")));
});

test("1.0 and 1.00 are different versions, and a prefix sorts first (1.0 < 1.0.0 < 1.0.0.beta)", () => {
  assert.ok(v("1.0").lt(v("1.00")));
  assert.deepEqual(sorted("1.0.0.beta", "1.0.0", "1.0"), ["1.0", "1.0.0", "1.0.0.beta"]);
});

test("upper case sorts before underscore before lower case, and letters before digits", () => {
  assert.deepEqual(sorted("a", "_", "Z", "A", "1", "z"), ["A", "Z", "_", "a", "z", "1"]);
  assert.deepEqual(sorted("3beta", "beta3", "rc1", "1"), ["beta3", "rc1", "1", "3beta"]);
  assert.deepEqual(sorted("1.2.10", "1.2.3", "1.2.a", "1.2"), ["1.2", "1.2.a", "1.2.3", "1.2.10"]);
});

test("numbers longer than a double compare by value", () => {
  assert.ok(v("12345678901234567890").lt(v("12345678901234567891")));
  assert.ok(v("99999999999999999999").lt(v("100000000000000000000")));
  const big = "7".repeat(300);
  assert.ok(v("9".repeat(299)).lt(v(big)));
  assert.ok(v("0".repeat(250) + "1").lt(v("0".repeat(249) + "1")));
  assert.ok(v("0".repeat(249)).lt(v("0".repeat(250))));
});

test("separators are cosmetic for equality but kept when printing", () => {
  assert.ok(v("1.0").equals(v("1-0")));
  assert.equal(v("1-0").toString(), "1-0");
  assert.equal(v("1.2-3").next().toString(), "1.2-3_");
  assert.equal(r("1.0|1-0").toString(), "1.0");
  assert.equal(r("1-0|1.0").toString(), "1-0");
});

test("next() appends an underscore to the last token; the empty version has none", () => {
  assert.equal(v("1").next().toString(), "1_");
  assert.equal(v("1.2a").next().toString(), "1.2a_");
  assert.ok(Version.EMPTY.next().isInf);
  assert.ok(v("1.2.999").lt(v("1.2").next()));
  assert.ok(v("1.2").next().lt(v("1.3")));
});

test("the empty version is smallest and INF is greater than everything", () => {
  assert.ok(Version.EMPTY.lt(v("_")));
  assert.ok(v("999999.zzz").lt(Version.INF));
  assert.equal(Version.INF.toString(), "[INF]");
  assert.equal(v("").toString(), "");
});

test("token(i) gives major, minor and patch as written", () => {
  const x = v("3.10-2a");
  assert.deepEqual([x.token(0), x.token(1), x.token(2), x.token(3)], ["3", "10", "2a", undefined]);
});

test("malformed versions are rejected with an InputError naming the text", () => {
  for (const bad of ["1..2", ".1", "1.", " 1", "é", "1\n"]) {
    assert.throws(
      () => v(bad),
      (e: unknown) => e instanceof VersionError && e instanceof InputError && e.message.includes(bad),
    );
  }
  // Rez accepts any single character between tokens
  assert.equal(v("1+2").toString(), "1+2");
});

test("parsing the same text twice returns the same interned object", () => {
  assert.equal(v("4.5.6"), v("4.5.6"));
  assert.equal(r("1+<2"), r("1+<2"));
  assert.equal(q("foo-1"), q("foo-1"));
});

test("foo-1.2 contains 1.2.3 but not 1.20", () => {
  const req = q("foo-1.2");
  assert.ok(req.contains(v("1.2.3")));
  assert.ok(req.contains(v("1.2")));
  assert.ok(!req.contains(v("1.20")));
  assert.ok(!req.contains(v("1.2_")));
});

test("range 1 contains 1A and 1.A but not 1a, 1_ or 10", () => {
  const one = r("1");
  for (const inside of ["1A", "1Z", "1.A", "1.0"]) assert.ok(one.contains(v(inside)), inside);
  for (const outside of ["1a", "1_", "10", "0.9"]) assert.ok(!one.contains(v(outside)), outside);
});

test("<=2 and ==2 exclude 2.0, while 1..2 includes 2 but not 2.5", () => {
  assert.ok(!r("<=2").contains(v("2.0")));
  assert.ok(!r("==2").contains(v("2.0")));
  assert.ok(r("1..2").contains(v("2")));
  assert.ok(!r("1..2").contains(v("2.5")));
  assert.ok(r(">1").contains(v("1.0")));
});

test("every bounded syntax, comma and reverse-pip order denote the same interval", () => {
  for (const s of ["1+<2", ">=1<2", ">=1,<2", "<2,>=1", "1,<2", "1<2"]) assert.equal(r(s).toString(), "1+<2", s);
  assert.equal(r("<=4,>2").toString(), ">2<=4");
  assert.equal(r("1+<=5").toString(), "1..5");
});

test("overlapping parts merge: 3+<6|4+<8 prints as 3+<8 and 1|1.2 as 1", () => {
  assert.equal(r("3+<6|4+<8").toString(), "3+<8");
  assert.equal(r("1|1.2").toString(), "1");
  assert.equal(r("1|").toString(), "");
  assert.ok(r("").isAny);
});

test("impossible or malformed ranges are rejected: 3+<2, 2.., '*'", () => {
  for (const bad of ["3+<2", "2..", "*", "1...2", "<", "1+2"]) assert.throws(() => r(bad), VersionError, bad);
});

test("range algebra: intersection, union, subtraction and inverse", () => {
  assert.equal(r("1+<3").intersection(r("2+"))?.toString(), "2+<3");
  assert.equal(r("1").intersection(r("2")), null);
  assert.equal(r("1").union(r("2")).toString(), "1|2");
  assert.equal(r("1+").subtract(r("2"))?.toString(), "1+<2|2_+");
  assert.equal(r("1").inverse()?.toString(), "<1|1_+");
  assert.equal(r("").inverse(), null);
  assert.ok(r("1").issuperset(r("1.5")));
  assert.ok(r("1.5").issubset(r("1")));
  assert.ok(!r("1|3").intersects(r("2")));
});

test("from_versions builds an exact union and toVersions reads it back", () => {
  const range = VersionRange.fromVersions([v("2"), v("1"), v("1.0"), v("1-0")]);
  assert.equal(range.toString(), "==1|==1.0|==2");
  assert.deepEqual(range.toVersions()?.map(String), ["1", "1.0", "2"]);
  assert.ok(!range.contains(v("1.5")));
  assert.equal(VersionRange.exact(v("3")).toString(), "==3");
});

test("requirement names end at the first of - @ # = < >", () => {
  assert.equal(q("foo<2").name, "foo");
  assert.equal(q("foo-<2").toString(), "foo<2");
  assert.equal(q("foo@1").toString(), "foo@1");
  assert.equal(q("foo==1.2").range?.toString(), "==1.2");
  assert.equal(q("foo").range?.isAny, true);
});

test("~foo-1 stores the inverted range <1|1_+ and prints as written; ~foo has no range", () => {
  const weak = q("~foo-1");
  assert.equal(weak.range?.toString(), "<1|1_+");
  assert.ok(weak.weak && weak.conflict);
  assert.equal(weak.toString(), "~foo-1");
  assert.equal(q("~foo").range, null);
  assert.ok(q("~foo-1").contains(v("1.5")) && !q("~foo-1").contains(v("2")));
  assert.ok(q("~foo").contains(v("2")));
});

test("!foo-1 is a conflict that keeps its range as written", () => {
  const c = q("!foo-1");
  assert.ok(c.conflict && !c.weak);
  assert.equal(c.range?.toString(), "1");
  assert.ok(!c.contains(v("1.3")) && c.contains(v("2")));
  assert.ok(!q("!foo").contains(v("")));
});

test("ephemeral requirements keep the leading dot in the name, as Rez stores them", () => {
  const eph = q(".foo-1");
  assert.equal(eph.name, ".foo");
  assert.ok(eph.ephemeral);
  assert.ok(!q("foo-1").ephemeral);
});

test("~foo-1 merged with ~foo-2 forbids foo", () => {
  const m = q("~foo-1").merged(q("~foo-2"));
  assert.equal(m?.toString(), "!foo");
  assert.ok(m?.conflict && !m.weak);
});

test("merging follows Rez: intersect, subtract conflicts, union conflicts", () => {
  assert.equal(q("foo-1").merged(q("foo-1.2"))?.toString(), "foo-1.2");
  assert.equal(q("foo-3+").merged(q("!foo-5+"))?.toString(), "foo-3+<5");
  assert.equal(q("!foo-2").merged(q("!foo-5"))?.toString(), "!foo-2|5");
  assert.equal(q("~foo-1").merged(q("foo"))?.toString(), "foo-1");
  assert.equal(q("~foo-1").merged(q("foo-2")), null);
  assert.equal(q("~foo").merged(q("foo-2"))?.toString(), "foo-2");
  assert.equal(q("foo-1").merged(q("bar-1")), null);
});

test("conflicts_with: disjoint normal ranges, or a conflict range covering the normal one", () => {
  assert.ok(q("foo-1").conflictsWith(q("foo-2")));
  assert.ok(!q("foo-1").conflictsWith(q("foo-1.5")));
  assert.ok(q("!foo-1").conflictsWith(q("foo-1.5")));
  assert.ok(!q("!foo-1.5").conflictsWith(q("foo-1")));
  assert.ok(!q("!foo-1").conflictsWith(q("!foo-1")));
  assert.ok(!q("~foo").conflictsWith(q("foo-1")));
});

test("bad requirement ranges raise a RequirementError quoting the requirement", () => {
  for (const bad of ["foo--1", "foo-3+<2", "foo-2..", "foo-*"]) {
    assert.throws(
      () => q(bad),
      (e: unknown) =>
        e instanceof RequirementError && e instanceof InputError && e.text === bad && e.message.includes("expected"),
    );
  }
});

test("package requests also check the name; !.foo is rejected as in Rez's CLI", () => {
  assert.equal(parsePackageRequest(".foo-1").name, ".foo");
  assert.throws(() => parsePackageRequest("!.foo"), RequirementError);
  assert.throws(() => parsePackageRequest("foo..bar-1"), RequirementError);
  assert.throws(() => parsePackageRequest("__pycache__"), RequirementError);
  assert.ok(isValidPackageName("foo.bar_2"));
  assert.ok(!isValidPackageName("foo."));
  // the name check is linear: a regex version of Rez's pattern backtracks exponentially here
  assert.ok(!isValidPackageName("a".repeat(5000) + "!"));
});

test("RequirementList merges same-name requirements in first-occurrence order", () => {
  const list = new RequirementList(["foo-1", "bar", "~baz-2", "foo-1.2"].map(q));
  assert.equal(list.toString(), "foo-1.2 bar ~baz-2");
  assert.equal(list.conflict, null);
  assert.deepEqual([...list.names()].sort(), ["bar", "foo"]);
  assert.deepEqual([...list.conflictNames()], ["baz"]);
  assert.equal(list.get("foo")?.toString(), "foo-1.2");
});

test("RequirementList reports the first conflicting pair and no requirements", () => {
  const list = new RequirementList(["foo-4", "bar", "foo-6"].map(q));
  assert.equal(list.toString(), "foo-4 <--!--> foo-6");
  assert.deepEqual(list.requirements, []);
  assert.deepEqual(list.conflict?.map(String), ["foo-4", "foo-6"]);
});

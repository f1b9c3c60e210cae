import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRetryAfter, retryDelay, retryPolicy, sleep } from "./retry.js";

describe("retry back-off", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("7", now), 7000);
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it("doubles the delay per attempt within ±20 % jitter and caps it", () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    assert.equal(
      retryDelay(p, 0, undefined, () => 0.5),
      100,
    );
    assert.equal(
      retryDelay(p, 2, undefined, () => 0.5),
      400,
    );
    assert.equal(
      retryDelay(p, 2, undefined, () => 1),
      480,
    );
    assert.equal(
      retryDelay(p, 2, undefined, () => 0),
      320,
    );
    assert.equal(
      retryDelay(p, 10, undefined, () => 0.5),
      1000,
    );
  });

  it("lets the server's Retry-After win, capped by maxDelayMs", () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 5000 });
    assert.equal(retryDelay(p, 0, 2000), 2000);
    assert.equal(retryDelay(p, 0, 3_600_000), 5000);
  });

  it("rejects a negative retry count and stops waiting when aborted", async () => {
    assert.throws(() => retryPolicy({ retries: -1 }), RangeError);
    const ac = new AbortController();
    const waiting = sleep(60_000, ac.signal);
    ac.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
  });
});

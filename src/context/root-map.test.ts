import { test } from "node:test";
import assert from "node:assert/strict";
import { rootMapper } from "./root-map.js";

test("root maps match whole path components, longest first", () => {
  const map = rootMapper({ "/studio/pkgs": "/opt/pkgs", "/studio/pkgs/int": "/opt/int", "/net/": "/" });
  assert.equal(map("/studio/pkgs/maya/2024"), "/opt/pkgs/maya/2024");
  assert.equal(map("/studio/pkgs/int/tool/1"), "/opt/int/tool/1");
  assert.equal(map("/studio/pkgs"), "/opt/pkgs");
  assert.equal(map("/studio/pkgs2/x"), "/studio/pkgs2/x");
  assert.equal(map("/net/x"), "/x");
});

test("an empty root map leaves every path where it is", () => {
  assert.equal(rootMapper({})("/studio/pkgs/maya"), "/studio/pkgs/maya");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { imageContentSource, rootMapper } from "./root-map.js";

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

test("an image path under a package root is that host root's content; elsewhere it is the base image's", () => {
  const source = imageContentSource({ "/studio/pkgs": "/opt/pkgs" }, ["/studio/pkgs/maya/2024", "/other/tool/1"]);
  assert.equal(source("/opt/pkgs/maya/2024/python"), "/studio/pkgs/maya/2024/python");
  assert.equal(source("/opt/pkgs/maya/2024/./bin/../python"), "/studio/pkgs/maya/2024/python");
  assert.equal(source("/opt/pkgs/maya/2024"), "/studio/pkgs/maya/2024");
  // An unmapped root is laid out where it is.
  assert.equal(source("/other/tool/1/lib"), "/other/tool/1/lib");
  // Not a resolved variant's root: the image has nothing of the host's there.
  assert.equal(source("/opt/pkgs/maya/2025"), undefined);
  assert.equal(source("/opt/pkgs/maya/20245"), undefined);
  assert.equal(source("/studio/pkgs/maya/2024/python"), undefined);
});

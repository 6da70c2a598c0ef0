// The shared constants, in the shape the generator (python -m cbt js-constants) writes them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { PART_NAMES, TILE_STATES } from "../../static/js/states.js";

test("the part names and tile states the server sends, frozen", () => {
  assert.deepEqual(PART_NAMES, { skill: "技能考核", theory: "理论知识" });
  assert.deepEqual(Object.keys(TILE_STATES).sort(),
    ["absent", "admitted", "in_progress", "offline", "paused", "submitted", "waiting"]);
  assert.equal(TILE_STATES.in_progress, "答题中");
  assert.ok(Object.isFrozen(PART_NAMES) && Object.isFrozen(TILE_STATES));
  assert.throws(() => { "use strict"; PART_NAMES.theory = "x"; }, TypeError);
});

test("one sorted JSON object per constant per line, under the generated-file header", () => {
  const lines = readFileSync(new URL("../../static/js/states.js", import.meta.url), "utf8").trimEnd().split("\n");
  assert.equal(lines[0], "// Generated from cbt.core (python -m cbt js-constants); do not edit by hand");
  assert.equal(lines.length, 3);
  for (const [line, name] of [[lines[1], "PART_NAMES"], [lines[2], "TILE_STATES"]]) {
    const m = line.match(/^export const (\w+) = Object\.freeze\((\{.*\})\);$/);
    assert.ok(m, line);
    assert.equal(m[1], name);
    const keys = Object.keys(JSON.parse(m[2]));
    assert.deepEqual(keys, [...keys].sort(), name + " keys sorted");
  }
});

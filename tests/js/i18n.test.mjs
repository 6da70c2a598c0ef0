// The page scripts' _(): the catalogue in the page, the fallback to the Chinese text, placeholders.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

const I18N = new URL("../../static/js/i18n.js", import.meta.url);
let fresh = 0;

/** A new instance of the module (it reads the catalogue once), in a page holding ``catalogue``. */
async function page(catalogue) {
  const lookups = [];
  globalThis.document = {
    getElementById(id) {
      lookups.push(id);
      if (catalogue === undefined || id !== "cbt-catalogue") return null;
      return { textContent: typeof catalogue === "string" ? catalogue : JSON.stringify(catalogue) };
    },
  };
  const { _ } = await import(I18N.href + "?page=" + ++fresh);
  return { _, lookups };
}

afterEach(() => { delete globalThis.document; });

test("a translation from the page's catalogue, looked up by the Chinese text", async () => {
  const { _ } = await page({ "已保存": "Saved", "交卷": "Submit" });
  assert.equal(_("已保存"), "Saved");
  assert.equal(_("交卷"), "Submit");
});

test("without a translation the Chinese text itself", async () => {
  const { _ } = await page({ "已保存": "Saved", "标记": "" });
  assert.equal(_("正在保存"), "正在保存");
  assert.equal(_("标记"), "标记", "an empty translation is an untranslated one");
  assert.equal(_("toString"), "toString", "not the object's own properties");
});

test("without a catalogue tag, a broken one, or no page at all: the Chinese text", async () => {
  for (const catalogue of [undefined, "{not json", "[\"a\"]", "null", "\"text\""]) {
    const { _ } = await page(catalogue);
    assert.equal(_("已保存"), "已保存", String(catalogue));
    assert.equal(_("0"), "0", String(catalogue));
  }
  delete globalThis.document;
  const { _ } = await import(I18N.href + "?page=" + ++fresh);
  assert.equal(_("已保存"), "已保存");
  assert.equal(_("还有 %(count)s 道题", { count: 2 }), "还有 2 道题");
});

test("named placeholders are filled, in the translation as in the Chinese text", async () => {
  const { _ } = await page({ "距离考试结束还有 %(minutes)s 分钟": "%(minutes)s minutes left" });
  assert.equal(_("距离考试结束还有 %(minutes)s 分钟", { minutes: 15 }), "15 minutes left");
  assert.equal(_("第%(number)s题，%(number)s", { number: 3 }), "第3题，3");
  assert.equal(_("%(room)s / %(seat)s号", { room: "第01考场", seat: "07" }), "第01考场 / 07号");
  assert.equal(_("共 %(count)s 题", { count: 0 }), "共 0 题");
});

test("a filled-in value is not read again for placeholders; a missing one stays visible", async () => {
  const { _ } = await page({});
  assert.equal(_("原因：%(reason)s", { reason: "%(reason)s %(x)s" }), "原因：%(reason)s %(x)s");
  assert.equal(_("已答 %(answered)s/%(total)s", { answered: 1 }), "已答 1/%(total)s");
});

test("%% is a percent sign when there are params (as in Python), the text as written without", async () => {
  const { _ } = await page({});
  assert.equal(_("已完成 %(n)s%%", { n: 50 }), "已完成 50%");
  assert.equal(_("已完成 100%%"), "已完成 100%%");
  assert.equal(_("只有 %(n)s", {}), "只有 %(n)s");
});

test("the catalogue is read once, at the first lookup", async () => {
  const { _, lookups } = await page({ "已保存": "Saved" });
  assert.deepEqual(lookups, [], "importing reads nothing");
  _("已保存");
  _("交卷");
  _("已保存");
  assert.deepEqual(lookups, ["cbt-catalogue"]);
});

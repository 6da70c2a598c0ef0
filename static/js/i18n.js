// The page scripts' translations. Every user-visible string is written in Chinese, literally, as
// the first argument of _(): Babel extracts those calls from static/js like the Python ones. The
// page carries the catalogue for its locale (msgid -> translation) in
// <script type="application/json" id="cbt-catalogue">; without one, or without an entry, the
// Chinese text itself is shown.

let catalogue = null; // read once, at the first lookup (a module runs after the page is parsed)

function load() {
  const doc = globalThis.document;
  const tag = doc && typeof doc.getElementById === "function" ? doc.getElementById("cbt-catalogue") : null;
  if (!tag) return {};
  try {
    const data = JSON.parse(tag.textContent || "{}");
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch (e) {
    return {}; // a broken catalogue must not take the page down: the Chinese text is still right
  }
}

// Like Python's "..." % params, and only with params: %(name)s takes params[name], %% is a
// percent sign. A name missing from params stays as written, visibly.
function fill(text, params) {
  return text.replace(/%(?:\(([A-Za-z_][A-Za-z0-9_]*)\)s|%)/g, (whole, name) => {
    if (name === undefined) return "%";
    return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
  });
}

/**
 * The translation of ``msgid`` (a Chinese string literal), with its named placeholders filled.
 * @param {string} msgid
 * @param {Object<string, *>} [params]
 * @returns {string}
 */
export function _(msgid, params) {
  if (catalogue === null) catalogue = load();
  const found = catalogue[msgid]; // only a string is a translation (not an inherited toString)
  const text = typeof found === "string" && found !== "" ? found : msgid;
  return params === undefined ? text : fill(text, params);
}

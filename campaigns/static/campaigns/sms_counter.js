// Live SMS length for the campaign's SMS text. It mirrors campaigns/sms.py
// (sms_segments and sms_length_summary) sentence for sentence: GSM-7 (160 per
// SMS, 153 per part; extension characters count as two) unless a character
// needs UCS-2 (70 per SMS, 67 per part; characters beyond the Basic
// Multilingual Plane count as two). tests/test_sms_counter_js.py runs both on
// the same texts. It writes into the form's "Length" row when there is one,
// so the row and the counter never disagree.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";
  var TOKEN = /\{\{|\}\}|\{[A-Za-z_][A-Za-z0-9_]*(?:\|[^{}]*)?\}/;
  var COUNTED_TWICE_NAMED = 5;

  function isGsm7(ch) { return BASIC.indexOf(ch) >= 0 || EXTENDED.indexOf(ch) >= 0; }

  function unique(items) {
    var seen = [];
    items.forEach(function (item) { if (seen.indexOf(item) < 0) { seen.push(item); } });
    return seen;
  }

  function segments(text) {
    var characters = Array.from(text);  // code points, as Python counts them
    var notGsm = characters.find(function (ch) { return !isGsm7(ch); }) || "";
    var doubled = characters.filter(notGsm
      ? function (ch) { return ch.codePointAt(0) > 0xFFFF; }
      : function (ch) { return EXTENDED.indexOf(ch) >= 0; });
    var units = characters.length + doubled.length;
    var single = notGsm ? 70 : 160, multi = notGsm ? 67 : 153;
    var count = units ? 1 : 0, perSegment = single;
    if (units > single) { count = Math.ceil(units / multi); perSegment = multi; }
    return {
      encoding: notGsm ? "UCS-2" : "GSM-7", units: units, segments: count,
      perSegment: perSegment, characters: characters.length,
      countedTwice: unique(doubled), notGsm: notGsm
    };
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function summary(text) {
    var c = segments(text);
    var parts = [plural(c.characters, "character"), plural(c.segments, "segment")];
    if (!c.units) { return parts.join(" · "); }
    var encoding = c.encoding + (c.notGsm ? " because of “" + c.notGsm + "”" : "");
    var detail = encoding + ", " + c.units + " of " + (c.segments * c.perSegment);
    var notes = [];
    if (c.segments > 1) { notes.push(c.perSegment + " per segment once split"); }
    if (c.countedTwice.length) {
      var named = c.countedTwice.slice(0, COUNTED_TWICE_NAMED);
      var quoted = named.map(function (ch) { return "“" + ch + "”"; }).join(", ");
      var more = c.countedTwice.length > named.length ? " …" : "";
      notes.push(quoted + more + (c.countedTwice.length === 1 ? " counts" : " count") + " as two");
    }
    if (notes.length) { detail += " (" + notes.join("; ") + ")"; }
    parts.push(detail);
    if (TOKEN.test(text)) { parts.push("before personalisation"); }
    return parts.join(" · ");
  }

  function attach(textarea) {
    // The form's read-only "Length" row, else a line of its own under the field.
    var output = document.querySelector("[data-sms-length]");
    if (!output) {
      output = document.createElement("div");
      output.className = "sms-counter";
      textarea.parentNode.insertBefore(output, textarea.nextSibling);
    }
    output.setAttribute("aria-live", "polite");
    function update() {
      // Line breaks are stored as one "\n" (the form normalises "\r\n").
      var text = textarea.value.replace(/\r\n/g, "\n");
      output.textContent = summary(text);
      output.classList.toggle("over", segments(text).segments > 10);
    }
    textarea.addEventListener("input", update);
    update();
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { segments: segments, summary: summary };
  }
  if (typeof document !== "undefined") {
    document.addEventListener("DOMContentLoaded", function () {
      var fields = document.querySelectorAll("textarea[data-sms-counter]");
      for (var i = 0; i < fields.length; i++) { attach(fields[i]); }
    });
  }
})();

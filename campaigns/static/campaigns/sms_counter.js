// Live character and segment counter for the campaign's SMS text. It mirrors
// campaigns/sms.py: GSM-7 (160 per SMS, 153 per part) unless a character needs
// UCS-2 (70 per SMS, 67 per part). The server recomputes after saving.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function count(text) {
    var gsm = true, units = 0, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (BASIC.indexOf(ch) >= 0) { units += 1; }
      else if (EXTENDED.indexOf(ch) >= 0) { units += 2; }
      else { gsm = false; break; }
    }
    if (!gsm) { units = text.length; }  // JS strings are UTF-16 code units already
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / multi));
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments };
  }

  function attach(textarea) {
    var output = document.createElement("div");
    output.className = "sms-counter";
    output.setAttribute("aria-live", "polite");
    textarea.parentNode.insertBefore(output, textarea.nextSibling);
    function update() {
      var c = count(textarea.value);
      output.textContent = c.units + " characters · " + c.segments + " segment(s) · " + c.encoding +
        (/\{[A-Za-z_]/.test(textarea.value) ? " (before personalisation)" : "");
      output.classList.toggle("over", c.segments > 10);
    }
    textarea.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("textarea[data-sms-counter]");
    for (var i = 0; i < fields.length; i++) { attach(fields[i]); }
  });
})();

// The campaign editor's live figures: as the form changes, ask the admin's
// live endpoint (campaigns.selectors.campaign_draft_figures) what the form as
// typed would message and cost, and fill every element marked data-live.
(function () {
  "use strict";
  var DELAY_MS = 300;

  function value(form, name) {
    var field = form.elements.namedItem(name);
    if (!field) { return ""; }
    if (field.type === "checkbox") { return field.checked ? "1" : ""; }
    return field.value || "";
  }

  function audienceIds(form) {
    // The two-box widget keeps the chosen audiences in its "to" list.
    var chosen = form.querySelector("#id_audiences_to") || form.querySelector("#id_audiences");
    if (!chosen) { return ""; }
    var options = Array.prototype.slice.call(chosen.options);
    var picked = chosen.id === "id_audiences_to" ? options
      : options.filter(function (option) { return option.selected; });
    return picked.map(function (option) { return option.value; }).join(",");
  }

  function query(form) {
    var params = new URLSearchParams();
    params.set("csrfmiddlewaretoken", value(form, "csrfmiddlewaretoken"));
    ["image", "sms_text", "sms_fallback_enabled", "sms_only", "fallback_time",
     "max_send_rate"].forEach(
      function (name) { params.set(name, value(form, name)); });
    params.set("audiences", audienceIds(form));
    return params.toString();
  }

  function fill(key, render) {
    document.querySelectorAll('[data-live="' + key + '"]').forEach(render);
  }

  function text(data, key) {
    fill(key, function (element) { element.textContent = data[key]; });
  }

  function show(data) {
    ["recipients", "cost", "duration", "channels", "sms_text", "sms_length"].forEach(function (key) {
      text(data, key);
    });
    fill("contact", function (element) {
      element.textContent = data.contact || "nobody yet (the audiences have no contact to message)";
    });
    fill("image", function (element) {
      element.textContent = "";
      if (!data.image) { element.textContent = "Choose an image to see it here."; return; }
      var image = document.createElement("img");
      image.src = data.image.url;
      image.alt = data.image.name;
      image.className = "thumbnail thumbnail-medium";
      element.appendChild(image);
    });
    fill("sms_problems", function (element) {
      element.textContent = "";
      data.sms_problems.forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = problem;
        element.appendChild(item);
      });
    });
    ["sends_sms", "sends_viber"].forEach(function (key) {
      document.querySelectorAll('[data-live-show="' + key + '"]').forEach(function (element) {
        element.hidden = !data[key];
      });
    });
  }

  function setUp(form, panel) {
    var url = panel.getAttribute("data-live-url");
    var timer = null, asked = "";
    function refresh() {
      var params = query(form);
      if (params === asked) { return; }
      asked = params;
      // Posted: an SMS text can be longer than a URL a server accepts.
      fetch(url, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(params),
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && params === asked) { show(data); } })
        .catch(function () { asked = ""; });
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, DELAY_MS); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    var chosen = form.querySelector("#id_audiences_to");
    if (chosen && window.MutationObserver) {
      new MutationObserver(later).observe(chosen, { childList: true });
    }
    panel.hidden = false;
    refresh();
  }

  window.addEventListener("load", function () {
    // After load: the audiences' two-box widget is built on DOMContentLoaded.
    var form = document.getElementById("campaign_form");
    var panel = document.getElementById("live-panel");
    if (form && panel) { setUp(form, panel); }
  });
})();

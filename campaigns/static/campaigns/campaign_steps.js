// The campaign editor as guided steps: its fieldsets marked "step" are shown
// one at a time, with a navigator and Back/Next buttons. It stays one Django
// form: every step is posted and validated together, and after a refused save
// the first step with an error is shown. Without JavaScript every step shows.
(function () {
  "use strict";

  function slug(text) {
    return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }

  function button(label, className, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  function setUp(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
    if (steps.length < 2) { return; }
    var titles = steps.map(function (step, index) {
      var heading = step.querySelector(".fieldset-heading");
      return heading ? heading.textContent.trim() : "Step " + (index + 1);
    });
    var nav = document.createElement("nav");
    nav.className = "step-nav";
    nav.setAttribute("aria-label", "Steps");
    var list = document.createElement("ol");
    var tabs = [];
    var current = 0;

    function show(index, focus) {
      current = index;
      steps.forEach(function (step, position) { step.hidden = position !== index; });
      tabs.forEach(function (tab, position) {
        tab.setAttribute("aria-current", position === index ? "step" : "false");
        tab.classList.toggle("done", position < index);
      });
      if (focus) {
        // Remember the step in the address, so a reload comes back to it.
        window.history.replaceState(null, "", "#" + steps[index].id);
        nav.scrollIntoView({ block: "nearest" });
        var heading = steps[index].querySelector(".fieldset-heading");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      }
    }

    steps.forEach(function (step, index) {
      step.id = slug(titles[index]);
      step.classList.add("step-shown");
      var item = document.createElement("li");
      var tab = button((index + 1) + ". " + titles[index], "step-tab", function () { show(index, true); });
      tabs.push(tab);
      item.appendChild(tab);
      list.appendChild(item);
      var row = document.createElement("div");
      row.className = "step-buttons";
      if (index > 0) {
        row.appendChild(button("Back", "button step-back", function () { show(index - 1, true); }));
      }
      if (index < steps.length - 1) {
        row.appendChild(button("Next: " + titles[index + 1], "button default step-next",
          function () { show(index + 1, true); }));
      }
      step.appendChild(row);
    });
    nav.appendChild(list);
    steps[0].parentNode.insertBefore(nav, steps[0]);
    form.classList.add("stepped");

    var wanted = window.location.hash.slice(1);
    var start = steps.findIndex(function (step) { return step.id === wanted; });
    var withError = steps.findIndex(function (step) {
      return step.querySelector(".errorlist li, .errors") !== null;
    });
    show(withError >= 0 ? withError : Math.max(start, 0), false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("campaign_form");
    if (form) { setUp(form); }
  });
})();

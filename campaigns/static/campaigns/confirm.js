// Asks before a form marked data-confirm="question" is sent: a script file,
// because the Content-Security-Policy refuses inline handlers (onsubmit=…).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

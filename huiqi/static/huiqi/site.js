/* Small behaviours of every page, without inline script (the Content-Security-Policy forbids it):
   - a button or form with data-ask="question" asks before it submits;
   - a <select data-fills="FIELD"> copies its chosen option's data-body into the form's FIELD;
   - a form's error summary ([data-error-summary]) takes the focus when the page opens, and each of its
     links moves the focus to the field it names (scrolled so that its label shows). */
(function () {
  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary && document.activeElement !== summary) {
      summary.scrollIntoView();
      summary.focus({ preventScroll: true });
    }
  }
  document.addEventListener("DOMContentLoaded", focusSummary);
  window.addEventListener("load", focusSummary);
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      return;
    }
    event.preventDefault();
    // A group of radios or boxes is named by its wrapper: the cursor goes to its first input.
    var input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    var box = target.closest(".field, fieldset") || target;
    box.scrollIntoView();
    (input || target).focus({ preventScroll: true });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-ask], input[data-ask]");
    if (button && !window.confirm(button.getAttribute("data-ask"))) {
      event.preventDefault();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-ask") && !window.confirm(form.getAttribute("data-ask"))) {
      event.preventDefault();
    }
  });
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-fills]");
    if (select && select.value) {
      select.form.elements[select.getAttribute("data-fills")].value =
        select.options[select.selectedIndex].getAttribute("data-body");
    }
  });
})();

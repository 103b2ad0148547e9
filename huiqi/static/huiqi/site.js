/* Small behaviours of every page, without inline script (the Content-Security-Policy forbids it):
   - a button or form with data-ask="question" asks before it submits;
   - a <select data-fills="FIELD"> copies its chosen option's data-body into the form's FIELD. */
(function () {
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

// A second thought before a destructive action (issue 18): a form, or its submit button, with a
// data-confirm text asks the browser's confirm() before it is sent; a <select data-confirm ...
// data-confirm-values="a b"> asks only when one of those values is chosen. The pages work
// without JavaScript: the server keeps its own checks (a typed id to erase, a reason and a date
// for a licence change). Loaded as a file because the Content-Security-Policy allows no inline
// script.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var text = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  var select = form.querySelector("select[data-confirm-values]");
  if (!text && select && select.getAttribute("data-confirm-values").split(" ").indexOf(select.value) >= 0) {
    text = select.getAttribute("data-confirm");
  }
  if (text && !window.confirm(text)) {
    event.preventDefault();
  }
});

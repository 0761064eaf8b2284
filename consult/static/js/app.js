// The little JavaScript there is: everything works without it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // One submission per click: a double click must not send the form twice.
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  window.setTimeout(() => { delete form.dataset.submitted; }, 4000);
});

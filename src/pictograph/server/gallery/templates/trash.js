// The trash page's Restore buttons: POST to the developer API's restore route, with the session
// cookie and the page's CSRF token; the row says what happened.
function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

async function restore(button) {
  const status = button.parentElement.querySelector(".restore-status");
  button.disabled = true;
  status.textContent = "Restoring…";
  try {
    const response = await fetch(button.dataset.restoreUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
      body: "{}",
    });
    if (response.ok) {
      status.textContent = "Restored";
      button.remove();
      return;
    }
    let message = `failed (${response.status})`;
    try {
      const body = await response.json();
      message = (body.error && body.error.message) || body.detail || message;
    } catch (ignored) {}
    status.textContent = message;
  } catch (error) {
    status.textContent = "the server could not be reached";
  }
  button.disabled = false;
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("button.restore");
  if (button) restore(button);
});

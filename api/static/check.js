// "Check a document" (docs/PAGES.md §1.3): the SHA-256 of a chosen file, computed with
// Web Crypto in the browser. The file is read locally and never sent anywhere: only the
// hash goes into the form, which the reader then submits.
"use strict";

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

document.addEventListener("DOMContentLoaded", () => {
  const file = document.getElementById("document");
  const field = document.getElementById("sha256");
  const progress = document.getElementById("check-progress");
  if (!file || !field || !progress) {
    return;
  }
  if (!(window.crypto && window.crypto.subtle)) {
    progress.textContent = progress.dataset.unavailable;
    return;
  }
  file.addEventListener("change", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) {
      return;
    }
    progress.textContent = progress.dataset.computing;
    const digest = await window.crypto.subtle.digest("SHA-256", await chosen.arrayBuffer());
    field.value = hex(digest);
    progress.textContent = progress.dataset.done;
    field.dispatchEvent(new Event("input"));
  });
});

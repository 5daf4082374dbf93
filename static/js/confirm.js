// The confirm page: copy the approved text to the clipboard, exactly as approved.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-from]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyFrom);
  const label = button.textContent;
  const done = () => {
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done, () => { source.select(); });
  } else {
    // Without the clipboard API (plain http): select it, and let the person copy.
    source.select();
    document.execCommand("copy") && done();
  }
});

// Copy buttons: <button data-copy-target="ID" data-copied="…" data-copy-failed="…"> copies the text
// (or value) of element ID. navigator.clipboard needs a secure context and can be refused, so the
// fallback copies through a selected, off-screen textarea; if that fails too, the text is left
// selected in its field so the phone's own "Copy" is one tap away. Delegated from the document:
// htmx swaps whole pages in, and scripts inside swapped content never run.
(function () {
  'use strict';

  function copyByCommand(text) {
    const buffer = document.createElement('textarea');
    buffer.value = text;
    buffer.setAttribute('readonly', '');
    buffer.className = 'copy-buffer';
    document.body.appendChild(buffer);
    buffer.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    buffer.remove();
    return ok;
  }

  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall back below */ }
    }
    return copyByCommand(text);
  }

  document.addEventListener('click', async function (event) {
    const button = event.target.closest('[data-copy-target]');
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    const text = 'value' in source ? source.value : source.textContent.trim();
    const ok = await copy(text);
    const status = button.closest('section')?.querySelector('.copy-status');
    if (!ok) {  // leave it selected: the phone's own Copy is one tap away
      if (typeof source.select === 'function') { source.focus(); source.select(); } else {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    }
    const message = ok ? button.dataset.copied : button.dataset.copyFailed;
    if (status && message) status.textContent = message;
    button.dataset.copyState = ok ? 'copied' : 'failed';
  });
}());

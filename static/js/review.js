/* Keyboard shortcuts of the review queue and the review page.
 *
 * Queue: j/k select the next/previous row, o or Enter opens it, x ticks it, a approves it (rows
 * without screening hits, through "Approve selected"; a row with hits opens instead), r opens it to
 * request changes. Review page: j/k next/previous post in the queue, a approves, r focuses the
 * request-changes comment, u goes back to the queue. ? shows the help everywhere.
 * Nothing fires while the person types in a field or holds a modifier key.
 */
(function () {
  "use strict";

  function isTyping(event) {
    var target = event.target;
    if (!target || target === document.body) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) return;
    if (dialog.open) {
      dialog.close();
    } else if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
  }

  function go(link) {
    if (link && link.href) window.location.assign(link.href);
  }

  // --- the queue ---------------------------------------------------------------------------

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  }

  function selectedRow() {
    return document.querySelector("[data-queue-row].is-selected");
  }

  function selectRow(row) {
    var current = selectedRow();
    if (current) current.classList.remove("is-selected");
    if (!row) return;
    row.classList.add("is-selected");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function moveSelection(step) {
    var rows = queueRows();
    if (!rows.length) return;
    var index = rows.indexOf(selectedRow());
    if (index === -1) {
      selectRow(rows[step > 0 ? 0 : rows.length - 1]);
    } else {
      selectRow(rows[Math.min(rows.length - 1, Math.max(0, index + step))]);
    }
  }

  function approveSelected(row) {
    var box = row.querySelector("input[type=checkbox][name=step]");
    if (row.dataset.approvable !== "1" || !box) {
      window.location.assign(row.dataset.url);  // hits to look at: open the post
      return;
    }
    queueRows().forEach(function (other) {
      var otherBox = other.querySelector("input[type=checkbox][name=step]");
      if (otherBox) otherBox.checked = other === row;
    });
    var form = document.getElementById("bulk-approve");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function onQueueKey(event) {
    var row = selectedRow();
    switch (event.key) {
      case "j": moveSelection(1); return true;
      case "k": moveSelection(-1); return true;
      case "o": case "Enter": if (row) { window.location.assign(row.dataset.url); return true; } return false;
      case "x": {
        var box = row && row.querySelector("input[type=checkbox][name=step]");
        if (box) { box.checked = !box.checked; return true; }
        return false;
      }
      case "a": if (row) { approveSelected(row); return true; } return false;
      case "r": if (row) { window.location.assign(row.dataset.url + "#request-changes"); return true; } return false;
      default: return false;
    }
  }

  // --- the review page ---------------------------------------------------------------------

  function focusComment() {
    var field = document.querySelector("#request-changes textarea");
    if (!field) return false;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function approve() {
    var form = document.getElementById("approve-form");
    if (!form) return false;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return true;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  function onReviewKey(event) {
    switch (event.key) {
      case "j": go(document.querySelector("[data-shortcut-next]")); return true;
      case "k": go(document.querySelector("[data-shortcut-prev]")); return true;
      case "u": go(document.querySelector("[data-shortcut-up]")); return true;
      case "a": return approve();
      case "r": return focusComment();
      default: return false;
    }
  }

  // --- wiring ------------------------------------------------------------------------------

  var onQueue = Boolean(document.querySelector("[data-queue]"));

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event)) return;
    var dialog = document.getElementById("shortcut-help");
    if (event.key === "?") {
      toggleHelp();
      event.preventDefault();
      return;
    }
    if (dialog && dialog.open) return;
    var handled = onQueue ? onQueueKey(event) : onReviewKey(event);
    if (handled) event.preventDefault();
  });

  document.querySelectorAll("[data-shortcut-help]").forEach(function (button) {
    button.addEventListener("click", toggleHelp);
  });

  document.querySelectorAll("[data-queue-row]").forEach(function (row) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, input, button, label")) return;
      selectRow(row);
    });
  });

  if (window.location.hash === "#request-changes") focusComment();
})();

/* The compose page: the account quick selector, a live character counter per platform, the time
 * zone of the time typed, the order of attached media, and a campaign template's fields.
 * Plain JavaScript; htmx does the requests (risk check, uploads). Everything the person typed is
 * put into the page with textContent or form values, never as HTML. */
(function () {
  "use strict";

  // --- media: order and removal (the compose and campaign forms) ----------------------------
  var mediaForm = document.querySelector("[data-compose], [data-compose-media]");
  if (mediaForm) {
    mediaForm.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move], [data-remove]");
      if (!button) return;
      var item = button.closest(".media-item");
      if (!item) return;
      if (button.hasAttribute("data-remove")) {
        item.remove();
      } else if (button.dataset.move === "up" && item.previousElementSibling) {
        item.parentNode.insertBefore(item, item.previousElementSibling);
      } else if (button.dataset.move === "down" && item.nextElementSibling) {
        item.parentNode.insertBefore(item.nextElementSibling, item);
      }
    });
    // An uploaded file is attached once: clear the input so saving does not upload it again.
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var element = event.detail && event.detail.elt;
      if (element && element.matches && element.matches("[data-upload]") && event.detail.successful) {
        element.value = "";
      }
    });
  }

  var form = document.querySelector("[data-compose]");
  if (!form) return;
  var strings = JSON.parse(document.getElementById("compose-strings").textContent);
  var body = form.querySelector("[data-compose-body]");
  var counter = form.querySelector("[data-counter]");

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // --- length as each platform counts it: the rules of content/text.py ----------------------
  // X weighs CJK characters and emoji as two and any link as 23; the others count characters
  // (code points, as Python's len() does, so an emoji is one, not two UTF-16 units).
  var LINK = /https?:\/\/\S+/gu;

  function isWide(code) {
    return (code >= 0x1100 && code <= 0x115F) || (code >= 0x2E80 && code <= 0xA4CF) ||
      (code >= 0xAC00 && code <= 0xD7A3) || (code >= 0xF900 && code <= 0xFAFF) ||
      (code >= 0xFE30 && code <= 0xFE4F) || (code >= 0xFF00 && code <= 0xFF60) ||
      (code >= 0xFFE0 && code <= 0xFFE6) || code >= 0x1F000;
  }

  function weighedChars(text) {
    var total = 0;
    for (var ch of text) total += isWide(ch.codePointAt(0)) ? 2 : 1;
    return total;
  }

  function weightedLength(platform, text) {
    if (platform !== "x") return Array.from(text).length;
    var total = 0;
    var position = 0;
    for (var match of text.matchAll(LINK)) {
      total += weighedChars(text.slice(position, match.index)) + 23;
      position = match.index + match[0].length;
    }
    return total + weighedChars(text.slice(position));
  }

  // --- accounts ---------------------------------------------------------------------------
  var options = Array.prototype.slice.call(form.querySelectorAll("[data-compose-account]"));

  function chosen() {
    return options.filter(function (el) { return el.type === "hidden" || el.checked; });
  }

  function updateCounter() {
    if (!body || !counter) return;
    var text = body.value;
    var accounts = chosen();
    counter.classList.remove("over-limit");
    if (!accounts.length) {
      counter.textContent = format(strings.counter_none, {length: Array.from(text).length});
      return;
    }
    // The tightest account: the one with the fewest characters left.
    var tightest = null;
    var over = [];
    accounts.forEach(function (el) {
      var length = weightedLength(el.dataset.platform, text);
      var left = Number(el.dataset.limit) - length;
      var item = {el: el, length: length, left: left};
      if (left < 0) over.push(item);
      if (tightest === null || left < tightest.left) tightest = item;
    });
    var values = {
      length: tightest.length, limit: tightest.el.dataset.limit, platform: tightest.el.dataset.platformName,
      account: tightest.el.dataset.label, count: accounts.length
    };
    var line = format(accounts.length === 1 ? strings.counter_one : strings.counter_many, values);
    if (over.length) {
      counter.classList.add("over-limit");
      line += " · " + over.map(function (item) {
        return format(strings.counter_over, {over: -item.left, account: item.el.dataset.label});
      }).join(" · ");
    }
    counter.textContent = line;
  }

  function updateZones() {
    var label = form.querySelector("[data-zone-label]");
    var choice = form.querySelector("[data-zone-choice]");
    var zones = [];
    chosen().forEach(function (el) {
      if (zones.indexOf(el.dataset.tz) === -1) zones.push(el.dataset.tz);
    });
    zones.sort();
    var mixed = zones.length > 1;
    if (choice) {
      choice.hidden = !mixed;
      var list = choice.querySelector("[data-zone-list]");
      if (list) list.textContent = mixed ? format(strings.zones, {count: zones.length, zones: zones.join(", ")}) : "";
    }
    if (!label) return;
    if (mixed) {
      var one = form.querySelector("input[name=zone_mode][value=zone]");
      var zone = form.querySelector("select[name=timezone]");
      label.textContent = one && one.checked && zone ? zone.value : strings.zone_each;
    } else {
      label.textContent = zones.length ? zones[0] : "";
    }
  }

  function updateSelectedCount() {
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = format(strings.selected, {count: chosen().length});
  }

  function refresh() {
    updateCounter();
    updateZones();
    updateSelectedCount();
  }

  // --- the quick selector: "every dealer account in the East region" --------------------------
  function pickValue(name) {
    var field = form.querySelector("[name=" + name + "]");
    return field ? field.value : "";
  }

  function matching() {
    var tier = pickValue("pick_tier");
    var platform = pickValue("pick_platform");
    var region = pickValue("pick_region");
    var department = pickValue("pick_department");
    return options.filter(function (el) {
      return el.type === "checkbox" && (!tier || el.dataset.tier === tier) &&
        (!platform || el.dataset.platform === platform) && (!region || el.dataset.region === region) &&
        (!department || el.dataset.department === department);
    });
  }

  function markMatching() {
    var any = ["pick_tier", "pick_platform", "pick_region", "pick_department"].some(pickValue);
    var matches = matching();
    options.forEach(function (el) {
      var row = el.closest(".account-option");
      if (row) row.classList.toggle("dimmed", any && matches.indexOf(el) === -1);
    });
  }

  var pick = form.querySelector("[data-pick]");
  var unpick = form.querySelector("[data-unpick]");
  var clear = form.querySelector("[data-clear]");
  if (pick) {
    pick.type = "button";  // without JavaScript it submits and the server picks
    pick.addEventListener("click", function () {
      matching().forEach(function (el) { el.checked = true; });
      refresh();
      screenAgain();
    });
  }
  if (unpick) {
    unpick.hidden = false;
    unpick.addEventListener("click", function () {
      matching().forEach(function (el) { el.checked = false; });
      refresh();
    });
  }
  if (clear) {
    clear.hidden = false;
    clear.addEventListener("click", function () {
      options.forEach(function (el) { if (el.type === "checkbox") el.checked = false; });
      refresh();
    });
  }
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-compose-account]")) {
      refresh();
      if (target === chosen()[0]) screenAgain();  // the first account's brand decides the lexicons
    } else if (target.matches("[name^=pick_]")) {
      markMatching();
    } else if (target.matches("[name=zone_mode], [name=timezone]")) {
      updateZones();
    }
  });

  function screenAgain() {
    if (body && body.value.trim() && window.htmx) window.htmx.trigger(body, "refill");
  }

  // --- a campaign template's fields --------------------------------------------------------
  var templateData = document.getElementById("campaign-template");
  if (templateData && body) {
    var template = JSON.parse(templateData.textContent).replace(/\r\n?/g, "\n");
    var fields = Array.prototype.slice.call(form.querySelectorAll("[data-template-field]"));
    var refillButton = form.querySelector("[data-template-refill]");

    var fieldValues = function () {
      var values = {};
      fields.forEach(function (input) { values[input.dataset.templateField] = input.value; });
      return values;
    };
    // The same as approvals.workflow.template_fill: unknown fields stay as typed.
    var fill = function (values) {
      return template.replace(/\{([a-z_][a-z0-9_]*)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
      });
    };
    var lastValues = fieldValues();
    var setBody = function (text) {
      body.value = text;
      lastValues = fieldValues();
      if (refillButton) refillButton.hidden = true;
      refresh();
      if (window.htmx) window.htmx.trigger(body, "refill");
    };

    fields.forEach(function (input) {
      input.addEventListener("input", function () {
        // Re-fill only while the wording is untouched; otherwise the author's changes would be lost.
        if (body.value.replace(/\r\n?/g, "\n") === fill(lastValues)) {
          setBody(fill(fieldValues()));
        } else {
          if (refillButton) refillButton.hidden = false;
          if (window.htmx) window.htmx.trigger(body, "refill");
        }
      });
    });
    if (refillButton) {
      refillButton.addEventListener("click", function () {
        if (window.confirm(strings.refill_confirm)) setBody(fill(fieldValues()));
      });
    }
  }

  if (body) body.addEventListener("input", updateCounter);
  markMatching();
  refresh();
})();

/* The calendars (content/calendar_views.py): one FullCalendar in the viewer's time zone, fed by
 * GET /api/v1/calendar/ (every page of it) and GET /api/v1/blocked-days/.
 *
 * Marketing calendar: filters refetch; dragging a post POSTs the wall-clock time it was dropped on
 * to /api/v1/posts/{id}/reschedule/ (a refusal snaps it back and says why); an empty slot in the
 * week view opens the compose page for that time. My calendar: a post opens in a dialog (the page
 * renders it, hits and media included) where the owner approves or requests changes through the
 * API; days are blocked and unblocked through the API. Both: the private ICS feed link.
 *
 * Everything the server says is written with textContent; the words come translated from the
 * page (json_script "calendar-strings").
 */
(function () {
  "use strict";

  var configNode = document.getElementById("calendar-config");
  if (!configNode || typeof FullCalendar === "undefined") return;
  var config = JSON.parse(configNode.textContent);
  var strings = JSON.parse(document.getElementById("calendar-strings").textContent);
  var calendar = null;

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // --- talking to the API ------------------------------------------------------------------

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  /* fetch() with the session and the CSRF header; resolves to {ok, status, data} (data: the JSON
   * answer, or null), rejects only when the network fails. */
  function api(method, url, body) {
    var headers = { Accept: "application/json" };
    var options = { method: method, credentials: "same-origin", headers: headers };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, data: null };
      return response.json().then(
        function (data) { return { ok: response.ok, status: response.status, data: data }; },
        function () { return { ok: response.ok, status: response.status, data: null }; }
      );
    });
  }

  /* The message of a refusal: `detail`, or the first message of the first field named. */
  function errorMessage(answer) {
    var data = answer && answer.data;
    if (!data || typeof data !== "object") return strings.failed;
    if (typeof data.detail === "string") return data.detail;
    var preferred = ["scheduled_at", "non_field_errors", "date", "note", "comment", "revision"];
    var names = preferred.concat(Object.keys(data));
    for (var i = 0; i < names.length; i++) {
      var value = data[names[i]];
      if (names[i] === "code") continue;
      if (Array.isArray(value) && value.length && typeof value[0] === "string") return value[0];
      if (typeof value === "string" && names[i] !== "code") return value;
    }
    return strings.failed;
  }

  /* Every page of a paginated list: follows `next` until there is none, or until `limit` items.
     Resolves to the items; `items.total` is the list's whole count. */
  function fetchAll(url, limit) {
    var items = [];
    function page(pageUrl) {
      return api("GET", pageUrl).then(function (answer) {
        if (!answer.ok) throw new Error(errorMessage(answer));
        var data = answer.data || {};
        items = items.concat(Array.isArray(data) ? data : data.results || []);
        items.total = typeof data.count === "number" ? data.count : items.length;
        if (data.next && !(limit && items.length >= limit)) return page(data.next);
        return items;
      });
    }
    return page(url);
  }

  // A calendar of the whole matrix can hold tens of thousands of posts a month: more than a person
  // can read or a browser can draw. Past this many, the calendar shows the first ones and says how
  // to see the rest.
  var MAX_EVENTS = config.maxEvents || 3000;

  // --- messages ----------------------------------------------------------------------------

  var alertBox = document.querySelector("[data-calendar-alert]");
  var statusBox = document.querySelector("[data-calendar-status]");

  function showAlert(text, kind) {
    if (!alertBox) return;
    alertBox.textContent = text;
    alertBox.className = "calendar-alert message " + (kind || "error");
    alertBox.hidden = !text;
  }

  function showStatus(text) {
    if (statusBox) statusBox.textContent = text || "";
  }

  // --- wall-clock times --------------------------------------------------------------------
  // FullCalendar works on "markers": Dates whose UTC fields are the wall-clock time in the
  // calendar's zone. A dropped post is sent as that wall-clock time, never as an instant: a drop
  // on 02:30 of a spring-forward night has no instant, and converting it would quietly move the
  // post to 03:30. The server refuses it instead, and says why.

  function wallClockMarker(date) {
    var local = FullCalendar.Luxon3.toLuxonDateTime(date, calendar);
    return new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute));
  }

  function addDuration(marker, delta) {
    var moved = new Date(marker.getTime());
    var months = (delta.years || 0) * 12 + (delta.months || 0);
    if (months) moved.setUTCMonth(moved.getUTCMonth() + months);
    if (delta.days) moved.setUTCDate(moved.getUTCDate() + delta.days);
    return new Date(moved.getTime() + (delta.milliseconds || 0));
  }

  function markerText(marker) {
    return marker.toISOString().slice(0, 16); // YYYY-MM-DDTHH:MM
  }

  function shown(localIso) {
    return String(localIso || "").slice(0, 16).replace("T", " ");
  }

  function todayInZone(plusDays) {
    return luxon.DateTime.now().setZone(config.timezone).plus({ days: plusDays || 0 }).toISODate();
  }

  // --- events --------------------------------------------------------------------------------

  function filterParams() {
    var params = new URLSearchParams();
    Object.keys(config.filters || {}).forEach(function (name) {
      if (config.filters[name]) params.set(name, config.filters[name]);
    });
    return params;
  }

  function toEvent(post) {
    return {
      id: "post-" + post.id,
      title: post.title || "",
      start: post.start,
      allDay: false,
      url: config.mine ? undefined : post.url,
      startEditable: Boolean(post.editable),
      durationEditable: false,
      classNames: ["ev-status-" + post.status],
      extendedProps: { post: post },
    };
  }

  function fetchPosts(info, success, failure) {
    var params = filterParams();
    params.set("start", info.startStr);
    params.set("end", info.endStr);
    params.set("timezone", config.timezone);
    params.set("page_size", String(Math.min(1000, MAX_EVENTS)));
    fetchAll(config.eventsUrl + "?" + params.toString(), MAX_EVENTS).then(
      function (posts) {
        if (posts.total > posts.length) {
          showAlert(format(strings.too_many, { shown: posts.length.toLocaleString(),
                                               total: posts.total.toLocaleString() }), "warning");
        } else if (alertBox && alertBox.dataset.tooMany) {
          showAlert("");
        }
        if (alertBox) alertBox.dataset.tooMany = posts.total > posts.length ? "1" : "";
        success(posts.map(toEvent));
      },
      function (error) { failure(error); }
    );
  }

  function fetchBlockedDays(info, success, failure) {
    var params = new URLSearchParams();
    params.set("start", info.startStr.slice(0, 10));
    params.set("end", info.endStr.slice(0, 10));
    var owner = config.mine ? "me" : (config.filters || {}).owner;
    if (owner) params.set("owner", owner);
    fetchAll(config.blockedDaysUrl + "?" + params.toString()).then(function (days) {
      success(days.map(function (day) {
        var who = day.owner_name || "";
        return {
          id: "blocked-" + day.id,
          start: day.date,
          allDay: true,
          display: "background",
          classNames: ["blocked-day"],
          title: day.note ? format(strings.blocked_with_note, { owner: who, note: day.note })
            : format(strings.blocked, { owner: who }),
          extendedProps: { blocked: day },
        };
      }));
    }, function (error) { failure(error); });
  }

  function eventContent(arg) {
    var post = arg.event.extendedProps.post;
    if (!post) return true; // background events: FullCalendar's own rendering (their title, as text)
    var box = document.createElement("div");
    box.className = "ev";
    if (arg.timeText && arg.view.type.indexOf("list") !== 0) {
      var time = document.createElement("span");
      time.className = "ev-time";
      time.textContent = arg.timeText;
      box.appendChild(time);
    }
    var account = document.createElement("span");
    account.className = "ev-account";
    account.textContent = post.account_label + " · " + post.platform_name;
    box.appendChild(account);
    var status = document.createElement("span");
    status.className = "ev-status-label";
    status.textContent = (strings.statuses || {})[post.status] || post.status;
    box.appendChild(status);
    // The API's title starts with the account, which the line above already names.
    var text = String(arg.event.title || "");
    if (text.indexOf(post.account_label) === 0) text = text.slice(post.account_label.length).trim();
    if (text) {
      var title = document.createElement("span");
      title.className = "ev-title";
      title.textContent = text;
      box.appendChild(title);
    }
    if (arg.view.type.indexOf("list") === 0) {
      // The list view makes its rows clickable through a link in the title cell: it must be there.
      var link = document.createElement("a");
      link.href = post.url;
      link.appendChild(box);
      return { domNodes: [link] };
    }
    return { domNodes: [box] };
  }

  function eventDidMount(arg) {
    var post = arg.event.extendedProps.post;
    if (!post) {
      if (arg.event.title) arg.el.title = arg.event.title;
      return;
    }
    var lines = [post.account_label + " · " + post.platform_name, (strings.statuses || {})[post.status] || post.status];
    if (post.zone_differs) {
      lines.push(format(strings.account_time, { time: shown(post.start_account_local), zone: post.account_timezone }));
    }
    if (post.campaign_name) lines.push(post.campaign_name);
    arg.el.title = lines.join("\n");
    arg.el.dataset.post = post.id;
    arg.el.dataset.status = post.status;
  }

  function eventDrop(info) {
    var post = info.event.extendedProps.post;
    var local = markerText(addDuration(wallClockMarker(info.oldEvent.start), info.delta));
    showAlert("");
    showStatus(strings.moving);
    api("POST", config.postApiUrl.replace("{id}", post.id) + "reschedule/", { local: local, timezone: config.timezone })
      .then(function (answer) {
        if (answer.ok) {
          showStatus(format(strings.moved, { account: post.account_label, time: shown(local), zone: config.timezone }));
          calendar.refetchEvents(); // the account's time, the status and who may move it, as the server has them
        } else {
          info.revert();
          showStatus("");
          showAlert(format(strings.refused, { message: errorMessage(answer) }));
        }
      }, function () {
        info.revert();
        showStatus("");
        showAlert(strings.move_failed);
      });
  }

  function composeUrl(local) {
    var params = new URLSearchParams();
    var account = (config.filters || {}).account;
    if (account) params.set("account", account);
    params.set("local", local);
    params.set("timezone", config.timezone);
    return config.composeUrl + "?" + params.toString();
  }

  function dateClick(info) {
    if (config.mine) {
      pickBlockedDate(info.dateStr.slice(0, 10));
      return;
    }
    // dateStr keeps the wall-clock time of the slot (see wallClockMarker), a DST gap included.
    if (info.allDay || !config.composeUrl) return;
    window.location.assign(composeUrl(info.dateStr.slice(0, 16)));
  }

  function eventClick(info) {
    if (!config.mine) return; // the marketing calendar follows the event's link to the post page
    var post = info.event.extendedProps.post;
    if (!post) return;
    info.jsEvent.preventDefault();
    openPanel(post.id);
  }

  // The page's address keeps the view, the date and the filters, so a reload or a shared link
  // shows the same calendar.
  function rememberState() {
    if (!calendar || !window.history.replaceState) return;
    var params = filterParams();
    if (config.mine) params.delete("owner");
    params.set("view", calendar.view.type);
    params.set("date", FullCalendar.Luxon3.toLuxonDateTime(calendar.getDate(), calendar).toISODate());
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  function buildCalendar(element) {
    var english = config.locale === "en";
    var options = {
      timeZone: config.timezone,
      locale: config.locale,
      initialView: config.initialView,
      headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,listMonth" },
      height: "auto",
      expandRows: true,
      nowIndicator: true,
      navLinks: true,
      eventDisplay: "block",
      dayMaxEvents: 5,
      slotDuration: "00:30:00",
      scrollTime: "08:00:00",
      defaultTimedEventDuration: "00:30:00",
      displayEventEnd: false,
      // 24-hour clock, as on every other page.
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      editable: false,
      eventDurationEditable: false,
      eventSources: [{ id: "posts", events: fetchPosts }, { id: "blocked", events: fetchBlockedDays }],
      eventContent: eventContent,
      eventDidMount: eventDidMount,
      eventDrop: eventDrop,
      eventClick: eventClick,
      dateClick: dateClick,
      eventSourceFailure: function () { showAlert(strings.load_failed); },
      loading: function (isLoading) {
        element.setAttribute("aria-busy", isLoading ? "true" : "false");
        // Never over a message the person has not read yet (a move is followed by a refetch).
        if (isLoading && statusBox && !statusBox.textContent) showStatus(strings.loading);
        else if (statusBox && statusBox.textContent === strings.loading) showStatus("");
      },
      datesSet: rememberState,
      // Month and list grow with their content; the week scrolls inside a window of the day,
      // opened at eight in the morning.
      viewDidMount: function (arg) {
        if (calendar) calendar.setOption("height", arg.view.type.indexOf("timeGrid") === 0 ? 820 : "auto");
      },
    };
    if (config.initialView.indexOf("timeGrid") === 0) options.height = 820;
    if (english) {
      options.buttonText = { today: strings.today, month: strings.month, week: strings.week, list: strings.list };
    }
    if (config.initialDate) options.initialDate = config.initialDate;
    calendar = new FullCalendar.Calendar(element, options);
    calendar.render();
  }

  // --- filters (marketing calendar) -------------------------------------------------------------

  function bindFilters() {
    var form = document.querySelector("[data-calendar-filters]");
    if (!form) return;
    function apply() {
      var filters = {};
      new FormData(form).forEach(function (value, name) {
        if (value) filters[name] = String(value);
      });
      config.filters = filters;
      rememberState();
      calendar.refetchEvents();
    }
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply();
    });
  }

  // --- the post panel (My calendar) ------------------------------------------------------------

  var dialog = document.querySelector("[data-post-panel]");
  var panelBody = dialog ? dialog.querySelector("[data-panel-body]") : null;

  function loadPanel(id) {
    panelBody.textContent = strings.loading;
    // The page renders the panel (Django escapes it), as htmx does for every fragment of the site.
    return htmx.ajax("GET", config.panelUrl.replace("{id}", id), { target: panelBody, swap: "innerHTML" })
      .then(function () {
        if (!panelBody.querySelector("[data-panel-post]")) panelBody.textContent = strings.panel_failed;
      }, function () { panelBody.textContent = strings.panel_failed; });
  }

  function openPanel(id) {
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    loadPanel(id);
  }

  function bindPanel() {
    if (!dialog) return;
    dialog.querySelector("[data-panel-close]").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
    dialog.addEventListener("submit", function (event) {
      var form = event.target.closest("[data-decision-form]");
      if (!form) return;
      event.preventDefault();
      var decision = event.submitter ? event.submitter.value : "approve";
      var comment = form.elements.comment.value.trim();
      var error = form.querySelector("[data-decision-error]");
      error.textContent = "";
      if (decision === "request-changes" && !comment) {
        error.textContent = strings.comment_required;
        form.elements.comment.focus();
        return;
      }
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (button) { button.disabled = true; });
      var id = form.dataset.post;
      // The revision read is sent along: if the post changed since, the server refuses the decision.
      api("POST", config.postApiUrl.replace("{id}", id) + decision + "/", { comment: comment, revision: form.dataset.revision })
        .then(function (answer) {
          if (answer.ok) {
            showStatus(decision === "approve" ? strings.approved : strings.changes_requested);
            calendar.refetchEvents();
            loadPanel(id);
          } else {
            error.textContent = errorMessage(answer);
            buttons.forEach(function (button) { button.disabled = false; });
          }
        }, function () {
          error.textContent = strings.decision_failed;
          buttons.forEach(function (button) { button.disabled = false; });
        });
    });
  }

  // --- blocked days (My calendar) --------------------------------------------------------------

  var blockedForm = document.querySelector("[data-blocked-form]");
  var blockedList = document.querySelector("[data-blocked-list]");

  function pickBlockedDate(date) {
    if (!blockedForm) return;
    blockedForm.elements.date.value = date;
    blockedForm.elements.note.focus();
  }

  function renderBlockedDays(days) {
    blockedList.textContent = "";
    if (!days.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = strings.no_blocked_days;
      blockedList.appendChild(empty);
      return;
    }
    days.sort(function (a, b) { return a.date < b.date ? -1 : 1; }).forEach(function (day) {
      var item = document.createElement("li");
      item.dataset.blockedDay = day.id;
      var date = document.createElement("strong");
      date.textContent = day.date;
      item.appendChild(date);
      if (day.note) {
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = " " + day.note;
        item.appendChild(note);
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = strings.unblock;
      button.setAttribute("aria-label", format(strings.unblock_label, { date: day.date }));
      button.addEventListener("click", function () { unblock(day); });
      item.appendChild(button);
      blockedList.appendChild(item);
    });
  }

  function loadBlockedDays() {
    if (!blockedList) return;
    var params = new URLSearchParams({ owner: "me", start: todayInZone(0), end: todayInZone(400) });
    fetchAll(config.blockedDaysUrl + "?" + params.toString()).then(renderBlockedDays, function (error) {
      showAlert(format(strings.request_failed, { message: error.message }));
    });
  }

  function unblock(day) {
    api("DELETE", config.blockedDaysUrl + day.id + "/").then(function (answer) {
      if (answer.ok) {
        showAlert("");
        showStatus(format(strings.blocked_removed, { date: day.date }));
        loadBlockedDays();
        calendar.refetchEvents();
      } else {
        showAlert(format(strings.request_failed, { message: errorMessage(answer) }));
      }
    }, function () { showAlert(strings.unblock_failed); });
  }

  function bindBlockedDays() {
    if (!blockedForm) return;
    blockedForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var date = blockedForm.elements.date.value;
      var body = { date: date, note: blockedForm.elements.note.value.trim() };
      api("POST", config.blockedDaysUrl, body).then(function (answer) {
        if (!answer.ok) {
          showAlert(format(strings.request_failed, { message: errorMessage(answer) }));
          return;
        }
        var conflicts = (answer.data && answer.data.conflicts) || [];
        if (conflicts.length) {
          var warning = conflicts.length === 1 ? strings.blocked_conflict : strings.blocked_conflicts;
          showAlert(format(warning, { date: date, count: conflicts.length }), "warning");
        } else {
          showAlert("");
        }
        showStatus(format(strings.blocked_added, { date: date }));
        blockedForm.reset();
        loadBlockedDays();
        calendar.refetchEvents();
      }, function () { showAlert(strings.block_failed); });
    });
    loadBlockedDays();
  }

  // --- the ICS feed ----------------------------------------------------------------------------

  function bindFeed() {
    var box = document.querySelector("[data-calendar-feed]");
    if (!box) return;
    var urlInput = box.querySelector("[data-feed-url]");
    var status = box.querySelector("[data-feed-status]");
    var parts = {
      present: box.querySelector("[data-feed-present]"),
      absent: box.querySelector("[data-feed-absent]"),
      create: box.querySelector("[data-feed-create]"),
      rotate: box.querySelector("[data-feed-rotate]"),
      off: box.querySelector("[data-feed-off]"),
    };

    function show(feed) {
      var has = Boolean(feed && feed.url);
      urlInput.value = has ? feed.url : "";
      parts.present.hidden = !has;
      parts.rotate.hidden = !has;
      parts.off.hidden = !has;
      parts.absent.hidden = has;
      parts.create.hidden = has;
    }

    function failed(answer) {
      status.textContent = format(strings.request_failed, { message: errorMessage(answer) });
    }

    api("GET", config.feedUrl).then(function (answer) {
      show(answer.ok ? answer.data : null);
    }, function () { show(null); });

    function create(message) {
      api("POST", config.feedUrl).then(function (answer) {
        if (!answer.ok) return failed(answer);
        show(answer.data);
        status.textContent = message || "";
      }, failed);
    }

    parts.create.addEventListener("click", function () { create(""); });
    parts.rotate.addEventListener("click", function () {
      if (window.confirm(strings.feed_rotate_confirm)) create(strings.feed_rotated);
    });
    parts.off.addEventListener("click", function () {
      if (!window.confirm(strings.feed_off_confirm)) return;
      api("DELETE", config.feedUrl).then(function (answer) {
        if (!answer.ok) return failed(answer);
        show(null);
        status.textContent = strings.feed_off;
      }, failed);
    });
    box.querySelector("[data-feed-copy]").addEventListener("click", function () {
      function fallback() {
        urlInput.select();
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
        status.textContent = copied ? strings.feed_copied : strings.feed_copy_failed;
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(urlInput.value).then(function () { status.textContent = strings.feed_copied; }, fallback);
      } else {
        fallback();
      }
    });
  }

  var element = document.querySelector("[data-calendar]");
  if (element) buildCalendar(element);
  bindFilters();
  bindPanel();
  bindBlockedDays();
  bindFeed();
})();

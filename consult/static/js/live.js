// Live regions. Every element with data-live-channel="assembly:12" and
// data-live-src="/url/of/its/fragment" is refetched (and its content replaced)
// shortly after each event on its channel. Events come by Server-Sent Events
// (/live/<channel>/events, which resume after the last event seen); when the
// browser has no EventSource or the stream keeps failing, by polling
// /live/<channel>/since. Optional: data-live-last-id (the channel's last event
// when the page was made: nothing in between is missed), data-live-events-url
// and data-live-since-url (when the application is not at the site's root).
// After each replacement: document "live:updated" with {detail: {region, channel}}.
// While the region holds an element with data-live-every="5", it is also
// refetched every 5 s (the page visible), for what changes without an event:
// a vote's turnout as ballots come.
// Also: every <time data-countdown-until="ISO date"> shows the time left as
// m:ss, each second; at zero it stays at 0:00 and gets the class "is-over".
(() => {
  const DEBOUNCE_MS = 150;
  const POLL_MS = 4000;
  const MAX_ERRORS = 3; // stream errors within ERROR_WINDOW_MS: poll instead
  const ERROR_WINDOW_MS = 30000;
  const RETRY_STREAM_MS = 120000; // while polling, try the stream again after this

  const typing = (region) => {
    const active = document.activeElement;
    if (!active || !region.contains(active)) return false;
    return active.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
  };

  const focusKey = (region) => {
    const active = document.activeElement;
    if (!active || active === region || !region.contains(active)) return null;
    if (active.id) return `#${CSS.escape(active.id)}`;
    if (active.name) return `${active.tagName}[name="${CSS.escape(active.name)}"]`;
    // A one-button form (the assembly's actions): its button, by the form's action.
    const action = active.form && active.form.getAttribute("action");
    if (action) return `form[action="${CSS.escape(action)}"] ${active.tagName}`;
    return null;
  };

  const swap = (region, html) => {
    const key = focusKey(region);
    region.innerHTML = html;
    const again = key && region.querySelector(key);
    if (again) again.focus({ preventScroll: true });
    tickCountdowns();
    tickLater(region);
    document.dispatchEvent(new CustomEvent("live:updated", {
      detail: { region, channel: region.dataset.liveChannel },
    }));
  };

  // The region's next periodic refresh, while something in it asks for one.
  const tickLater = (region) => {
    window.clearTimeout(region.liveTick);
    const asking = region.querySelector("[data-live-every]");
    const seconds = asking ? Number(asking.dataset.liveEvery) : 0;
    if (!(seconds > 0)) return;
    region.liveTick = window.setTimeout(() => {
      if (document.hidden) tickLater(region);
      else refresh(region);
    }, seconds * 1000);
  };

  const refresh = (region) => {
    if (typing(region)) {
      region.dataset.liveStale = "1"; // refreshed when the user leaves the field
      return;
    }
    if (region.liveBusy) {
      region.liveAgain = true;
      return;
    }
    region.liveBusy = true;
    delete region.dataset.liveStale;
    fetch(region.dataset.liveSrc, {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Requested-With": "fetch" },
    })
      // Redirected (signed out): keep what is shown rather than a sign-in form.
      .then((response) => (response.ok && !response.redirected ? response.text() : Promise.reject(response.status)))
      .then((html) => swap(region, html))
      .catch(() => {}) // the next event, or poll, tries again
      .finally(() => {
        region.liveBusy = false;
        if (region.liveAgain) {
          region.liveAgain = false;
          schedule(region);
        }
      });
  };

  const schedule = (region) => {
    window.clearTimeout(region.liveTimer);
    region.liveTimer = window.setTimeout(() => refresh(region), DEBOUNCE_MS);
  };

  const withId = (url, lastId) => (lastId ? `${url}${url.includes("?") ? "&" : "?"}last_id=${encodeURIComponent(lastId)}` : url);

  const changed = (entry) => entry.regions.forEach(schedule);

  const poll = (entry) => {
    fetch(withId(entry.sinceUrl, entry.lastId), { credentials: "same-origin", cache: "no-store" })
      .then((response) => {
        if (response.status === 403 || response.status === 404) entry.stopped = true;
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then((body) => {
        if (body.events.length) changed(entry);
        entry.lastId = body.last_id || entry.lastId;
      })
      .catch(() => { if (!entry.stopped) changed(entry); }) // no news: a plain refresh
      .finally(() => {
        if (!entry.stopped && entry.polling) entry.pollTimer = window.setTimeout(() => poll(entry), POLL_MS);
      });
  };

  const startPolling = (entry) => {
    if (entry.polling) return;
    entry.polling = true;
    poll(entry);
    if (window.EventSource) {
      window.setTimeout(() => {
        entry.polling = false;
        window.clearTimeout(entry.pollTimer);
        entry.errors = [];
        if (!entry.stopped) connect(entry);
      }, RETRY_STREAM_MS);
    }
  };

  const connect = (entry) => {
    if (!window.EventSource) {
      startPolling(entry);
      return;
    }
    const source = new EventSource(withId(entry.eventsUrl, entry.lastId));
    entry.source = source;
    const kinds = new Set();
    const onEvent = (event) => {
      if (event.lastEventId) entry.lastId = event.lastEventId;
      changed(entry);
    };
    source.addEventListener("live-ready", (event) => {
      if (event.lastEventId) entry.lastId = event.lastEventId;
    });
    source.addEventListener("live-kinds", (event) => {
      JSON.parse(event.data).kinds.forEach((kind) => {
        if (!kinds.has(kind)) {
          kinds.add(kind);
          source.addEventListener(kind, onEvent);
        }
      });
    });
    source.addEventListener("message", onEvent);
    source.addEventListener("error", () => {
      const now = Date.now();
      entry.errors = entry.errors.filter((time) => now - time < ERROR_WINDOW_MS).concat(now);
      if (source.readyState === EventSource.CLOSED || entry.errors.length >= MAX_ERRORS) {
        source.close();
        startPolling(entry);
      }
    });
  };

  const channels = new Map();
  document.querySelectorAll("[data-live-channel][data-live-src]").forEach((region) => {
    const channel = region.dataset.liveChannel;
    if (!channels.has(channel)) {
      const base = `/live/${encodeURIComponent(channel)}`;
      channels.set(channel, {
        regions: [],
        errors: [],
        lastId: region.dataset.liveLastId || "",
        eventsUrl: region.dataset.liveEventsUrl || `${base}/events`,
        sinceUrl: region.dataset.liveSinceUrl || `${base}/since`,
      });
    }
    channels.get(channel).regions.push(region);
    tickLater(region);
    region.addEventListener("focusout", () => {
      window.setTimeout(() => {
        if (region.dataset.liveStale && !typing(region)) schedule(region);
      }, 0);
    });
  });
  channels.forEach(connect);
  // A phone back from sleep: its stream may have been closed meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    channels.forEach((entry) => {
      if (entry.source && entry.source.readyState === EventSource.CLOSED && !entry.polling) {
        connect(entry);
      }
      changed(entry);
    });
  });

  function tickCountdowns() {
    document.querySelectorAll("time[data-countdown-until]").forEach((element) => {
      const until = Date.parse(element.dataset.countdownUntil);
      if (Number.isNaN(until)) return;
      const left = Math.ceil((until - Date.now()) / 1000);
      const seconds = Math.max(left, 0);
      const text = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
      if (element.textContent !== text) element.textContent = text;
      element.classList.toggle("is-over", left <= 0);
    });
  }
  tickCountdowns();
  window.setInterval(tickCountdowns, 1000);
})();

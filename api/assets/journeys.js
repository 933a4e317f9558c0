/* journeys.js: real-time experiences on a website, no build tools needed.
 *
 *   <div data-placement="homepage_hero">(what shows when nothing is decided)</div>
 *   <script src="https://journeys.example.com/sdk/journeys.js" data-write-key="CLIENT_WRITE_KEY"
 *           data-user-id="(the signed-in user's id, if any)"
 *           data-person-token="(that user's token from POST /api/profiles/{userId}/token)"
 *           data-timeout="1500"></script>
 *
 * On load it asks POST /v1/decide for every placement on the page, puts each decision's content into its
 * elements (an app payload is handed to a `journeys:decision` event instead), and reports views and clicks
 * as Segment-style track events (`Experience Viewed`, `Experience Clicked`). `journeys.track(event,
 * properties)` sends any other event; `journeys.render()` decides again. */
(function () {
  "use strict";
  var script = document.currentScript;
  var api = script.getAttribute("data-api") || new URL(script.src).origin;
  var key = script.getAttribute("data-write-key") || "";
  var timeout = Number(script.getAttribute("data-timeout")) || 1500; // ms before the page keeps its defaults
  var storageKey = "journeys_anonymous_id";

  function anonymousId() {
    try {
      var id = window.localStorage.getItem(storageKey);
      if (!id) {
        id = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : String(Math.random()).slice(2);
        window.localStorage.setItem(storageKey, id);
      }
      return id;
    } catch (error) {
      return "anonymous";
    }
  }

  var journeys = (window.journeys = window.journeys || {});
  journeys.userId = script.getAttribute("data-user-id") || journeys.userId || null;
  journeys.anonymousId = anonymousId();
  journeys.personToken = script.getAttribute("data-person-token") || journeys.personToken || null;

  function who() {
    var person = { anonymousId: journeys.anonymousId };
    if (journeys.userId) person.userId = journeys.userId;
    return person;
  }

  function page() {
    return {
      page: { path: location.pathname, url: location.href, referrer: document.referrer, title: document.title, search: location.search },
      userAgent: navigator.userAgent,
      locale: navigator.language,
    };
  }

  function post(path, body, signal) {
    var headers = { "Content-Type": "application/json", Authorization: "Basic " + btoa(key + ":") };
    // A client key decides for a signed-in user only with their own token.
    if (journeys.personToken && path === "/v1/decide") headers["X-Person-Token"] = journeys.personToken;
    return fetch(api + path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      keepalive: true,
      signal: signal,
    });
  }

  journeys.track = function (event, properties) {
    var body = who();
    body.event = event;
    body.properties = properties || {};
    body.context = page();
    return post("/v1/track", body);
  };

  function show(elements, decision) {
    elements.forEach(function (element) {
      element.setAttribute("data-variation", decision.variation || "");
      if (decision.content !== null && decision.content !== undefined) element.innerHTML = decision.content;
      element.dispatchEvent(new CustomEvent("journeys:decision", { detail: decision, bubbles: true }));
      element.addEventListener("click", function () {
        journeys.track("Experience Clicked", { experience: decision.experience, variation: decision.variation, decision_id: decision.decision_id, placement: decision.placement });
      });
    });
    journeys.track("Experience Viewed", { experience: decision.experience, variation: decision.variation, decision_id: decision.decision_id, placement: decision.placement });
  }

  journeys.render = function () {
    var byPlacement = {};
    document.querySelectorAll("[data-placement]").forEach(function (element) {
      var name = element.getAttribute("data-placement");
      (byPlacement[name] = byPlacement[name] || []).push(element);
    });
    var placements = Object.keys(byPlacement);
    if (!placements.length) return Promise.resolve([]);
    var body = who();
    body.placements = placements;
    body.context = page();
    // A page never waits on us: past the timeout, or on any failure, what the page holds stays.
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && setTimeout(function () { controller.abort(); }, timeout);
    return post("/v1/decide", body, controller ? controller.signal : undefined)
      .then(function (response) {
        return response.ok ? response.json() : { decisions: [] };
      })
      .catch(function () {
        return { decisions: [] };
      })
      .then(function (answer) {
        clearTimeout(timer);
        answer.decisions.forEach(function (decision) {
          if (decision.decision_id) show(byPlacement[decision.placement] || [], decision);
        });
        document.documentElement.setAttribute("data-journeys", "decided");
        return answer.decisions;
      });
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", journeys.render);
  else journeys.render();
})();

// Time zones (profile and sign-in). Without JavaScript everything still works:
// the list is a plain <select> and the city field is matched on the server.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }

  function start() {
    // Sign-in: the browser's zone, offered to a member who never chose one.
    document.querySelectorAll("input[name='browser_timezone']").forEach(function (input) {
      input.value = zone;
    });

    var select = document.querySelector("select[data-zone-offer]") ||
      document.querySelector("select[name='timezone']");
    if (!select) {
      return;
    }
    // Profile, no zone chosen yet: suggest the browser's.
    if (zone && select.hasAttribute("data-zone-offer") && select.value !== zone) {
      var known = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      if (known) {
        select.value = zone;
        var note = document.getElementById("timezone-offer");
        if (note) {
          note.hidden = false;
        }
      }
    }

    // The city field filters the list as one types and selects the first match.
    var search = document.querySelector("input[data-zone-filter]");
    if (!search) {
      return;
    }
    var labels = {};
    var list = document.getElementById(search.getAttribute("list"));
    if (list) {
      Array.prototype.forEach.call(list.options, function (option) {
        labels[fold(option.value)] = true;
      });
    }
    search.addEventListener("input", function () {
      var wanted = fold(search.value);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !wanted || fold(option.text).indexOf(wanted) !== -1 ||
          fold(option.value).indexOf(wanted) !== -1;
        option.hidden = !match;
        if (match && !first && wanted) {
          first = option;
        }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (option) {
          return !option.hidden;
        });
      });
      if (first) {
        select.value = first.value;
      }
    });
    // What the list shows selected is what is saved: text that names no line
    // of the list exactly is not sent (the server would refuse it).
    search.form.addEventListener("submit", function () {
      if (search.value && !labels[fold(search.value)]) {
        search.value = "";
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* The help desk's one way to write a time: a port of inbox/timefmt.py (same rules, same words;
   tests/timefmt_cases.json is the table both are tested against). The server renders the text;
   app.js calls this only to refresh relative text as time passes ("just now" -> "1 min ago").
   Zone: the <body data-time-zone> (HELPDESK_TIME_ZONE) when set, else the browser's own. */
(function (root) {
  "use strict";
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var JUST_NOW_PAST = 45, JUST_NOW_AHEAD = 60, MINUTE = 60, HOUR = 3600, DAY = 86400, WEEKDAY_DAYS = 7;
  var formats = {}, browserZone;

  /* The browser's zone is asked once a page: each Intl.DateTimeFormat() costs ~0.1 ms, and a page
     of rows has a hundred times to write. */
  function zoneName(zone) {
    if (zone) return zone;
    if (!browserZone) {
      try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { browserZone = "UTC"; }
    }
    return browserZone;
  }
  function formatter(zone) {
    if (!formats[zone]) {
      formats[zone] = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
        hour: "numeric", minute: "numeric", second: "numeric"
      });
    }
    return formats[zone];
  }
  /* The wall-clock parts of date in zone: {year, month (1-12), day, hour, minute, second, weekday (0 = Mon)}. */
  function parts(date, zone) {
    var out = {};
    formatter(zone).formatToParts(date).forEach(function (p) {
      if (p.type !== "literal") out[p.type] = parseInt(p.value, 10);
    });
    if (out.hour === 24) out.hour = 0;
    var epochDays = Date.UTC(out.year, out.month - 1, out.day) / 864e5;
    out.epochDays = epochDays;
    out.weekday = ((epochDays + 3) % 7 + 7) % 7; // 1970-01-01 was a Thursday (3)
    return out;
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }

  function timeOfDay(date, zone) {
    var p = parts(date, zoneName(zone));
    return p.hour + ":" + two(p.minute);
  }
  /* A wait under a day, to the nearest minute, from the next whole hour to the nearest hour. */
  function ahead(seconds) {
    var minutes = Math.floor(seconds / MINUTE + 0.5);
    return minutes < 60 ? "in " + minutes + " min" : "in " + Math.floor(seconds / HOUR + 0.5) + " h";
  }
  function relative(date, now, zone) {
    var seconds = (now - date) / 1000;
    if (seconds > -JUST_NOW_AHEAD && seconds < JUST_NOW_PAST) return "just now";
    if (seconds >= JUST_NOW_PAST && seconds < HOUR) return Math.max(1, Math.floor(seconds / MINUTE)) + " min ago";
    if (seconds >= HOUR && seconds < DAY) return Math.floor(seconds / HOUR) + " h ago";
    if (seconds > -DAY && seconds <= -JUST_NOW_AHEAD) return ahead(-seconds);
    zone = zoneName(zone);
    return dated(parts(date, zone), parts(now, zone));
  }
  function point(date, now, zone) {
    zone = zoneName(zone);
    var local = parts(date, zone), today = parts(now, zone);
    if (local.epochDays === today.epochDays) return local.hour + ":" + two(local.minute);
    return dated(local, today);
  }
  function dated(local, today) {
    if (Math.abs(today.epochDays - local.epochDays) < WEEKDAY_DAYS) {
      return WEEKDAYS[local.weekday] + " " + local.hour + ":" + two(local.minute);
    }
    if (local.year === today.year) return local.day + " " + MONTHS[local.month - 1];
    return local.day + " " + MONTHS[local.month - 1] + " " + local.year;
  }
  function age(date, now) {
    var seconds = (now - date) / 1000;
    if (seconds < DAY) return relative(date, now, "UTC"); // under a day: no date is involved
    var days = Math.floor(seconds / DAY);
    var units = [[365, "year", 1], [30, "month", 2], [7, "week", 2], [1, "day", 1]];
    for (var i = 0; i < units.length; i++) {
      var size = units[i][0];
      if (days >= size * units[i][2]) {
        var n = Math.floor(days / size);
        return n + " " + units[i][1] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return days + " days ago";
  }
  function exact(date, zone) {
    zone = zoneName(zone);
    var p = parts(date, zone);
    return WEEKDAYS[p.weekday] + " " + p.day + " " + MONTHS[p.month - 1] + " " + p.year + ", " +
      p.hour + ":" + two(p.minute) + ":" + two(p.second) + " " + zone;
  }
  function day(date, zone) {
    var p = parts(date, zoneName(zone));
    return p.day + " " + MONTHS[p.month - 1] + " " + p.year;
  }

  /* How long someone has waited (inbox/timefmt.py, wait_length): "under 1 min", "5 min", "3 h", "2 d". */
  function wait(seconds) {
    if (seconds < JUST_NOW_PAST) return "under 1 min";
    if (seconds < HOUR) return Math.max(1, Math.floor(seconds / MINUTE)) + " min";
    if (seconds < 2 * DAY) return Math.floor(seconds / HOUR) + " h";
    return Math.floor(seconds / DAY) + " d";
  }

  var api = { relative: relative, point: point, age: age, exact: exact, timeOfDay: timeOfDay, day: day, wait: wait, zoneName: zoneName };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.HelpdeskTime = api;
})(this);

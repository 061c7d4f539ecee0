// The status page reads without this script; it only reloads the page every minute while it
// is visible, so that a wall display stays current.
"use strict";
setInterval(function () {
  if (document.visibilityState === "visible") {
    window.location.reload();
  }
}, 60000);

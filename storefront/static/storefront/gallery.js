// The product gallery: the pictures sit side by side in a scroll-snapping strip (swipe, scroll
// or use the arrow keys on it); a thumbnail brings its picture into view without moving the
// page, and the thumbnail of the picture in view is marked (aria-current). Without this script
// the thumbnails are plain links to #picture-N, which the browser scrolls to.
(function () {
  "use strict";
  const track = document.getElementById("gallery-track");
  if (!track) return;
  const thumbs = Array.from(document.querySelectorAll(".gallery-thumb"));
  const slides = Array.from(track.children);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function mark(index) {
    thumbs.forEach((thumb, i) => {
      if (i === index) thumb.setAttribute("aria-current", "true");
      else thumb.removeAttribute("aria-current");
    });
  }
  thumbs.forEach((thumb, i) => {
    thumb.addEventListener("click", (event) => {
      event.preventDefault();
      track.scrollTo({ left: slides[i].offsetLeft - track.offsetLeft, behavior: reduced ? "auto" : "smooth" });
      mark(i);
    });
  });
  let pending = 0;
  track.addEventListener("scroll", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => mark(Math.round(track.scrollLeft / track.clientWidth)));
  }, { passive: true });
})();

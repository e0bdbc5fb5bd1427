// Filter chunks by the words typed; keep the timeline in step; Enter on a block focuses its chunk.
(function () {
  const search = document.getElementById("search");
  const count = document.getElementById("count");
  const chunks = Array.from(document.querySelectorAll("article.chunk"));
  const blocks = Array.from(document.querySelectorAll("#timeline .block"));
  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    chunks.forEach(function (chunk, i) {
      const text = chunk.textContent.toLowerCase();
      const match = words.every(function (w) { return text.includes(w); });
      chunk.hidden = !match;
      if (blocks[i]) { blocks[i].classList.toggle("hidden", !match); }
      if (match) { shown += 1; }
    });
    count.textContent = words.length ? shown + " of " + chunks.length + " chunks" : "";
  }
  search.addEventListener("input", filter);
  blocks.forEach(function (block) {
    block.addEventListener("click", function () {
      const target = document.querySelector(block.getAttribute("href"));
      if (target) { setTimeout(function () { target.focus(); }, 0); }
    });
  });
  filter();
})();

// Keep each "time left" current without reloading: elements carry their deadline (UTC ISO).
function tick() {
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const ms = new Date(el.dataset.deadline) - new Date();
    const m = Math.floor(Math.abs(ms) / 60000);
    const text = `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
    el.textContent = ms < 0 ? `late by ${text}` : `${text} left`;
    el.classList.toggle("late", ms < 0);
  }
}
tick();
setInterval(tick, 30000);

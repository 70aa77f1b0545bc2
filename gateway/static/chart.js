// A small line chart on <canvas>: shares (0..1) over time, one line per series.
"use strict";

const CHART_COLORS = ["#2f6fed", "#1f9d55", "#d98b00", "#d64545", "#7c4dff", "#00a3bf", "#c2185b", "#5d6b7d"];

class LineChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
  }

  // series: [{name, color, width, points: [[epochSeconds, share], ...]}]; spanS: seconds on the x axis.
  // A null share (no requests then) breaks the line: a quiet stretch shows as a gap.
  draw(series, spanS) {
    const dpr = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    const c = this.ctx;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, width, height);

    const pad = {left: 44, right: 12, top: 10, bottom: 26};
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const tMax = Date.now() / 1000;
    const tMin = tMax - spanS;
    const x = (t) => pad.left + ((t - tMin) / spanS) * plotW;
    const y = (v) => pad.top + (1 - v) * plotH;

    c.font = "11px system-ui, sans-serif";
    c.lineWidth = 1;
    c.fillStyle = "#6b7483";
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (let v = 0; v <= 1.0001; v += 0.25) {
      c.strokeStyle = v === 0 ? "#c9cfd9" : "#eceff4";
      c.beginPath();
      c.moveTo(pad.left, y(v));
      c.lineTo(width - pad.right, y(v));
      c.stroke();
      c.fillText(`${Math.round(v * 100)}%`, pad.left - 6, y(v));
    }
    c.textAlign = "center";
    c.textBaseline = "top";
    const ticks = 5;
    for (let i = 0; i <= ticks; i++) {
      const t = tMin + (spanS * i) / ticks;
      c.fillText(new Date(t * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"}),
                 Math.min(Math.max(x(t), pad.left + 24), width - pad.right - 24), height - pad.bottom + 8);
    }

    for (const s of series) {
      const points = s.points.filter(([t]) => t >= tMin);
      if (!points.length) continue;
      c.strokeStyle = s.color;
      c.fillStyle = s.color;
      c.lineWidth = s.width || 2;
      c.lineJoin = "round";
      c.beginPath();
      let drawing = false;
      for (const [t, v] of points) {
        if (v === null) {
          drawing = false;
        } else {
          if (drawing) c.lineTo(x(t), y(v));
          else c.moveTo(x(t), y(v));
          drawing = true;
        }
      }
      c.stroke();
      for (const [t, v] of points) {
        if (v === null) continue;
        c.beginPath();
        c.arc(x(t), y(v), (s.width || 2) + 0.5, 0, Math.PI * 2);
        c.fill();
      }
    }
  }
}

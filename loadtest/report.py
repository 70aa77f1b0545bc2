"""Terminal tables for run summaries (the JSON form is `Summary.to_dict`)."""

from __future__ import annotations

from loadtest.metrics import LatencyStats, Summary


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def latency_table(rows: dict[str, LatencyStats]) -> list[str]:
    lines = [f"  {'latency (ms)':<12} {'n':>6} {'mean':>9} {'p50':>9} {'p90':>9} {'p95':>9} {'p99':>9} {'max':>9}"]
    for name, s in rows.items():
        cells = (_ms(v) for v in (s.mean, s.p50, s.p90, s.p95, s.p99, s.max))
        lines.append(f"  {name:<12} {s.count:>6} " + " ".join(f"{c:>9}" for c in cells))
    return lines


def format_summary(summary: Summary, title: str) -> str:
    s = summary
    errors = ", ".join(f"{cause}={n}" for cause, n in s.errors.items()) or "none"
    lines = [
        f"== {title} ==",
        f"  requests {s.requests}, ok {s.ok}, errors: {errors}",
        f"  throughput {s.throughput_rps:.2f} req/s, {s.output_tokens_per_s:.1f} output tok/s over {s.span_s:.1f} s",
        f"  goodput {s.goodput_rps:.2f} req/s ({s.goodput_requests}/{s.requests} = {_pct(s.goodput_fraction)} met their SLO)",
        *latency_table({"TTFT": s.ttft_s, "TPOT": s.tpot_s, "token gap": s.token_gap_s, "end-to-end": s.e2e_s}),
        f"  load generator send lag: p99 {_ms(s.send_lag_s.p99)} ms, max {_ms(s.send_lag_s.max)} ms",
    ]
    if s.hit_rate is None:
        lines.append("  cache: no x-semgate-cache header (not a semgate gateway)")
        return "\n".join(lines)
    outcomes = " ".join(f"{k}={v}" for k, v in s.cache_outcomes.items())
    fh = s.false_hits
    lines += [
        f"  cache: hit rate {_pct(s.hit_rate)} ({outcomes}); upstream tokens saved: "
        f"{s.saved_completion_tokens} completion, {s.saved_prompt_tokens} prompt",
        f"  false hits: {fh.false}/{fh.judged} judged = {_pct(fh.rate)} ({fh.unattributed} hits unattributed)",
        f"  {'category':<22} {'requests':>8} {'hits':>6} {'hit rate':>9}",
    ]
    for category, row in s.hits_by_category.items():
        lines.append(f"  {category:<22} {row['requests']:>8} {row['hits']:>6} {_pct(row['rate']):>9}")
    return "\n".join(lines)


def format_rate_sweep(rows: list[tuple[float, Summary]]) -> str:
    """One line per offered rate: how throughput, goodput and tail latency respond to load."""
    lines = [f"  {'rate':>7} {'req/s':>7} {'goodput':>8} {'SLO met':>8} {'p50 e2e':>9} {'p99 e2e':>9} {'hit rate':>9} {'errors':>7}"]
    for rate, s in rows:
        lines.append(
            f"  {rate:>7g} {s.throughput_rps:>7.2f} {s.goodput_rps:>8.2f} {_pct(s.goodput_fraction):>8} "
            f"{_ms(s.e2e_s.p50):>9} {_ms(s.e2e_s.p99):>9} {_pct(s.hit_rate):>9} {sum(s.errors.values()):>7}"
        )
    return "\n".join(["== rate sweep (latency in ms) ==", *lines])

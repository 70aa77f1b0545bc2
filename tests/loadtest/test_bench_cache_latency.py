"""`semgate bench cache-latency` at toy sizes: it times real hits (in process and over HTTP) and the HNSW figures."""

import json

from loadtest.__main__ import main

QUESTIONS = [
    ("How can I improve my English speaking skills?", "How do I improve my spoken English?"),
    ("What is the best way to learn guitar?", "How should I learn to play the guitar?"),
    ("How do I make a good cup of coffee?", "What is the way to make good coffee?"),
]


def test_latency_bench_times_hits_and_hnsw_search(tmp_path, capsys):
    qqp = tmp_path / "qqp.jsonl"
    rows = [{"a": a, "b": b, "duplicate": True, "split": "test"} for a, b in QUESTIONS]
    rows += [{"a": f"What is fact number {i} about rivers?", "b": f"Tell me thing {i} about lakes", "duplicate": False,
              "split": "dev"} for i in range(20)]
    qqp.write_text("\n".join(json.dumps(r) for r in rows))
    code = main(["bench", "cache-latency", "--qqp", str(qqp), "--entries", "200", "--hnsw-entries", "2000",
                 "--queries", "50", "--real-texts", "20", "--json", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    hits = result["cache_hits"]
    assert hits["entries"] == 200 and hits["lookups"] == 3 and hits["hit"]["count"] >= 1
    # Timings are the bench's to print, not the test's to judge: the test checks what was timed.
    assert {"p50_ms", "p90_ms", "p99_ms"} <= set(hits["hit"]) and "index_rebuild_s" in hits
    # The same lookups through the earlier embedding paths, interleaved, with the ratios against ours.
    assert set(hits["by_embedding_path"]) == {"onnx", "sentence-transformers", "onnx-fp32"}
    assert set(hits["speedup_vs"]) == {"sentence-transformers", "onnx-fp32"}
    assert all(set(x) == {"hit_p50", "cpu_p50", "embed_p50"} for x in hits["speedup_vs"].values())
    assert all(path["embed"]["count"] == 3 for path in hits["by_embedding_path"].values())
    # Over HTTP through a gateway the bench started, restarted on a store that the filler grew to 200 entries.
    http = result["http_hits"]
    assert http["entries"] == 200 and http["lookups"] == 3 and sum(http["x_semgate_cache"].values()) == 3
    assert "restart_with_rebuild_s" in http
    hnsw = result["hnsw"]
    assert hnsw["entries"] == 2000 and hnsw["search"]["count"] == 50 and hnsw["recall_at_1"] > 0.8
    assert hnsw["graph_bytes_per_1m"] > 1e9  # 384 float32 dims plus links: well over a GB per million


def test_the_http_gateway_keeps_every_entry_and_the_shipped_decisions(tmp_path):
    """The shipped per-category `max_entries` would evict the questions asked first once the filler is
    added (at 100k entries 22 of 1,000 lookups hit): the bench's copy raises capacity and nothing else."""
    import yaml

    from loadtest.benches.cache_latency import ROOT, _roomy_policies

    shipped = yaml.safe_load((ROOT / "config/policies.yaml").read_text())
    roomy = yaml.safe_load(_roomy_policies(str(tmp_path), 100_000).read_text())
    sections = [(shipped["defaults"], roomy["defaults"])] + list(zip(shipped["categories"], roomy["categories"],
                                                                     strict=True))
    assert any("max_entries" in before for before, _ in sections)
    for before, after in sections:
        if "max_entries" in before:
            assert after.pop("max_entries") >= 200_000
            before = {k: v for k, v in before.items() if k != "max_entries"}
        assert after == before
    assert {k: v for k, v in roomy.items() if k not in ("defaults", "categories")} == {
        k: v for k, v in shipped.items() if k not in ("defaults", "categories")}

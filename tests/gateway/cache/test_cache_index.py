"""The HNSW index: fingerprint filtering on both search paths, deletes, growth."""

import numpy as np

from gateway.cache.index import HnswParams, VectorIndex


def unit(rng, n, dim=384):
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_returns_only_the_query_fingerprint_whether_rare_or_common():
    rng = np.random.default_rng(0)
    index = VectorIndex(HnswParams(initial_capacity=16))
    vectors = unit(rng, 1200)
    # 1100 entries share one fingerprint (the graph walk), 100 carry a rare one (the exact scan).
    items = [(f"e{i}", "common" if i < 1100 else "rare", vectors[i]) for i in range(1200)]
    index.add("t", "c", items)
    query = vectors[1150] + 0.01 * unit(rng, 1)[0]
    rare = index.search("t", "c", query, "rare", k=3)
    assert rare[0].entry_id == "e1150" and all(int(n.entry_id[1:]) >= 1100 for n in rare)
    common = index.search("t", "c", vectors[7], "common", k=3)
    assert common[0].entry_id == "e7" and common[0].similarity > 0.999
    assert all(int(n.entry_id[1:]) < 1100 for n in common)
    assert index.search("t", "c", query, "unknown", k=3) == []
    assert index.search("other-tenant", "c", query, "rare", k=3) == []


def test_removed_entries_are_never_returned_and_their_slots_are_reused():
    rng = np.random.default_rng(1)
    index = VectorIndex(HnswParams(initial_capacity=8))
    vectors = unit(rng, 40)
    index.add("t", "c", [(f"e{i}", "fp", vectors[i]) for i in range(40)])
    assert index.remove("e3") and not index.remove("e3")
    assert all(n.entry_id != "e3" for n in index.search("t", "c", vectors[3], "fp", k=10))
    index.add("t", "c", [("new", "fp", vectors[3])])
    assert index.search("t", "c", vectors[3], "fp", k=1)[0].entry_id == "new"
    assert index.size("t", "c") == 40 and len(index) == 40


def test_the_index_grows_past_its_initial_capacity():
    rng = np.random.default_rng(2)
    index = VectorIndex(HnswParams(initial_capacity=4))
    vectors = unit(rng, 600)
    for i in range(600):
        index.add("t", "c", [(f"e{i}", "fp", vectors[i])])
    assert index.size("t", "c") == 600
    assert index.search("t", "c", vectors[599], "fp", k=1)[0].entry_id == "e599"


def test_a_namespace_search_ranks_every_category_together_and_stays_in_its_namespace():
    rng = np.random.default_rng(3)
    index = VectorIndex(HnswParams(initial_capacity=16))
    vectors = unit(rng, 30)
    index.add("t", "code", [(f"code{i}", "fp", vectors[i]) for i in range(10)])
    index.add("t", "general", [(f"general{i}", "fp", vectors[i]) for i in range(10, 20)])
    index.add("other-tenant", "code", [(f"other{i}", "fp", vectors[i]) for i in range(20, 30)])
    query = vectors[12] + 0.3 * vectors[3]
    found = index.search_namespace("t", query / np.linalg.norm(query), "fp", k=2)
    assert [n.entry_id for n in found] == ["general12", "code3"]
    assert not any(n.entry_id.startswith("other") for n in index.search_namespace("t", vectors[25], "fp", k=20))


def test_the_exact_scan_sees_every_add_and_delete_after_a_search():
    rng = np.random.default_rng(3)
    index = VectorIndex(HnswParams(initial_capacity=16))
    vectors = unit(rng, 40)
    index.add("t", "c", [(f"e{i}", "fp", vectors[i]) for i in range(20)])
    assert index.search("t", "c", vectors[5], "fp", k=1)[0].entry_id == "e5"  # the group's matrix is kept now
    index.add("t", "c", [("late", "fp", vectors[30])])
    assert index.search("t", "c", vectors[30], "fp", k=1)[0].entry_id == "late"
    index.remove("e5")
    assert all(n.entry_id != "e5" for n in index.search("t", "c", vectors[5], "fp", k=25))
    index.add("t", "c", [("e6", "fp", vectors[31])])  # replaced: the old vector no longer answers
    found = index.search("t", "c", vectors[31], "fp", k=1)[0]
    assert found.entry_id == "e6" and found.similarity > 0.999
    assert len(index.search("t", "c", vectors[0], "fp", k=100)) == 20


def test_the_search_breadth_follows_the_graph_size_and_covers_k():
    from gateway.cache.index import REFERENCE_SIZE, ef_for

    params = HnswParams(ef_search=64, ef_min=16, ef_max=512)
    assert ef_for(params, REFERENCE_SIZE, 8) == 64
    assert ef_for(params, REFERENCE_SIZE // 4, 8) == 32 and ef_for(params, 1000, 8) == ef_for(params, 0, 8) == 16
    assert ef_for(params, 1000, 20) == 20
    assert ef_for(params, 4 * REFERENCE_SIZE, 8) == 128 and ef_for(params, 10 * REFERENCE_SIZE, 8) == 202
    assert ef_for(params, 10_000 * REFERENCE_SIZE, 8) == 512
    assert ef_for(params, 10, 100) == 100


def test_a_namespace_search_on_two_threads_finds_what_one_thread_finds(monkeypatch):
    import gateway.cache.index as index_module

    rng = np.random.default_rng(5)
    vectors = unit(rng, 3000)
    index = VectorIndex()
    for c, category in enumerate(["a", "b", "c", "d", "e"]):  # 600 each: graph walks, not exact scans
        index.add("t", category, [(f"{category}{i}", "fp", vectors[c * 600 + i]) for i in range(600)])
    queries = vectors[::30] + 0.05 * unit(rng, 100)
    alone = [index.search_namespace("t", q, "fp", k=8) for q in queries]
    monkeypatch.setattr(index_module, "_PARALLEL_MIN_ENTRIES", 0)
    helped = [index.search_namespace("t", q, "fp", k=8) for q in queries]
    assert index._helper is not None  # the second thread did take part
    assert helped == alone
    index.close()
    assert index._helper is None and index.search_namespace("t", queries[0], "fp", k=8) == alone[0]

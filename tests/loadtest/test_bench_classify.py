"""`semgate bench classify` on a toy CLINC150-shaped data set: it embeds with the gateway's model,
classifies, and reports accuracy and the latency classification adds."""

import json

from loadtest.__main__ import main

TRAIN = {
    "play_music": ["play some jazz", "put on my workout playlist", "play the new album", "start the radio"],
    "weather": ["will it rain tomorrow", "how hot is it outside", "what's the forecast", "is it snowing"],
    "balance": ["how much money is in my account", "what is my checking balance", "show my savings",
                "do I have enough money"],
    "transfer": ["send 20 dollars to mom", "move money to savings", "transfer funds to my friend",
                 "wire money abroad"],
}
TEST = [("play something relaxing", "play_music"), ("is it going to be sunny", "weather"),
        ("what's my balance", "balance"), ("send money to john", "transfer")]


def test_classify_bench_reports_accuracy_and_latency(tmp_path, capsys):
    clinc = {"train": [[t, intent] for intent, texts in TRAIN.items() for t in texts],
             "test": [list(row) for row in TEST], "oos_test": [["how do I fix a flat tire", "oos"]]}
    (tmp_path / "clinc150.json").write_text(json.dumps(clinc))
    (tmp_path / "clinc150_domains.json").write_text(json.dumps({"home": ["play_music", "weather"],
                                                                "banking": ["balance", "transfer"]}))
    code = main(["bench", "classify", "--data", str(tmp_path), "--latency-queries", "4", "--out", str(tmp_path),
                 "--general", str(tmp_path / "absent.jsonl"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["setup"]["test_utterances"] == 4 and set(result["per_domain"]) == {"home", "banking"}
    assert result["accuracy"]["overall"] >= 0.75  # two far-apart domains: the embedding separates them
    # The latencies are the bench's to print; the test checks that they were measured and reported.
    reported = {"classify_p50_ms", "classify_p99_ms", "embedding_p50_ms", "classify_vs_embedding_p50"}
    assert reported <= set(result["latency"])


GENERAL = [("What is the capital of Peru?", "general_knowledge", "geography", "tune"),
           ("Who painted the Sistine Chapel ceiling?", "general_knowledge", "art", "tune"),
           ("What is Tesla's share price right now?", "finance", "stocks", "tune"),
           ("asdkj qwepo zmxn", "default", "nonsense", "tune"),
           ("How many moons does Mars have?", "general_knowledge", "space", "heldout"),
           ("Where is my parcel?", "personal", "orders", "heldout")]


def test_classify_bench_judges_our_everyday_questions_and_refits_the_calibration_on_the_tune_half(tmp_path, capsys):
    general = tmp_path / "general.jsonl"
    general.write_text("".join(json.dumps({"text": t, "category": c, "family": f, "split": s}) + "\n"
                               for t, c, f, s in GENERAL))
    code = main(["bench", "classify", "--no-clinc", "--general", str(general), "--fit-calibration", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)["general"]
    assert result["families"] == {"tune": 4, "heldout": 2}
    shipped = result["as_configured"]
    assert shipped["tune"]["questions"] == 4 and shipped["heldout"]["questions"] == 2
    for split in ("tune", "heldout"):
        judged = shipped[split]
        assert abs(judged["accuracy"] + judged["sent_to_default"] + judged["misrouted"] - 1.0) < 1e-9
    fitted = result["fitted_on_tune"]
    assert 0.0 < fitted["confidence_floor"] < 1.0 and set(fitted["calibration"]) == {"score", "margin", "bias"}
    assert fitted["heldout"]["questions"] == 2

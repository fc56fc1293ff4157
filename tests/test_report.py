"""The HTML report: content from a real small fit, and a real headless Chromium rendering it."""
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from bayes_utility.analyses.common import decimals_for, fmt_interval
from bayes_utility.cli import main
from bayes_utility.config import RunConfig
from bayes_utility.reporting.report import predictive_calibration
from bayes_utility.reporting.runfolder import load_run
from bayes_utility.reporting.tables import rank_table
from bayes_utility.workflow.fit import run_fit

ARTIFACTS = Path(os.environ.get("BAYES_UTILITY_ARTIFACTS", Path(__file__).resolve().parents[1] / "outputs" /
                                "test-artifacts"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from bayes_utility.data.simulate import random_truth, simulate_dataset

    rng = np.random.default_rng(77)
    data = simulate_dataset(random_truth(14, rng), rng, k_per_order=6, categories=["a", "b"] * 7)
    cfg = RunConfig(name="report-test", data={"path": "-"}, heldout={"fraction": 0.15, "seed": 1},
                    inference={"chains": 2, "warmup": 300, "draws": 300, "progress_bar": False})
    return run_fit(cfg, data=data, out=tmp_path_factory.mktemp("runs")).run_dir


def test_number_formatting():
    assert decimals_for(0.12) == 2 and decimals_for(1.5) == 1 and decimals_for(30) == 0
    assert fmt_interval(0.7968, 0.7288, 0.8475) == "0.80 [0.73, 0.85]"
    assert fmt_interval(12.3, 2.0, 40.0, prob=0.94) == "12 [2, 40] (94% interval)"


def test_rank_table_and_calibration_are_consistent(run_dir):
    idata = load_run(run_dir).idata
    ranks = rank_table(idata)
    assert len(ranks) == 14 and ranks["rank_lo"].min() >= 1 and ranks["rank_hi"].max() <= 14
    assert (ranks["rank_lo"] <= ranks["rank_median"]).all() and (ranks["rank_median"] <= ranks["rank_hi"]).all()
    assert ranks["p_top5"].sum() == pytest.approx(5.0)  # five outcomes are in the top 5 in every draw
    best = int(np.argmax(idata.posterior["utility"].mean(("chain", "draw")).values))
    assert ranks.iloc[0]["outcome_id"] == str(idata.posterior["outcome"].values[best])
    cal = predictive_calibration(idata)
    assert cal["comparisons"].sum() == int((idata.constant_data["n"] > 0).sum())
    assert (cal["predictive_lo"] <= cal["predictive_hi"]).all()
    assert cal["inside"].mean() >= 0.7  # a correct model on its own simulated data


def test_report_files_content(run_dir):
    html_path = run_dir / "report.html"  # written by the fit itself
    md_path = run_dir / "report.md"
    text = html_path.read_text()
    assert text.index("Can this fit be trusted?") < text.index("Utilities")  # verdict first
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 4  # forest, grouped forest, ranks, calibration
    assert "src=\"http" not in text and "<script" not in text  # self-contained
    visible = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert "Held-out pairs" in visible and "Provenance" in visible
    assert not re.search(r"\bnan\b", visible, re.IGNORECASE)
    md = md_path.read_text()
    for name in re.findall(r"\]\((report_assets/[^)]+)\)", md):
        assert (run_dir / name).stat().st_size > 1000
    # no point estimate without its interval: every utility cell is "mean [lo, hi]"
    cells = re.findall(r"<td>(-?\d+\.\d+ \[[^<]*)</td>", text)
    assert len(cells) >= 14 and all(re.fullmatch(r"-?\d+\.\d+ \[-?\d+\.\d+, -?\d+\.\d+\]", c) for c in cells)


def test_report_cli_compares_runs(run_dir, tmp_path, capsys):
    other = tmp_path / "copy"
    shutil.copytree(run_dir, other)
    assert main(["report", str(run_dir), str(other), "--out", str(tmp_path / "both")]) == 0
    text = (tmp_path / "both" / "report.html").read_text()
    assert "Model comparison (PSIS-LOO)" in text and "elpd_loo" in text
    assert main(["report", str(tmp_path / "nothing")]) == 2


def _browser():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (binary and driver):
        if os.environ.get("BAYES_UTILITY_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are required here but not installed")
        pytest.skip("chromium/chromedriver not installed (scripts/test.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_report_opens_in_headless_chromium(run_dir):
    drv = _browser()
    try:
        drv.get((run_dir / "report.html").resolve().as_uri())
        assert drv.execute_script("return document.readyState") == "complete"
        assert "report-test" in drv.title
        images = drv.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert len(images) == 4 and all(c and w > 100 and h > 100 for c, w, h in images), images
        severe = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
        # what a reader sees first: the verdict, its state as the run folder has it, then the utilities
        import json

        from selenium.webdriver.common.by import By

        ok = json.loads((run_dir / "diagnostics.json").read_text())["ok"]
        verdict = drv.find_element(By.CSS_SELECTOR, ".verdict")
        assert verdict.is_displayed() and verdict.text.startswith("PASS" if ok else "FAIL")
        assert ("pass" if ok else "fail") in verdict.get_attribute("class").split()
        table = drv.find_elements(By.TAG_NAME, "table")[0]
        head = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
        assert head[0] == "outcome" and head[-1].startswith("utility [94% HDI]"), head
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert len(rows) == 14 and all(re.fullmatch(r"-?\d+\.\d+ \[-?\d+\.\d+, -?\d+\.\d+\]", r[-1]) for r in rows)
        means = [float(r[-1].split()[0]) for r in rows]
        assert means == sorted(means, reverse=True)  # best first
        link = drv.find_element(By.LINK_TEXT, "summary.csv")
        assert link.get_attribute("href").endswith("/summary.csv")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "report.png"
        drv.get_screenshot_as_file(str(shot))
        assert shot.stat().st_size > 10_000
        # at phone width the page does not scroll sideways (wide tables scroll inside themselves)
        drv.set_window_size(480, 900)
        drv.refresh()
        width = drv.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        drv.get_screenshot_as_file(str(ARTIFACTS / "report_phone.png"))
    finally:
        drv.quit()


def test_long_utility_tables_show_a_gap_row_and_check_readings():
    """30 outcomes: the top and bottom 10 with a row saying how many are not shown; the
    calibration count read against Binomial(bins, prob)."""
    import pandas as pd

    from bayes_utility.reporting.doc import GAP_MARK
    from bayes_utility.reporting.report import _calibration_reading, _utility_rows

    summ = pd.DataFrame({"quantity": "utility", "outcome_id": [str(i) for i in range(30)],
                         "text": [f"o{i}" for i in range(30)], "category": "", "mean": np.linspace(1, -1, 30),
                         "hdi_3%": np.linspace(1, -1, 30) - 0.2, "hdi_97%": np.linspace(1, -1, 30) + 0.2})
    rows = _utility_rows(summ, 0.94)
    assert len(rows) == 21 and rows.iloc[10]["outcome"].startswith(GAP_MARK)
    assert "10 outcomes not shown" in rows.iloc[10]["outcome"] and rows.iloc[9]["outcome"] == "o9"
    assert rows.iloc[11]["outcome"] == "o20"
    assert _calibration_reading(9, 10, 0.94).startswith("as expected")
    assert _calibration_reading(6, 10, 0.94).startswith("fewer than")  # P(X <= 6) = 0.003


def test_report_without_categories(tmp_path):
    from bayes_utility.data.simulate import random_truth, simulate_dataset

    rng = np.random.default_rng(8)
    data = simulate_dataset(random_truth(6, rng), rng, k_per_order=4)  # no categories
    # outcome texts that would run or link when the Markdown is rendered, were they copied raw
    from bayes_utility.data.dataset import PreferenceData

    hostile = ["<script>alert(1)</script> cake", "[win](javascript:alert(2))", "<img src=x onerror=alert(3)>",
               "a | b ``` c", "*bold* _it_", "plain"]
    data = PreferenceData.from_tables(data.outcomes.assign(text=hostile), counts=data.counts)
    cfg = RunConfig(name="plain", data={"path": "-"},
                    inference={"chains": 2, "warmup": 150, "draws": 150, "progress_bar": False})
    run = run_fit(cfg, data=data, out=tmp_path).run_dir
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", (run / "report.html").read_text())
    assert text.count("<img") == 3  # no grouped forest plot without categories
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    md = (run / "report.md").read_text()
    for raw in ("<script", "<img src=x"):
        assert raw not in md and raw not in text, raw
    assert not re.search(r"(?<!\\)\]\(javascript", md)  # a link only where the bracket is unescaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; cake" in md and "\\[win\\](javascript:alert(2))" in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; cake" in text  # the HTML shows the text as text


def test_compare_cli_thurstonian_vs_bradley_terry(run_dir, tmp_path, capsys):
    import pandas as pd

    from bayes_utility.data.simulate import random_truth, simulate_dataset

    # a Bradley-Terry fit of the same comparisons: the fixture's data (same seed), split and pooling
    rng = np.random.default_rng(77)
    data = simulate_dataset(random_truth(14, rng), rng, k_per_order=6, categories=["a", "b"] * 7)
    cfg = RunConfig(name="report-test-bt", data={"path": "-"}, heldout={"fraction": 0.15, "seed": 1},
                    model={"name": "bradley_terry"}, output={"report": False},
                    inference={"chains": 2, "warmup": 300, "draws": 300, "progress_bar": False})
    bt = run_fit(cfg, data=data, out=tmp_path).run_dir
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(bt), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "elpd_loo" in printed and "Pareto k > 0.7" in printed
    table = pd.read_csv(out / "comparison.csv", index_col="run")
    assert set(table.index) == {run_dir.name, bt.name}
    assert table["weight"].sum() == pytest.approx(1.0) and (table["elpd_diff"] >= 0).all()
    assert (out / "report.html").exists()
    # runs on other observations are refused with a reason
    other = RunConfig(name="other", data={"path": "-"}, output={"report": False},
                      inference={"chains": 2, "warmup": 100, "draws": 100, "progress_bar": False})
    rng2 = np.random.default_rng(5)
    odir = run_fit(other, data=simulate_dataset(random_truth(14, rng2), rng2, k_per_order=3), out=tmp_path).run_dir
    assert main(["compare", str(run_dir), str(odir)]) == 2
    assert "other observations" in capsys.readouterr().err

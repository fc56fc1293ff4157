"""Config parsing: typed, frozen, unknown keys rejected."""
from pathlib import Path

import pytest

from bayes_utility.config import (
    CalibrationConfig,
    ConfigError,
    ElicitConfig,
    RunConfig,
    ServerConfig,
    dump_config,
    load_calibration_config,
    load_config,
    load_elicit_config,
    load_models_file,
)

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_shipped_configs_validate():
    paths = sorted((ROOT / "inference_configs").glob("*.yaml"))
    assert paths, "no configs shipped"
    for p in paths:
        if p.name.startswith("sbc_"):  # calibration recipes
            assert isinstance(load_calibration_config(p), CalibrationConfig)
        elif p.name.startswith("elicit_"):  # elicitation recipes
            assert isinstance(load_elicit_config(p), ElicitConfig)
        elif p.name.startswith("models"):  # models files
            models = load_models_file(p)
            assert models and all(isinstance(m, ServerConfig) for m in models.values())
        else:
            assert isinstance(load_config(p), RunConfig)


@pytest.mark.parametrize(
    "text, where",
    [
        ("name: x\ndata: {path: d}\nmodle: {}\n", "modle"),
        ("name: x\ndata: {path: d, unparsable: half}\n", "data.unparsable"),
        ("name: x\ndata: {path: d}\ninference: {chians: 4}\n", "inference.chians"),
    ],
)
def test_unknown_keys_rejected(tmp_path, text, where):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    assert where in str(exc.value)
    assert "Extra inputs are not permitted" in str(exc.value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: x\ndata: {path: d, unparseable: drop}\n", "data.unparseable"),
        ("name: x\ndata: {path: d}\ninference: {chains: 0}\n", "inference.chains"),
        ("name: x\ndata: {path: d}\ninference: {target_accept: 1.5}\n", "inference.target_accept"),
        ("name: x\ndata: {path: d}\nmodel: {name: logistic}\n", "model.name"),
        ("name: x\ndata: {path: d}\nmodel: {priors: {utility_scael: 1}}\n", "unknown prior hyper-parameter"),
        ("name: ../x\ndata: {path: d}\n", "plain folder name"),
        ("name: x\n", "data"),
        ("- a\n- b\n", "mapping at the top level"),
        ("name: [x\n", "not valid YAML"),
    ],
)
def test_bad_values_rejected(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=None) as exc:
        load_config(write(tmp_path, text))
    assert fragment in str(exc.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="no such config file"):
        load_config("/nonexistent/c.yaml")


def test_frozen_and_overrides(tmp_path):
    cfg = load_config(write(tmp_path, "name: x\ndata: {path: d}\n"))
    with pytest.raises(Exception):
        cfg.name = "y"
    cfg2 = cfg.with_overrides(inference={"chains": 2}, data={"path": "e"})
    assert cfg2.inference.chains == 2 and cfg2.data.path == "e" and cfg.inference.chains == 4
    again = load_config(write(tmp_path, dump_config(cfg2)))
    assert again == cfg2


def test_models_file_errors_name_the_entry_and_field(tmp_path):
    p = tmp_path / "models.yaml"
    p.write_text("models:\n  good: {base_url: 'http://127.0.0.1:1/v1', model: m}\n"
                 "  bad: {base_url: 'ftp://127.0.0.1/v1', model: m, concurency: 2}\n")
    with pytest.raises(ConfigError) as err:
        load_models_file(p)
    assert "models.bad.base_url" in str(err.value) and "models.bad.concurency" in str(err.value)
    p.write_text("good: {base_url: 'http://127.0.0.1:1/v1', model: m}\n")
    with pytest.raises(ConfigError, match="top-level key 'models'"):
        load_models_file(p)
    p.write_text("models:\n  good: {base_url: 'http://127.0.0.1:1/v1', model: m}\n")
    assert load_models_file(p)["good"].label == "good"

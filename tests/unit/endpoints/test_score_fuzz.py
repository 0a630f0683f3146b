"""Fuzzing the scoring scripts with Hypothesis: whatever a client sends, endpoints/online/score.py answers 2xx or
4xx (never 5xx: an exception out of run() is the server's 500), a 2xx answer is valid JSON, and what it collected
is exactly the rows it answered, as whole JSON lines of scalars; endpoints/batch/score.py scores a fuzzed CSV file
or raises its one-line BadFile, nothing else.

Both online deployments are tested with the environment variables azure-ai-ml loads from blue.yml and green.yml
(the way `mlops serve` reads them), against a small model of the sample data's columns (conftest.py). Examples are
bounded and derandomized, so a run is repeatable and the file takes seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from scoring_scripts import (
    ENDPOINTS,
    ID_COLUMN,
    REPO,
    collected_rows,
    flask_request,
    init_script,
    operational_records,
    reset_collected,
    sample,
    served,
)


def fuzz(examples: int) -> settings:
    """Bounded and repeatable: a fixed number of derandomized examples, no example database (nothing written)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


COLUMNS = sample()["input_data"]["columns"]


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory):
    """Hypothesis caches under ./.hypothesis by default: under pytest's tmp dir instead (tests never write into
    the repo)."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module", params=["blue.yml", "green.yml"])
def deployment(request, diabetes_model, tmp_path_factory) -> SimpleNamespace:
    """score.py initialised with a deployment's environment variables, as azure-ai-ml loads them."""
    from mlops.targets.local.online import Deployment

    loaded = Deployment.from_yaml(ENDPOINTS / "online" / request.param)
    assert loaded.code_dir == ENDPOINTS and loaded.scoring_script == "online/score.py"
    collect = tmp_path_factory.mktemp(f"collected-{loaded.name}")
    env = {
        **loaded.environment_variables,
        "AZUREML_MODEL_DIR": str(diabetes_model.version_dir),
        "MLOPS_COLLECT_DIR": str(collect),
    }
    script = init_script(loaded.scoring_script, f"online_score_fuzz_{loaded.name}", env)
    assert script.service.id_column == ID_COLUMN  # the deployments pass the id through
    return SimpleNamespace(script=script, collect=collect, variables=loaded.environment_variables)


def exchange(deployment: SimpleNamespace, body: bytes) -> tuple[int, dict]:
    """Send one request; check the answer and what was collected for it. Returns the status and the answer."""
    reset_collected(deployment.collect)
    response = served(deployment.script, flask_request(body))  # an exception here is a 500 from the server
    status = response.status_code
    event(f"HTTP {status}")
    assert 200 <= status < 300 or 400 <= status < 500, status
    answer = json.loads(response.get_data())
    if status < 300:
        answered = len(answer["predictions"])
        assert answered >= 1
        assert all(0 <= p <= 1 for p in answer["probability"])
        assert all(isinstance(i, int | str) for i in answer.get("ids", []))
    else:
        answered = 0
        assert isinstance(answer["error"], str) and answer["error"] and "\n" not in answer["error"]
    assert len(collected_rows(deployment.collect)) == answered
    assert len(collected_rows(deployment.collect, "model_outputs")) == answered
    records = operational_records(deployment.collect)  # every answer, whatever its status
    assert [r["status"] for r in records] == [status]
    assert records[0]["deployment"] == "unknown" and records[0]["latency_ms"] >= 0
    return status, answer


# Text, with lone surrogates (valid JSON escapes, not valid Unicode) and the model's own column names.
TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.sampled_from([*COLUMNS, "input_data", "columns", "data", "index"]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and +-Infinity included: json.dumps writes them as the NaN/Infinity tokens
    TEXT,
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=16
)


@fuzz(50)
@given(value=JSON, wrap=st.sampled_from(["body", "input_data", "split data", "records"]))
def test_arbitrary_json_gets_2xx_or_4xx(deployment, value, wrap) -> None:
    if wrap == "input_data":
        value = {"input_data": value}
    elif wrap == "split data":
        value = {"input_data": {"columns": COLUMNS, "data": value}}
    elif wrap == "records":
        value = {"input_data": [value]}
    status, _ = exchange(deployment, json.dumps(value).encode())
    assert status != 200 or wrap in ("split data", "records")  # a whole request cannot come from these


# Numbers and strings a client might craft, as raw JSON tokens (NaN, 1e999 and 5000 digits cannot come from dumps).
ADVERSARIAL = st.one_of(
    st.sampled_from(
        [
            *("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e308", "-1e308", "1e15", "1e16", "-0", "-0.0"),
            *("1e-400", "5e-324", "1E+15", "0.1e16", str(2**63 - 1), str(2**63), str(-(2**63)), "true", "false"),
            *("null", '""', '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"é"', "[]", "{}", "[1]", '"1"'),
            '{"a": [1, {"b": 2}]}',
        ]
    ),
    st.integers(min_value=16, max_value=5000).map(lambda digits: "-" * (digits % 2) + "9" * digits),
    st.floats().map(lambda f: json.dumps(f)),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    TEXT.map(json.dumps),
)
# Values a column may hold (numbers within the bound, text of any kind but lone surrogates, null), so that many
# crafted requests are answered and collected too.
ALLOWED = st.one_of(
    st.floats(min_value=-1e15, max_value=1e15).map(json.dumps),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.text(max_size=12).map(json.dumps),
    st.just("null"),
)


@fuzz(70)
@given(
    cells=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(COLUMNS), ADVERSARIAL | ALLOWED | ALLOWED), min_size=1, max_size=3
    ),
    records=st.booleans(),
    dropped=st.sampled_from([None, None, None, ID_COLUMN, "bmi"]),
)
def test_crafted_values_in_valid_requests_get_2xx_or_4xx_naming_the_column(deployment, cells, records, dropped):
    body = sample()
    data = body["input_data"]
    for number, (row, column, _) in enumerate(cells):
        data["data"][row][COLUMNS.index(column)] = f"@CELL{number}@"
    if records:
        body["input_data"] = [dict(zip(data["columns"], row, strict=True)) for row in data["data"]]
    if dropped:
        for row in body["input_data"] if records else []:
            row.pop(dropped)
        if not records:
            index = data["columns"].index(dropped)
            data["columns"].pop(index)
            for row in data["data"]:
                row.pop(index)
    text = json.dumps(body)
    for number, (_, _, token) in enumerate(cells):
        text = text.replace(f'"@CELL{number}@"', token)
    status, answer = exchange(deployment, text.encode())
    if status != 200:
        named = [c for _, c, _ in cells] + ([dropped] if dropped else [])
        assert status == 400 and any(f"column '{c}'" in answer["error"] for c in named), answer["error"]


@fuzz(12)
@given(
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from(["[", '{"a": ', '{"input_data": ']),
    where=st.sampled_from(["body", "input_data", "cell"]),
    balanced=st.booleans(),
)
def test_deep_nesting_gets_4xx_or_an_answer(deployment, depth, opener, where, balanced) -> None:
    closer = "]" if opener == "[" else "1}" if opener == '{"a": ' else "[]}"
    nested = opener * depth + (closer * depth if balanced else "")
    if where == "body":
        text = nested
    elif where == "input_data":
        text = '{"input_data": ' + nested + "}"
    else:
        body = sample()
        body["input_data"]["data"][0][COLUMNS.index("bmi")] = "@CELL@"
        text = json.dumps(body).replace('"@CELL@"', nested)
    status, _ = exchange(deployment, text.encode())
    if depth > 8:
        assert status == 400


@fuzz(8)
@given(excess=st.integers(min_value=-2, max_value=2), rows=st.sampled_from([1, 999, 1000, 1001]))
def test_bodies_at_the_size_and_row_limits(deployment, excess, rows) -> None:
    """The default body limit (the deployments set none) and the deployment's MAX_ROWS_PER_REQUEST."""
    limit = deployment.script.DEFAULT_MAX_BYTES
    assert "MAX_REQUEST_BYTES" not in deployment.variables
    max_rows = int(deployment.variables["MAX_ROWS_PER_REQUEST"])
    body = sample()
    body["input_data"]["data"] = (body["input_data"]["data"] * rows)[:rows]
    body["input_data"]["index"] = list(range(rows))
    text = json.dumps(body).encode()
    assert exchange(deployment, text)[0] == (200 if rows <= max_rows else 413)
    padded = text + b" " * (limit - len(text) + excess)
    assert exchange(deployment, padded)[0] == (413 if excess > 0 else 200 if rows <= max_rows else 413)


# Number tokens of every shape JSON allows: long integer parts, long fractions, long exponents.
NUMBER_TOKENS = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e308", "2e308", "9" * 19, "9" * 20, "1" + "0" * 400 + ".5"]),
)


@fuzz(300)
@given(tokens=st.lists(NUMBER_TOKENS, min_size=1, max_size=6))
def test_numbers_parse_the_same_without_the_strict_hooks_when_the_body_needs_none(deployment, tokens) -> None:
    """score.py parses a body with json.loads' C number parsing unless needs_strict_numbers finds a token the
    strict hooks might refuse: any body it lets through parses to the same values, none of them refused."""
    script = deployment.script
    body = ("[" + ", ".join(tokens) + "]").encode()
    strict = json.loads(body, **script.STRICT_NUMBERS)
    if script.needs_strict_numbers(body, script.JSON_STRING.sub(b"", body)):
        event("strict")
        return
    event("fast")
    assert not any(isinstance(value, script.Rejected) for value in strict)
    assert json.loads(body) == strict


# --- batch ----------------------------------------------------------------------------------------------------------

ROWS = pd.read_csv(REPO / "data" / "production" / "baseline.csv", nrows=4)
CSV_TOKENS = st.one_of(
    st.sampled_from(
        [
            *("inf", "-inf", "NaN", "nan", "Infinity", "1e999", "-1e999", "", " ", "true", "1e15", "1e16", "9" * 30),
            *("9" * 5000, '"', '","', "\n", '"a\nb"', "é", "\x00", "1,2", "abc", "#", "N/A", "0x10", "1_000", "٣"),
        ]
    ),
    st.text(max_size=8),
    st.floats().map(repr),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
)


@pytest.fixture(scope="module")
def batch(diabetes_model) -> SimpleNamespace:
    """batch/score.py with the batch deployment's variables, as the local driver reads them."""
    from mlops.targets.local.batch import BatchSettings

    loaded = BatchSettings.from_yaml(ENDPOINTS / "batch" / "deployment.yml")
    env = {**loaded.environment_variables, "AZUREML_MODEL_DIR": str(diabetes_model.version_dir)}
    return init_script(loaded.scoring_script, "batch_score_fuzz", env)


@fuzz(60)
@given(
    cells=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(list(ROWS.columns)), CSV_TOKENS), max_size=4),
    garbage=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_fuzzed_csv_is_scored_or_refused_with_one_clear_line(batch, tmp_path_factory, cells, garbage) -> None:
    frame = ROWS.astype(object)
    for number, (row, column, _) in enumerate(cells):
        frame.loc[row, column] = f"@CELL{number}@"
    content = frame.to_csv(index=False).encode()
    for number, (_, _, token) in enumerate(cells):
        content = content.replace(f"@CELL{number}@".encode(), token.encode("utf-8", "surrogatepass"))
    if garbage is not None:
        content += garbage
    path = Path(tmp_path_factory.mktemp("fuzz")) / "in.csv"
    path.write_bytes(content)
    try:
        output = batch.run([str(path)])
    except batch.BadFile as error:
        message = str(error)
        assert message.startswith("in.csv") and "\n" not in message, message
        return
    assert len(output) >= 1
    assert all(isinstance(i, int | str) for i in output[ID_COLUMN].map(lambda v: v.item() if hasattr(v, "item") else v))
    assert all(math.isfinite(p) and 0 <= p <= 1 for p in output["probability"])
